"""build_audit and its parts on a small hand-made crawl (no store, no network)."""

from __future__ import annotations

import pandas as pd
import pytest

from linkaudit.analysis.audit import AuditSettings, build_audit, first_h1, offtopic_table
from linkaudit.analysis.load import CrawlFrames, indexable_mask
from linkaudit.analysis.promo import default_rules

SITE = "https://clinic.test"
TOPIC_TEXT = {
    "spasticite": "La spasticité raidit les muscles après une lésion de la moelle épinière. "
                  "Le baclofène agit sur les récepteurs GABA et réduit la spasticité musculaire "
                  "et les spasmes des patients atteints de sclérose en plaques.",
    "sclerose": "La sclérose en plaques atteint la moelle épinière et le cerveau. La spasticité "
                "et les spasmes musculaires sont fréquents; le baclofène réduit la raideur des "
                "muscles et les spasmes douloureux des patients.",
    "moelle": "Une lésion de la moelle épinière entraîne spasticité, spasmes et raideur des "
              "muscles. La rééducation et le baclofène soulagent les patients paralysés "
              "après la lésion médullaire.",
    "rides": "Les injections d'acide hyaluronique comblent les rides du visage et redonnent "
             "du volume aux lèvres. Le gel hyaluronique hydrate la peau ridée; chaque séance "
             "d'injection dure trente minutes.",
    "levres": "Les injections des lèvres au gel d'acide hyaluronique redonnent du volume. La "
              "peau des lèvres et les rides autour de la bouche sont comblées en une séance "
              "d'injection de gel.",
    "peau": "Le gel d'acide hyaluronique hydrate la peau et efface les rides. Les injections "
            "du visage, des lèvres et des cernes se font en une séance courte avec un gel "
            "résorbable.",
}


def url(path: str) -> str:
    return f"{SITE}/{path}"


def page_row(path: str, status: int = 200, redirect_to: str | None = None,
             title: str | None = None) -> dict:
    html = status == 200
    return {"url": url(path), "status": status, "error": None,
            "redirect_to": url(redirect_to) if redirect_to else None,
            "content_type": "text/html", "response_time": 0.1, "size": 1000,
            "depth": 1, "found_via": "link", "referrer": None,
            "title": title or (path.capitalize() if html else None),
            "meta_description": "Description." if html else None, "meta_robots": None,
            "x_robots_tag": None, "canonical": None, "lang": "fr" if html else None,
            "word_count": 300 if html else None, "content_hash": path if html else None,
            "etag": None, "last_modified": None, "blocked_by_robots": False, "is_html": html,
            "fetched_at": "2026-01-01T00:00:00+00:00", "not_modified": False,
            "internal": True, "noindex": ""}


def link_row(source: str, target: str, order: int, anchor: str, context: str = "",
             href: str | None = None) -> dict:
    return {"source": url(source), "ord": order, "href": href or target, "target": url(target),
            "anchor": anchor, "rel": "", "position": "content",
            "context": context or f"Lire {anchor}.", "paragraph": context or f"Lire {anchor}.",
            "is_image": False}


@pytest.fixture(scope="module")
def crawl() -> CrawlFrames:
    pages = pd.DataFrame([page_row(p) for p in TOPIC_TEXT]
                         + [page_row("ancien", 301, "etape"), page_row("etape", 302, "rides"),
                            page_row("absent", 404)])
    pages["status"] = pages["status"].astype("Int64")
    pages["depth"] = pages["depth"].astype("Int64")
    pages["word_count"] = pages["word_count"].astype("Int64")
    pages["indexable"] = indexable_mask(pages) & pages["internal"]
    links = pd.DataFrame([
        link_row("spasticite", "sclerose", 0, "sclérose en plaques"),
        link_row("spasticite", "ancien", 1, "injections",
                 "Pour en savoir plus, consultez notre article sur les injections."),
        link_row("spasticite", "absent", 2, "un article disparu"),
        link_row("sclerose", "moelle", 0, "lésions de la moelle"),
        link_row("moelle", "spasticite", 0, "spasticité"),
        link_row("rides", "levres", 0, "lèvres"),
        link_row("levres", "peau", 0, "peau"),
        link_row("peau", "rides", 0, "rides"),
    ])
    links["internal"] = True
    headings = pd.DataFrame(
        [{"url": url(p), "ord": 0, "level": 1, "text": p.upper(), "in_main": True}
         for p in TOPIC_TEXT] + [{"url": url("peau"), "ord": 1, "level": 1, "text": "Encore",
                                  "in_main": True}])
    sections = pd.DataFrame([{"url": url(p), "ord": 0, "level": 1, "heading": p.upper(),
                              "text": text} for p, text in TOPIC_TEXT.items()])
    redirects = pd.DataFrame(columns=["url", "status", "location"])
    return CrawlFrames(crawl_id=1, site="clinic", start_url=url("spasticite"),
                       started_at="2026-01-01", finished_at="2026-01-01", state="complete",
                       pages=pages, links=links, headings=headings,
                       sections=sections, redirects=redirects)


@pytest.fixture(scope="module")
def audit(crawl):
    return build_audit(crawl, AuditSettings(), default_rules())


def test_redirect_to_is_the_final_url_of_the_chain(audit):
    pages = audit.pages.set_index("url")
    assert pages.loc[url("ancien"), "redirect_to"] == url("rides")
    assert pages.loc[url("etape"), "redirect_to"] == url("rides")


def test_h1_and_h1_count_come_from_the_headings(audit):
    pages = audit.pages.set_index("url")
    assert pages.loc[url("peau"), "h1"] == "PEAU"
    assert pages.loc[url("peau"), "h1_count"] == 2
    assert pd.isna(pages.loc[url("absent"), "h1_count"])


def test_inlinks_and_click_depth(audit):
    pages = audit.pages.set_index("url")
    assert pages.loc[url("sclerose"), "inlinks"] == 1
    assert pages.loc[url("spasticite"), "depth"] == 0
    assert pages.loc[url("moelle"), "depth"] == 2
    assert pages.loc[url("rides"), "depth"] == 1  # through the redirect chain


def test_link_through_a_redirect_is_judged_on_the_page_it_lands_on(audit):
    links = audit.links.set_index(["source", "ord"])
    cta = links.loc[(url("spasticite"), 1)]
    assert cta["landing"] == url("rides")
    assert cta["off_topic"] and cta["promotional"]
    assert "cta_phrase" in cta["promo_reason"]
    assert not links.loc[(url("spasticite"), 0), "off_topic"]


def test_broken_link_has_its_status_and_no_relevance(audit):
    links = audit.links.set_index(["source", "ord"])
    broken = links.loc[(url("spasticite"), 2)]
    assert broken["target_status"] == 404
    assert pd.isna(broken["relevance"]) and not broken["off_topic"]


def test_findings_hold_the_expected_categories(audit):
    categories = set(audit.findings["category"])
    assert {"broken_link", "redirect_chain", "multiple_h1", "off_topic_link",
            "promotional_link"} <= categories


def test_offtopic_table_lists_promotional_links_first():
    links = pd.DataFrame({
        "source": ["a", "a", "b"], "target": ["x", "y", "z"], "landing": ["x", "y", "z"],
        "anchor": ["1", "2", "3"], "context": ["", "", ""], "ord": [0, 1, 0],
        "promotional": [False, True, False], "relevance": [0.1, 0.2, 0.05],
        "off_topic": [True, True, False], "why": ["", "", ""],
        "suggested_targets": ["", "", ""], "promo_reason": ["", "cta_phrase", ""]})
    pages = pd.DataFrame({"url": ["a", "x", "y"], "title": ["A", "X", "Y"]})
    table = offtopic_table(links, pages)
    assert list(table["target"]) == ["y", "x"]
    assert list(table["target_title"]) == ["Y", "X"]


def test_first_h1_counts_every_h1():
    headings = pd.DataFrame({"url": ["a", "a", "b"], "ord": [1, 0, 0], "level": [1, 1, 2],
                             "text": ["second", "first", "sub"]})
    result = first_h1(headings)
    assert result.loc["a", "h1"] == "first" and result.loc["a", "h1_count"] == 2
    assert "b" not in result.index


def test_list_entries_of_a_hub_page_are_not_judged_but_its_prose_is():
    from linkaudit.analysis.audit import hub_listing_links

    pages = pd.DataFrame({"url": ["hub", "article"], "word_count": [40, 400]})
    links = pd.DataFrame({
        "source": ["hub", "hub", "hub", "article"],
        "anchor": ["Spasticité et baclofène", "Acide hyaluronique", "nos injections",
                   "Spasticité"],
        "paragraph": ["Spasticité et baclofène", "Acide hyaluronique",
                      "Découvrez aussi nos injections pour un visage reposé.", "Spasticité"],
        "position": ["content", "content", "content", "content"],
        "target": ["spasticite", "acide", "injections", "spasticite"], "internal": [True] * 4})
    assert list(hub_listing_links(pages, links)) == [True, True, False, False]


def test_a_page_of_excerpt_cards_is_a_hub_and_its_thumbnails_are_entries():
    # A real WordPress blog page (civic.mit.edu /blog/page/N/): per post a title link, an
    # empty thumbnail link and a 45-word excerpt, so link text is only ~15 % of its words.
    from linkaudit.analysis.audit import hub_listing_links, hub_pages

    excerpt = " ".join(["word"] * 45)
    rows = []
    for i in range(8):
        rows.append({"source": "blog/page/2", "target": f"post{i}", "anchor": f"Title of post {i}",
                     "paragraph": f"Title of post {i}", "position": "content", "internal": True})
        rows.append({"source": "blog/page/2", "target": f"post{i}", "anchor": "",
                     "paragraph": "", "position": "content", "internal": True})
    rows.append({"source": "article", "target": "post1", "anchor": "a related study",
                 "paragraph": "As " + excerpt + " shows, a related study", "position": "content",
                 "internal": True})
    links = pd.DataFrame(rows)
    pages = pd.DataFrame({"url": ["blog/page/2", "article"], "word_count": [8 * 49, 900]})
    assert hub_pages(pages, links) == {"blog/page/2"}
    assert hub_listing_links(pages, links).tolist() == [True] * 16 + [False]


def test_template_links_repeat_anchor_and_sentence_across_pages() -> None:
    from linkaudit.analysis.templates import template_links

    rows = []
    for page in range(10):
        rows.append((f"/p{page}", f"/en/p{page}", "#x" if page == 0 else "/en",
                     "Read the English version", "Read the English version", "content"))
        rows.append((f"/p{page}", "/guide", "/guide", "notre guide",
                     f"Phrase {page} avec notre guide.", "content"))
        rows.append((f"/p{page}", "#fn1", "#fn1", "[1]", "[1]", "content"))
    rows += [("/p1", "/x", "/x", "Menu", "Menu", "nav")] * 2
    links = pd.DataFrame(rows, columns=["source", "target", "href", "anchor", "context",
                                        "position"])
    flagged = template_links(links)
    # The repeated line is template wherever its href is not a jump within the page.
    assert flagged[links["anchor"] == "Read the English version"].sum() == 9
    # The same target in different sentences is the authors' own linking.
    assert not flagged[links["anchor"] == "notre guide"].any()
    assert not flagged[links["anchor"].isin(["[1]", "Menu"])].any()


def test_links_to_a_page_that_lists_the_source_are_not_judged():
    # A post linking to the tag page that lists it (a real Hugo blog: 220 such links were
    # flagged off-topic); the tag page is small, so its link-text share does not say "hub".
    from linkaudit.analysis.audit import judge_links

    pages = pd.DataFrame({"url": ["post", "tag", "other"], "word_count": [900, 400, 900],
                          "indexable": [True, True, True], "canonical": [None, None, None]})
    links = pd.DataFrame({
        "source": ["post", "tag", "post"], "target": ["tag", "post", "other"],
        "landing": ["tag", "post", "other"], "anchor": ["voyage", "Un été à Hanoï", "ici"],
        "context": ["Tags : voyage", "Un été à Hanoï", "Lire ici."],
        "paragraph": ["Tags : voyage", "Un été à Hanoï", "Une phrase longue qui dit ici."],
        "position": ["content"] * 3, "internal": [True] * 3, "template": [False] * 3,
        "relevance": [0.01] * 3, "off_topic": [True] * 3, "why": ["low"] * 3,
        "suggested_targets": ["x"] * 3, "anchor_relevance": [0.0] * 3})
    judged = judge_links(links, pages, None, None)
    assert judged["off_topic"].tolist() == [False, False, True]
    # A digest line of a real blog: "Resources for visualizing data http://site/post".
    bare = links.assign(anchor=["voyage", "Un été à Hanoï", "https://blog.test/other"])
    assert judge_links(bare, pages, None, None)["off_topic"].tolist() == [False] * 3
    assert "lists the other" in judged["why"][0]
    assert "lists the other" in judged["why"][1]


def test_a_copy_naming_a_canonical_is_judged_as_that_page():
    from linkaudit.analysis.audit import _canonical_pages

    pages = pd.DataFrame({"url": ["/a/", "/a/index.html", "/b/", "/c/"],
                          "indexable": [False, True, True, False],
                          "canonical": ["/a/index.html", "/a/index.html", None, "/gone/"]})
    assert _canonical_pages(pages, {"/a/index.html", "/b/"}) == {"/a/": "/a/index.html"}


def test_the_last_page_of_a_paginated_archive_is_a_hub():
    # Real case (civic.mit.edu /author/x/page/8/): the tail page of an author archive
    # holds two excerpt cards, too few to tell a list, but the archive's pagination
    # ("8") leads to it from a page that is one.
    from linkaudit.analysis.audit import hub_pages

    rows = []
    for page, posts in (("author/page/7", range(5)), ("author/page/8", range(5, 7))):
        for i in posts:
            rows.append({"source": page, "target": f"post{i}", "anchor": f"Post title {i}",
                         "paragraph": f"Post title {i}", "position": "content",
                         "internal": True})
    rows.append({"source": "author/page/7", "target": "author/page/8", "anchor": "8",
                 "paragraph": "1 … 6 7 8", "position": "content", "internal": True})
    rows.append({"source": "article", "target": "post1", "anchor": "Post title 1",
                 "paragraph": "Post title 1", "position": "content", "internal": True})
    pages = pd.DataFrame({"url": ["author/page/7", "author/page/8", "article"],
                          "word_count": [300, 120, 900]})
    assert hub_pages(pages, pd.DataFrame(rows)) == {"author/page/7", "author/page/8"}
