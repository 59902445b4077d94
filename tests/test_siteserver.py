"""The local site server that serves the demo and the test sites."""

from __future__ import annotations

import gzip
import http.client
from urllib.parse import urlsplit

import pytest

from linkaudit.siteserver import parse_routes, serve_in_thread


@pytest.fixture
def server(tmp_path):
    (tmp_path / "index.html").write_text("<html><body>Accueil</body></html>")
    (tmp_path / "dossier").mkdir()
    (tmp_path / "dossier" / "index.html").write_text("<html>Dossier</html>")
    (tmp_path / "robots.txt").write_text("Sitemap: {{BASE}}/sitemap.xml\n")
    (tmp_path / "sitemap.xml").write_text("<urlset><url><loc>{{BASE}}/</loc></url></urlset>")
    (tmp_path / "_routes.txt").write_text(
        "# comment\n301 /ancien.html /index.html\n500 /panne.html\ntrap /calendrier/\n")
    running = serve_in_thread(tmp_path)
    yield running
    running.shutdown()


def get(server, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def test_binds_loopback_on_a_port_the_os_picked(server):
    parts = urlsplit(server.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port > 0


def test_folders_serve_their_index(server):
    assert get(server, "/dossier/")[2] == b"<html>Dossier</html>"


def test_routes_answer_redirects_and_errors(server):
    status, headers, _ = get(server, "/ancien.html")
    assert (status, headers["Location"]) == (301, "/index.html")
    assert get(server, "/panne.html")[0] == 500
    assert get(server, "/absent.html")[0] == 404


def test_base_placeholder_is_replaced_in_robots_and_sitemaps(server):
    base = server.base_url.rstrip("/")
    assert get(server, "/robots.txt")[2].decode() == f"Sitemap: {base}/sitemap.xml\n"
    assert base in get(server, "/sitemap.xml")[2].decode()


def test_gzipped_sitemap_is_made_from_the_plain_one(server):
    status, _, body = get(server, "/sitemap.xml.gz")
    assert status == 200
    assert server.base_url.rstrip("/") in gzip.decompress(body).decode()


def test_conditional_request_gets_304(server):
    _, headers, _ = get(server, "/index.html")
    status, _, body = get(server, "/index.html", {"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    status, _, _ = get(server, "/index.html",
                       {"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304


def test_trap_pages_link_ever_deeper(server):
    body = get(server, "/calendrier/7/")[2].decode()
    assert "/calendrier/8/" in body


def test_files_outside_the_folder_and_route_files_are_not_served(server):
    assert get(server, "/../../etc/passwd")[0] == 404
    assert get(server, "/_routes.txt")[0] == 404


def test_a_bad_routes_line_names_its_line_number():
    with pytest.raises(ValueError, match="line 2"):
        parse_routes("301 /a /b\ndelay soon /x\n")
