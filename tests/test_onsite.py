"""No request ever leaves the site: links, redirects, meta refreshes, sitemaps from
robots.txt and from an index, and the frontier of a resumed crawl all stay on it.

Two local servers: the audited site, and "another site" that every kind of reference
points to. The other site must receive no request at all.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from tests.conftest import run_cli, serve

pytestmark = pytest.mark.e2e
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def page(title: str, body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body><main>"
            f"<h1>{title}</h1><p>Un texte de la page {title}.</p>{body}</main></body></html>")


def write_sites(tmp_path, other_url: str):
    other = tmp_path / "other"
    site = tmp_path / "site"
    for root in (other, site):
        root.mkdir(exist_ok=True)
    (other / "index.html").write_text(page("Autre", ""), "utf-8")
    (other / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset {NS}><url><loc>{other_url}index.html</loc></url></urlset>')
    links = "".join(f'<a href="{href}">{href}</a> ' for href in (
        "a.html", "refresh.html", "away.html", f"{other_url}index.html",
        f"{other_url}deep/page.html", "//" + other_url.split("//")[1] + "x.html"))
    (site / "index.html").write_text(page("Accueil", links), "utf-8")
    (site / "a.html").write_text(page("A", '<a href="index.html">retour</a>'), "utf-8")
    (site / "b.html").write_text(page("B", '<a href="a.html">A</a>'), "utf-8")
    (site / "refresh.html").write_text(
        page("Refresh", "", f'<meta http-equiv="refresh" content="0; url={other_url}r.html">'))
    (site / "moved.html").write_text(
        page("Moved", "", '<meta http-equiv="refresh" content="0;URL=\'b.html\'">'))
    (site / "_routes.txt").write_text(f"301 /away.html {other_url}index.html\n")
    (site / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nSitemap: {other_url}sitemap.xml\n"
        "Sitemap: {{BASE}}/sitemap_index.xml\n")
    (site / "sitemap_index.xml").write_text(
        f'<?xml version="1.0"?><sitemapindex {NS}>'
        f"<sitemap><loc>{other_url}sitemap.xml</loc></sitemap>"
        "<sitemap><loc>{{BASE}}/pages.xml</loc></sitemap></sitemapindex>")
    (site / "pages.xml").write_text(
        f'<?xml version="1.0"?><urlset {NS}><url><loc>{{{{BASE}}}}/moved.html</loc></url>'
        f"<url><loc>{other_url}from-sitemap.html</loc></url></urlset>")
    return site


def requests_in(log) -> list[str]:
    return [line for line in log.read_text().splitlines() if '"GET ' in line or '"HEAD ' in line]


def test_no_request_leaves_the_site_even_on_resume(tmp_path):
    other_log = tmp_path / "other.log"
    other_root = tmp_path / "other"
    other_root.mkdir()  # served before its pages exist: they name its URL
    other = serve(other_root, log=other_log)
    site = None
    try:
        site_root = write_sites(tmp_path, other.base_url)
        site = serve(site_root)
        work = tmp_path / "work"
        work.mkdir()
        result = run_cli("crawl", site.url("index.html"), "--store", "s.sqlite", "--delay", "0",
                         "--quiet", cwd=work)
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(work / "s.sqlite") as conn:
            pages = pd.read_sql_query("SELECT url, status, redirect_to, found_via FROM pages",
                                      conn).set_index("url")
            external_targets = conn.execute(
                "SELECT COUNT(*) FROM links WHERE target LIKE ?", (other.base_url + "%",)
            ).fetchone()[0]
            # Pretend the crawl was killed: resume rebuilds its frontier from stored links.
            conn.execute("UPDATE crawls SET state = 'interrupted', finished_at = NULL")
        assert external_targets >= 3
        resumed = run_cli("crawl", site.url("index.html"), "--store", "s.sqlite", "--delay", "0",
                          "--quiet", "--resume", cwd=work)
        assert resumed.returncode == 0, resumed.stderr
    finally:
        other.process.terminate()
        other.process.wait(timeout=10)
        if site is not None:
            site.process.terminate()
    assert requests_in(other_log) == []
    # The meta refreshes are redirect hops with a row, like any redirect.
    assert pages.loc[site.url("refresh.html"), "redirect_to"] == other.base_url + "r.html"
    assert pages.loc[site.url("moved.html"), "redirect_to"] == site.url("b.html")
    assert site.url("b.html") in pages.index
    assert pages.loc[site.url("b.html"), "found_via"] == "redirect"

