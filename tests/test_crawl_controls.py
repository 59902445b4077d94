"""Crawl controls as a user runs them: list mode, include / exclude patterns, headers,
cookies and basic auth from the environment, sitemap-only crawls, the depth and user-agent
flags, exit codes in --help, and what a bare `scrapy crawl` says at its end.

Every crawl is a `linkaudit` subprocess against a small site served on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, serve
from tests.test_cli import run_in_process

pytestmark = pytest.mark.e2e

PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
        "</head><body><main><h1>{title}</h1><p>{body}</p></main></body></html>")
FAST = "[crawl]\ndelay = 0\nautothrottle = false\nconcurrency = 4\n"


def write_site(root: Path) -> Path:
    """index -> a, b, tag/x; a -> deep; orphan -> b; the sitemap lists orphan and b."""
    pages = {
        "index.html": ("Home", 'See <a href="a.html">A</a>, <a href="b.html">B</a> and '
                       '<a href="tag/x.html">a tag page</a>.'),
        "a.html": ("Page A", 'Back <a href="index.html">home</a>, on to '
                   '<a href="deep.html">the deep page</a>.'),
        "b.html": ("Page B", "No links here."),
        "deep.html": ("Deep", 'Only a link <a href="index.html">home</a>.'),
        "tag/x.html": ("Tag X", "A tag page."),
        "orphan.html": ("Orphan", 'No link leads here; it links to <a href="b.html">B</a>.'),
    }
    for path, (title, body) in pages.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(PAGE.format(title=title, body=body), encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\nSitemap: {{BASE}}/sitemap.xml\n")
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{BASE}}/orphan.html</loc></url><url><loc>{{BASE}}/b.html</loc></url>"
        "</urlset>")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    served = serve(write_site(tmp_path_factory.mktemp("controls") / "site"))
    yield served
    served.process.terminate()
    served.process.wait(timeout=10)


def crawl(work: Path, *args: str, config: str = FAST):
    work.mkdir(parents=True, exist_ok=True)
    (work / "fast.toml").write_text(config, encoding="utf-8")
    return run_cli("crawl", *args, "--store", "store.sqlite", "--config", "fast.toml",
                   "--quiet", cwd=work)


def fetched(site, work: Path) -> dict[str, tuple]:
    """Path -> (status, depth, found_via) of every page the crawl recorded."""
    conn = sqlite3.connect(work / "store.sqlite")
    rows = conn.execute("SELECT url, status, depth, found_via FROM pages").fetchall()
    conn.close()
    return {url.removeprefix(site.base_url.rstrip("/")): tuple(rest) for url, *rest in rows}


def link_targets(site, work: Path) -> set[str]:
    conn = sqlite3.connect(work / "store.sqlite")
    rows = conn.execute("SELECT DISTINCT target FROM links").fetchall()
    conn.close()
    return {row[0].removeprefix(site.base_url.rstrip("/")) for row in rows if row[0]}


def crawl_row(work: Path) -> tuple[dict, dict]:
    conn = sqlite3.connect(work / "store.sqlite")
    settings, stats = conn.execute("SELECT settings_json, stats_json FROM crawls").fetchone()
    conn.close()
    return json.loads(settings), json.loads(stats or "{}")


# -- list mode ----------------------------------------------------------------------------

def test_list_mode_fetches_only_the_listed_urls(site, tmp_path):
    (tmp_path / "urls.txt").write_text(
        f"# pages to check\n{site.url('b.html')}\n\n   \n{site.url('a.html')}\n"
        f"# {site.url('deep.html')}\n", encoding="utf-8")
    result = crawl(tmp_path, "--urls", "urls.txt")
    assert result.returncode == 0, result.stderr
    assert fetched(site, tmp_path) == {"/b.html": (200, 0, "start"),
                                       "/a.html": (200, 0, "list")}
    assert "/deep.html" in link_targets(site, tmp_path)  # recorded as a link, not fetched


def test_list_mode_follow_1_fetches_the_linked_pages_and_stops_there(site, tmp_path):
    (tmp_path / "urls.txt").write_text(site.url("a.html") + "\n", encoding="utf-8")
    result = crawl(tmp_path, "--urls", "urls.txt", "--follow", "1")
    assert result.returncode == 0, result.stderr
    pages = fetched(site, tmp_path)
    assert pages == {"/a.html": (200, 0, "start"), "/index.html": (200, 1, "link"),
                     "/deep.html": (200, 1, "link")}  # not b.html: two levels away


def test_a_url_list_line_that_is_no_url_is_a_one_line_error_naming_it(tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:9/a.html\n# ok\nwww.example.com/b\n")
    code, _, err = run_in_process("crawl", "--urls", str(urls), "--store", str(tmp_path / "s"))
    assert code == 2
    assert err.startswith(f"linkaudit: error: {urls} line 3: URL 'www.example.com/b' "
                          "must begin with http://")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_a_url_list_and_a_start_url_together_are_refused(tmp_path):
    (tmp_path / "urls.txt").write_text("http://127.0.0.1:9/a.html\n")
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--urls",
                                  str(tmp_path / "urls.txt"))
    assert (code, err.count("\n")) == (2, 1)
    assert "not both" in err


# -- include / exclude, depth, user agent --------------------------------------------------

def test_exclude_and_max_depth_keep_urls_out_but_recorded_as_links(site, tmp_path):
    result = crawl(tmp_path, site.url("index.html"), "--exclude", r"/tag/",
                   "--exclude", r"^.*/b\.html$", "--max-depth", "1")
    assert result.returncode == 0, result.stderr
    work, served = tmp_path, site
    pages = fetched(served, work)
    assert set(pages) == {"/index.html", "/a.html", "/orphan.html"}  # deep.html: depth 2
    assert pages["/a.html"] == (200, 1, "link")
    assert {"/tag/x.html", "/b.html", "/deep.html"} <= link_targets(served, work)
    settings, stats = crawl_row(work)
    assert settings["crawl"]["exclude"] == ["/tag/", r"^.*/b\.html$"]
    assert settings["crawl"]["max_depth"] == 1
    assert stats["linkaudit/excluded"] == 2  # tag/x.html and b.html (linked, in the sitemap)
    assert stats["linkaudit/cut/max_depth"] == 1


def test_include_fetches_only_matching_urls_but_always_the_start_url(site, tmp_path):
    result = crawl(tmp_path, site.url("index.html"), "--include", r"/a\.html$",
                   "--include", "deep")
    assert result.returncode == 0, result.stderr
    assert set(fetched(site, tmp_path)) == {"/index.html", "/a.html", "/deep.html"}


def test_a_bad_pattern_is_a_one_line_error_naming_it(tmp_path):
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--exclude", "ok",
                                  "--exclude", "a(b", "--store", str(tmp_path / "s"))
    assert code == 2
    assert err.startswith("linkaudit: error: [crawl] exclude pattern 'a(b' is not "
                          "a valid regular expression")
    assert len(err.strip().splitlines()) == 1
    (tmp_path / "bad.toml").write_text('[crawl]\ninclude = ["[unclosed"]\n')
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--config",
                                  str(tmp_path / "bad.toml"))
    assert code == 2
    assert "include pattern '[unclosed'" in err
    assert not (tmp_path / "s").exists()


# -- sitemap-only --------------------------------------------------------------------------

def test_sitemap_only_crawls_the_listed_urls_and_follows_no_link(site, tmp_path):
    result = crawl(tmp_path, site.url("index.html"), "--sitemap-only")
    assert result.returncode == 0, result.stderr
    assert fetched(site, tmp_path) == {"/index.html": (200, 0, "start"),
                                       "/orphan.html": (200, None, "sitemap"),
                                       "/b.html": (200, None, "sitemap")}
    assert "/a.html" in link_targets(site, tmp_path)  # linked from index.html, not fetched


# -- headers, cookies, basic auth ----------------------------------------------------------

class Recorder(BaseHTTPRequestHandler):
    """A site behind basic auth that records the headers of every request."""

    pages: dict[str, str] = {}
    seen: list[tuple[str, dict[str, str]]] = []
    password = ""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        expected = "Basic " + base64.b64encode(f"audit:{self.password}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="staging"')
            self.end_headers()
            return
        body = self.pages.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write((body or "").encode())


def start_recorder(pages: dict[str, str], password: str) -> ThreadingHTTPServer:
    handler = type("Handler", (Recorder,), {"pages": pages, "seen": [], "password": password})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_headers_cookies_auth_and_user_agent_reach_only_the_site_and_no_secret_is_stored(
        tmp_path, monkeypatch):
    other = start_recorder({}, "x")  # another site, linked from the staging site
    other_url = f"http://127.0.0.1:{other.server_address[1]}/"
    pages = {"/": PAGE.format(title="Staging", body=f'<a href="/b.html">B</a> '
                              f'<a href="{other_url}">elsewhere</a>'),
             "/b.html": PAGE.format(title="B", body="Behind the login.")}
    staging = start_recorder(pages, "s3cret-pw")
    base = f"http://127.0.0.1:{staging.server_address[1]}/"
    monkeypatch.setenv("LA_TEST_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("LA_TEST_TOKEN", "tok-4242")
    config = FAST + ('headers = {X-Staging-Key = "${LA_TEST_TOKEN}", X-Plain = "visible"}\n'
                     'cookies = {session = "cookie-9876"}\n'
                     'auth_user = "audit"\nauth_password_env = "LA_TEST_PASSWORD"\n')
    try:
        result = crawl(tmp_path, base, "--user-agent", "ControlsBot/2.0", config=config)
    finally:
        staging.shutdown()
        other.shutdown()
    assert result.returncode == 0, result.stderr
    seen = dict(staging.RequestHandlerClass.seen)
    assert set(seen) >= {"/", "/b.html", "/robots.txt"}
    for headers in seen.values():
        assert headers["x-staging-key"] == "tok-4242"
        assert headers["x-plain"] == "visible"
        assert headers["cookie"] == "session=cookie-9876"
        assert headers["authorization"].startswith("Basic ")
        assert headers["user-agent"] == "ControlsBot/2.0"
    assert other.RequestHandlerClass.seen == []  # no request, so no credential, left the site
    store = (tmp_path / "store.sqlite").read_bytes()
    for secret in (b"s3cret-pw", b"tok-4242", b"cookie-9876",
                   base64.b64encode(b"audit:s3cret-pw")):
        assert secret not in store
    settings, _ = crawl_row(tmp_path)
    assert settings["crawl"]["headers"] == {"X-Staging-Key": "${LA_TEST_TOKEN}",
                                            "X-Plain": "(hidden)"}
    assert settings["crawl"]["cookies"] == {"session": "(hidden)"}
    assert settings["crawl"]["auth_password_env"] == "LA_TEST_PASSWORD"


def test_a_secret_missing_from_the_environment_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.delenv("LA_TEST_MISSING", raising=False)
    (tmp_path / "auth.toml").write_text('[crawl]\nauth_user = "audit"\n'
                                        'auth_password_env = "LA_TEST_MISSING"\n')
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--config",
                                  str(tmp_path / "auth.toml"), "--store", str(tmp_path / "s"))
    assert code == 2
    assert err == ("linkaudit: error: [crawl] auth_password_env names the "
                   "environment variable LA_TEST_MISSING, which is not set\n")
    (tmp_path / "h.toml").write_text('[crawl]\ncookies = {sid = "${LA_TEST_MISSING}"}\n')
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--config",
                                  str(tmp_path / "h.toml"))
    assert code == 2
    assert "[crawl] cookies sid names the environment variable LA_TEST_MISSING" in err
    assert not (tmp_path / "s").exists()


def test_the_frontier_carries_the_new_options_without_the_password():
    from linkaudit.crawler.frontier import options_from
    from linkaudit.crawler.options import CrawlOptions

    options = CrawlOptions(include=("/blog/",), exclude=("/tag/",), urls=("http://a.test/",),
                           follow=1, sitemap_only=False, headers={"X-Key": "${KEY}"},
                           cookies={"sid": "${SID}"}, auth_user="audit",
                           auth_password_env="AUDIT_PASSWORD")
    shared = json.dumps(options.as_setting())  # what begin_crawl puts in Redis
    assert options_from(json.loads(shared)) == options
    assert "AUDIT_PASSWORD" in shared and "Basic" not in shared


# -- help and a bare `scrapy crawl` --------------------------------------------------------

def test_help_lists_the_exit_codes_and_the_new_flags():
    code, top, _ = run_in_process("--help")
    assert code == 0 and "exit codes" in top
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130 "):
        assert f"\n  {code}" in top
    code, crawl_help, _ = run_in_process("crawl", "--help")
    for flag in ("--urls", "--follow", "--include", "--exclude", "--sitemap-only",
                 "--max-depth", "--user-agent"):
        assert flag in crawl_help


def test_scrapy_crawl_ends_with_the_store_and_the_report_command(site, tmp_path):
    (tmp_path / "scrapy.cfg").write_text((REPO / "scrapy.cfg").read_text())
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "site", "-a",
         f"start_url={site.url('b.html')}", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "ROBOTSTXT_OBEY=0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    store = f"reports/{site.base_url.split('//')[1].rstrip('/').replace(':', '_')}/crawls.sqlite"
    assert (tmp_path / store).is_file()
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == f"crawl 1 (complete) stored in {store}"
    assert lines[-1] == f"write its reports: linkaudit analyze 1 --store {store}"
