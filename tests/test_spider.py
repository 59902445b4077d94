"""The spider end to end against small sites served on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli, serve

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
</head><body><header><nav><a href="/index.html">Accueil</a></nav></header>
<main><h1>{title}</h1><p>{body}</p></main>
<footer><a href="/mentions.html">Mentions</a></footer></body></html>"""


def write_site(root: Path) -> Path:
    pages = {
        "index.html": ("Accueil", 'Lire <a href="a.html">la page A</a>, '
                       '<a href="ancien.html">un ancien lien</a>, <a href="boucle-1.html">'
                       'une boucle</a>, <a href="manquant.html">un lien mort</a>, '
                       '<a href="erreur.html">une erreur</a>, <a href="coupe.html">une coupure'
                       '</a>, <a href="/prive/x.html">le privé</a>, '
                       '<a href="b.html?utm_source=news">B suivi</a>, '
                       '<a href="mailto:x@example.org">un courriel</a>, '
                       '<a href="https://ailleurs.example/">un site externe</a>.'),
        "a.html": ("Page A", 'Retour à <a href="index.html#haut">l’accueil</a> et '
                   '<a href="b.html">B</a>.'),
        "b.html": ("Page B", "Une page sans lien sortant du contenu."),
        "mentions.html": ("Mentions", "Mentions légales."),
        "orpheline.html": ("Orpheline", "Aucun lien ne mène ici."),
        "prive/x.html": ("Privé", "Interdit aux robots."),
    }
    for path, (title, body) in pages.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(PAGE.format(title=title, body=body), encoding="utf-8")
    (root / "robots.txt").write_text(
        "User-agent: *\nDisallow: /prive/\nSitemap: {{BASE}}/sitemap_index.xml\n")
    (root / "sitemap_index.xml").write_text(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>{{BASE}}/pages.xml.gz</loc></sitemap></sitemapindex>")
    (root / "pages.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{BASE}}/orpheline.html</loc></url>"
        "<url><loc>{{BASE}}/a.html</loc></url></urlset>")
    (root / "_routes.txt").write_text(
        "301 /ancien.html /etape.html\n302 /etape.html /b.html\n"
        "301 /boucle-1.html /boucle-2.html\n301 /boucle-2.html /boucle-1.html\n"
        "500 /erreur.html\ndrop /coupe.html\n")
    return root


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("spider")
    served = serve(write_site(tmp_path / "site"))
    work = tmp_path / "work"
    work.mkdir()
    try:
        result = run_cli("crawl", served.url("index.html"), "--store", "store.sqlite",
                         "--delay", "0", "--concurrency", "4", "--quiet", cwd=work)
    finally:
        served.process.terminate()
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(work / "store.sqlite")
    yield served, conn, result
    conn.close()


def pages_by_path(served, conn) -> dict[str, tuple]:
    rows = conn.execute("SELECT url, status, error, redirect_to, depth, found_via, "
                        "blocked_by_robots FROM pages").fetchall()
    return {row[0].removeprefix(served.base_url.rstrip("/")): row[1:] for row in rows}


def test_every_reachable_url_is_requested_once(crawled):
    served, conn, _ = crawled
    pages = pages_by_path(served, conn)
    assert set(pages) == {
        "/index.html", "/a.html", "/b.html", "/mentions.html", "/orpheline.html",
        "/ancien.html", "/etape.html", "/boucle-1.html", "/boucle-2.html", "/manquant.html",
        "/erreur.html", "/coupe.html", "/prive/x.html"}
    total = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    assert total == len(pages)


def test_orphan_found_through_gzipped_sitemap_index(crawled):
    served, conn, _ = crawled
    status, _, _, depth, found_via, _ = pages_by_path(served, conn)["/orpheline.html"]
    assert (status, depth, found_via) == (200, None, "sitemap")


def test_pages_reached_by_links_keep_their_click_depth(crawled):
    served, conn, _ = crawled
    pages = pages_by_path(served, conn)
    assert pages["/index.html"][3] == 0
    assert pages["/a.html"][3] == 1  # also in the sitemap, but a link reaches it first
    assert pages["/b.html"][3] == 1  # through the tracking link, normalised


def test_robots_disallowed_page_is_recorded_not_fetched(crawled):
    served, conn, _ = crawled
    status, error, _, _, _, blocked = pages_by_path(served, conn)["/prive/x.html"]
    assert (status, blocked) == (None, 1)
    assert "robots" in error


def test_redirect_hops_are_recorded_one_by_one(crawled):
    served, conn, _ = crawled
    pages = pages_by_path(served, conn)
    assert pages["/ancien.html"][0] == 301
    assert pages["/ancien.html"][2] == served.url("etape.html")
    assert pages["/etape.html"][0] == 302
    assert pages["/etape.html"][4] == "redirect"
    assert pages["/boucle-2.html"][2] == served.url("boucle-1.html")
    hops = conn.execute("SELECT COUNT(*) FROM redirects").fetchone()[0]
    assert hops == 4


@pytest.mark.parametrize("path,status,error_word", [
    ("/manquant.html", 404, None), ("/erreur.html", 500, None), ("/coupe.html", None, "Error")])
def test_failures_are_recorded(crawled, path, status, error_word):
    served, conn, _ = crawled
    row = pages_by_path(served, conn)[path]
    assert row[0] == status
    if error_word:
        assert error_word in row[1]


def test_every_link_occurrence_is_recorded_with_position(crawled):
    served, conn, _ = crawled
    rows = conn.execute("SELECT position, COUNT(*) FROM links GROUP BY position").fetchall()
    counts = dict(rows)
    # 5 pages with a nav and a footer link each (the 404/500 bodies have none); the
    # index has 10 content links, a.html 2.
    assert counts == {"nav": 5, "footer": 5, "content": 12}
    targets = {r[0] for r in conn.execute(
        "SELECT target FROM links WHERE source LIKE '%/index.html' AND position='content'")}
    assert served.url("b.html") in targets  # utm_source stripped
    assert None in targets  # mailto kept as an occurrence, with no target
    assert "https://ailleurs.example/" in targets


def test_external_links_are_never_requested(crawled):
    _, conn, _ = crawled
    hosts = {r[0].split("/")[2] for r in conn.execute("SELECT url FROM pages")}
    assert len(hosts) == 1


def test_crawl_is_marked_complete(crawled):
    _, conn, result = crawled
    state, reason = conn.execute("SELECT state, finish_reason FROM crawls").fetchone()
    assert (state, reason) == ("complete", "finished")
    assert "13 pages" in result.stdout


def test_max_pages_limits_the_crawl(tmp_path, site_server, cli):
    served = site_server(write_site(tmp_path / "site"))
    result = cli("crawl", served.url("index.html"), "--store", "s.sqlite", "--max-pages", "3",
                 "--delay", "0", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == 3


def test_trap_is_bounded_by_max_depth(tmp_path, site_server, cli):
    root = tmp_path / "trap"
    root.mkdir()
    (root / "index.html").write_text(PAGE.format(
        title="Calendrier", body='<a href="/calendrier/1/">mois suivant</a>'))
    (root / "_routes.txt").write_text("trap /calendrier/\n")
    served = site_server(root)
    config = tmp_path / "c.toml"
    config.write_text("[crawl]\nmax_depth = 5\ndelay = 0\nsitemaps = false\n")
    result = cli("crawl", served.url("index.html"), "--store", "s.sqlite", "--config",
                 str(config), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    depths = [r[0] for r in conn.execute("SELECT depth FROM pages WHERE url LIKE '%calendrier%'")]
    assert max(depths) == 5
    assert len(depths) == 5


def test_latin1_page_is_decoded_from_its_meta_charset(tmp_path, site_server, cli):
    root = tmp_path / "latin"
    root.mkdir()
    html = ('<html><head><meta charset="iso-8859-1"><title>Spasticité</title></head>'
            "<body><main><h1>Élévation</h1><p>Un traitement éprouvé.</p></main></body></html>")
    (root / "index.html").write_bytes(html.encode("latin-1"))
    served = site_server(root)
    result = cli("crawl", served.url("index.html"), "--store", "s.sqlite", "--quiet",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT title FROM pages").fetchone()[0] == "Spasticité"
    assert conn.execute("SELECT text FROM headings").fetchone()[0] == "Élévation"


def test_scrapy_crawl_command_works_from_the_repository_root(tmp_path, site_server):
    import subprocess
    import sys

    from tests.conftest import REPO

    served = site_server(write_site(tmp_path / "site"))
    store = tmp_path / "scrapy.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "site", "-a",
         f"start_url={served.url('index.html')}", "-s", f"LINKAUDIT_STORE={store}",
         "-s", "DOWNLOAD_DELAY=0"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT state FROM crawls").fetchone()[0] == "complete"
    assert conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == 13


def test_progress_is_reported_in_plain_lines_when_not_on_a_terminal(tmp_path, site_server):
    served = site_server(write_site(tmp_path / "site"))
    result = run_cli("crawl", served.url("index.html"), "--store", "s.sqlite", "--delay", "0",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("crawled ")]
    assert lines and "\r" not in result.stderr
    assert lines[-1].startswith("crawled 13 pages, 0 queued, 3 errors")
    assert "pages/s" in lines[-1]


def test_progress_line_shows_done_queued_errors_and_rate():
    from linkaudit.crawler.extensions import progress_line

    assert progress_line(120, 30, 4, 60.0) == (
        "crawled 120 pages, 30 queued, 4 errors, 2.0 pages/s, 60s")


def test_slow_page_is_recorded_as_timed_out(tmp_path, site_server, cli):
    root = tmp_path / "slow"
    root.mkdir()
    (root / "index.html").write_text(PAGE.format(title="Accueil",
                                                 body='<a href="lent.html">lent</a>'))
    (root / "lent.html").write_text(PAGE.format(title="Lent", body="Enfin."))
    (root / "_routes.txt").write_text("delay 4 /lent.html\n")
    served = site_server(root)
    config = tmp_path / "c.toml"
    config.write_text("[crawl]\ntimeout = 1.0\ndelay = 0\nsitemaps = false\n")
    result = cli("crawl", served.url("index.html"), "--store", "s.sqlite", "--config",
                 str(config), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    status, error = conn.execute(
        "SELECT status, error FROM pages WHERE url LIKE '%lent.html'").fetchone()
    assert status is None
    assert "Timeout" in error


def test_garbage_bytes_are_recorded_without_losing_the_page(tmp_path, site_server, cli):
    root = tmp_path / "garbage"
    root.mkdir()
    (root / "index.html").write_bytes(b"\x00\xff\xfe<html><body><a href='x.html'>\x81\x8d"
                                      b"</a><h1>\xc3\x28</h1></body" + bytes(range(256)))
    served = site_server(root)
    result = cli("crawl", served.url("index.html"), "--store", "s.sqlite", "--quiet",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT status FROM pages WHERE url LIKE '%index.html'"
                        ).fetchone()[0] == 200
