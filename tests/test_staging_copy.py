"""A staging copy of a site: canonicals, links and sitemaps name the production host."""

from __future__ import annotations

import pandas as pd
import pytest

from linkaudit.analysis.load import detect_production_host, rehost_urls
from linkaudit.crawler.urls import rehost

pytestmark = pytest.mark.e2e
PROD = "https://www.prod.example"
ARTICLE = (
    "<p>Le baclofène agit sur les récepteurs GABA-B de la moelle épinière et réduit la "
    "spasticité des patients atteints de sclérose en plaques. {extra}</p>"
)


def page(path: str, links: list[str], extra: str = "") -> str:
    anchors = " ".join(f'<a href="{href}">{href}</a>' for href in links)
    return (
        f'<!DOCTYPE html><html lang="fr"><head><title>Page {path}</title>'
        f'<link rel="canonical" href="{PROD}/{path}"></head><body>'
        f'<nav><a href="/">Accueil</a></nav><main><h1>Page {path}</h1>'
        f"{ARTICLE.format(extra=extra) * 3}<p>{anchors}</p></main></body></html>"
    )


@pytest.fixture
def staging_site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(page("", ["a.html", f"{PROD}/b.html"]), "utf-8")
    (root / "a.html").write_text(page("a.html", ["index.html", "b.html"], "Alpha."), "utf-8")
    (root / "b.html").write_text(page("b.html", ["a.html"], "Bêta."), "utf-8")
    (root / "c.html").write_text(page("c.html", ["a.html"], "Gamma."), "utf-8")
    (root / "orphan.html").write_text(page("orphan.html", [], "Orphelin."), "utf-8")
    (root / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nSitemap: {PROD}/sitemap_index.xml\n"
        "Sitemap: https://elsewhere.example/sitemap.xml\n", "utf-8")
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    (root / "sitemap_index.xml").write_text(
        f'<?xml version="1.0"?><sitemapindex {ns}><sitemap><loc>{PROD}/pages.xml</loc>'
        "</sitemap></sitemapindex>", "utf-8")
    (root / "pages.xml").write_text(
        f'<?xml version="1.0"?><urlset {ns}>'
        + "".join(f"<url><loc>{PROD}/{p}</loc></url>" for p in ("", "a.html", "orphan.html"))
        + "</urlset>", "utf-8")
    return root


def read(out, name):
    return pd.read_csv(out / name, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_a_copy_is_detected_and_audited_as_the_production_site(staging_site, site_server,
                                                                  cli, tmp_path):
    served = site_server(staging_site)
    result = cli("run", served.url("index.html"), "--store", "s.sqlite", "--out", "out",
                 "--delay", "0", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "looks like a copy of that site" in result.stdout
    assert "--alias www.prod.example" in result.stdout
    out = tmp_path / "out"
    findings = read(out, "findings.csv")
    assert (findings["category"] == "staging_copy").sum() == 1
    pages = read(out, "pages.csv")
    # "/", a.html and b.html name themselves once read on this host; index.html names "/".
    assert sorted(pages.loc[pages["indexable"] == "true", "url"]) == [
        served.url(""), served.url("a.html"), served.url("b.html")]
    # The off-host sitemaps were not fetched, so the orphan stays unknown.
    assert not pages["url"].str.endswith("orphan.html").any()
    assert "sitemap on another host, not read" in result.stderr


def test_declared_alias_reads_its_sitemaps_and_links(staging_site, site_server, cli, tmp_path):
    served = site_server(staging_site)
    result = cli("run", served.url("index.html"), "--store", "s.sqlite", "--out", "out",
                 "--delay", "0", "--quiet", "--alias", "www.prod.example", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    pages = read(out, "pages.csv").set_index("url")
    orphan = served.url("orphan.html")
    assert orphan in pages.index
    assert pages.loc[orphan, "canonical"] == orphan
    findings = read(out, "findings.csv")
    assert "staging_copy" not in set(findings["category"])
    assert orphan in set(findings.loc[findings["category"] == "orphan_page", "url"])
    links = read(out, "links.csv")
    absolute = links[(links["source"] == served.url("index.html"))
                     & links["target"].str.endswith("b.html")]
    assert list(absolute["target"]) == [served.url("b.html")]
    assert list(absolute["internal"]) == ["true"]
    # Only the alias is read as this site: the other host's sitemap was never fetched.
    assert "elsewhere.example/sitemap.xml" in result.stderr


def test_rehost_moves_only_alias_urls() -> None:
    origin = "http://127.0.0.1:8000"
    assert rehost(f"{PROD}/a?x=1", {"prod.example"}, origin) == f"{origin}/a?x=1"
    assert rehost("https://other.example/a", {"prod.example"}, origin) == "https://other.example/a"
    urls = pd.Series([f"{PROD}/a", None, "https://other.example/b"])
    moved = rehost_urls(urls, frozenset({"www.prod.example"}), origin)
    assert moved.tolist()[0] == f"{origin}/a" and moved.isna().tolist()[1]
    assert moved.tolist()[2] == "https://other.example/b"


def test_detection_needs_most_canonicals_on_one_host() -> None:
    def frame(canonicals):
        urls = [f"http://127.0.0.1:8000/p{i}" for i in range(len(canonicals))]
        return pd.DataFrame({"url": urls, "status": 200, "is_html": True,
                             "canonical": [c.format(i=i) for i, c in enumerate(canonicals)]})

    found = detect_production_host(frame([f"{PROD}/p{{i}}"] * 4 + ["http://127.0.0.1:8000/p4"]))
    assert (found.host, found.pages, found.of_pages) == ("www.prod.example", 4, 5)
    assert detect_production_host(frame([f"{PROD}/p{{i}}"] * 2 + ["/x"] * 3)) is None
    # Canonicals to another host but another path: syndication, not a copy.
    assert detect_production_host(frame([f"{PROD}/original"] * 5)) is None
