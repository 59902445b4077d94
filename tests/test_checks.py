from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkaudit.analysis.checks import (
    _with_artifact_signs,
    artifact_findings,
    artifact_kind,
    concat_findings,
    heading_findings,
    indexability_findings,
    make_findings,
    metadata_findings,
    page_findings,
    quote,
    thin_content_findings,
)
from linkaudit.analysis.model import FINDING_COLUMNS, SEVERITY

SITE = "https://clinique.example"
CONTRACT_CATEGORIES = {
    "broken_link", "redirect_chain", "redirect_loop", "server_error", "orphan_page",
    "missing_title", "duplicate_title", "missing_meta_description", "missing_h1",
    "multiple_h1", "skipped_heading_level", "empty_heading", "thin_content", "noindex",
    "canonicalized", "blocked_by_robots", "near_duplicate", "off_topic_link",
    "promotional_link", "incoherent_section", "content_artifact", "staging_copy",
    "crawl_limit", "audit_incomplete", "page_limit", "broken_external_link",
    "unverified_external_link",
}  # fmt: skip


def page(path: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "url": f"{SITE}{path}",
        "status": 200,
        "is_html": True,
        "internal": True,
        "indexable": True,
        "title": f"Title of {path}",
        "meta_description": "A description.",
        "meta_robots": None,
        "x_robots_tag": None,
        "noindex": "",  # the crawler's verdict (crawler/robots.py)
        "canonical": None,
        "word_count": 500,
        "blocked_by_robots": False,
    }
    row.update(overrides)
    return row


def pages_frame(*rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    frame["status"] = frame["status"].astype("Int64")
    return frame


def headings_frame(*rows: tuple[str, int, str]) -> pd.DataFrame:
    """(path, level, text) in document order, per page."""
    frame = pd.DataFrame(rows, columns=["path", "level", "text"])
    frame["url"] = SITE + frame["path"]
    frame["ord"] = frame.groupby("url").cumcount()
    frame["in_main"] = True
    return frame[["url", "ord", "level", "text", "in_main"]]


def by_category(findings: pd.DataFrame, category: str) -> pd.DataFrame:
    return findings[findings["category"] == category]


# --- severity table and helpers -------------------------------------------------


def test_severity_covers_exactly_the_contract_categories() -> None:
    assert set(SEVERITY) == CONTRACT_CATEGORIES
    assert set(SEVERITY.values()) == {"error", "warning", "notice"}


@pytest.mark.parametrize(
    ("category", "severity"),
    [("broken_link", "error"), ("missing_title", "error"), ("multiple_h1", "warning"),
     ("content_artifact", "warning"), ("noindex", "notice"), ("empty_heading", "notice")],
)  # fmt: skip
def test_severity_of(category: str, severity: str) -> None:
    assert SEVERITY[category] == severity


def test_make_findings_from_column_and_function() -> None:
    frame = pd.DataFrame({"source": ["a", "b"], "target": ["x", "y"], "why": ["1", "2"]})
    from_column = make_findings(frame, "broken_link", "why", url="source", target="target")
    assert list(from_column.columns) == FINDING_COLUMNS
    assert from_column.to_dict("records")[0] == {
        "url": "a", "category": "broken_link", "severity": "error", "detail": "1", "target": "x"
    }  # fmt: skip
    from_function = make_findings(
        frame, "orphan_page", lambda f: "no inlinks " + f["why"], url="source"
    )
    assert from_function["detail"].tolist() == ["no inlinks 1", "no inlinks 2"]
    assert from_function["target"].tolist() == ["", ""]


def test_make_findings_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="unknown finding category 'oops'"):
        make_findings(pd.DataFrame({"url": ["a"]}), "oops", "url")


def test_make_findings_on_empty_frame_has_columns() -> None:
    empty = make_findings(pd.DataFrame({"url": []}), "noindex", "url")
    assert empty.empty and list(empty.columns) == FINDING_COLUMNS


def test_concat_orders_by_severity() -> None:
    frame = pd.DataFrame({"url": ["u"], "d": ["x"]})
    stacked = concat_findings(
        [make_findings(frame, "noindex", "d"), make_findings(frame, "missing_title", "d")]
    )
    assert stacked["severity"].tolist() == ["error", "notice"]


def test_quote_truncates_long_text_on_one_line() -> None:
    quoted = quote("word\n" * 40)
    assert quoted.startswith('"word word') and quoted.endswith('…"') and len(quoted) == 82


# --- headings ------------------------------------------------------------------


def test_heading_checks() -> None:
    pages = pages_frame(page("/none"), page("/two"), page("/skip"), page("/empty"), page("/ok"))
    headings = headings_frame(
        ("/none", 2, "Only an h2"),
        ("/two", 1, "Spasticité"), ("/two", 2, "Causes"), ("/two", 1, "Traitements"),
        ("/skip", 1, "Title"), ("/skip", 2, "Effets"), ("/skip", 4, "Somnolence"),
        ("/empty", 1, "Title"), ("/empty", 3, "  "),
        ("/ok", 1, "Title"), ("/ok", 2, "A"), ("/ok", 3, "B"), ("/ok", 2, "C"),
    )  # fmt: skip
    findings = heading_findings(pages, headings)
    assert by_category(findings, "missing_h1")["url"].tolist() == [f"{SITE}/none"]
    assert by_category(findings, "multiple_h1")["detail"].tolist() == [
        '2 h1 elements: "Spasticité", "Traitements"'
    ]
    skipped = by_category(findings, "skipped_heading_level")
    assert skipped["detail"].tolist() == [
        'h1 "Title" is followed by h3 ""',
        'h2 "Effets" is followed by h4 "Somnolence"',
    ]
    assert by_category(findings, "empty_heading")["detail"].tolist() == [
        "empty h3 (heading 2 of the page)"
    ]
    assert f"{SITE}/ok" not in set(findings["url"])


def test_heading_checks_skip_pages_that_are_not_indexable() -> None:
    pages = pages_frame(page("/noindex", indexable=False), page("/external", internal=False))
    findings = heading_findings(pages, headings_frame(("/noindex", 2, "x")))
    assert findings.empty


# --- metadata ------------------------------------------------------------------


def test_missing_title_and_description() -> None:
    pages = pages_frame(
        page("/a", title=None), page("/b", title="   ", meta_description=""), page("/c")
    )
    findings = metadata_findings(pages, headings_frame())
    assert by_category(findings, "missing_title")["url"].tolist() == [f"{SITE}/a", f"{SITE}/b"]
    assert set(by_category(findings, "missing_title")["severity"]) == {"error"}
    assert by_category(findings, "missing_meta_description")["url"].tolist() == [f"{SITE}/b"]


def test_duplicate_titles_name_the_other_pages() -> None:
    pages = pages_frame(
        page("/a", title="Baclofène : effets"),
        page("/b", title="baclofène :  EFFETS"),
        page("/c", title="Baclofène : effets"),
        page("/d", title="Autre chose"),
        page("/e", title="Baclofène : effets", indexable=False),
    )
    duplicates = by_category(metadata_findings(pages, headings_frame()), "duplicate_title")
    assert sorted(duplicates["url"]) == [f"{SITE}/a", f"{SITE}/b", f"{SITE}/c"]
    detail_a = duplicates.set_index("url").loc[f"{SITE}/a", "detail"]
    assert detail_a == f'same title "Baclofène : effets" as {SITE}/b, {SITE}/c'


def test_duplicate_title_names_at_most_three_urls() -> None:
    pages = pages_frame(*(page(f"/p{i}", title="Same") for i in range(6)))
    detail = metadata_findings(pages, headings_frame())["detail"].iloc[0]
    assert detail.endswith("(+2 more)") and detail.count(SITE) == 3


def test_duplicate_h1_is_reported_under_duplicate_title() -> None:
    pages = pages_frame(page("/a"), page("/b"), page("/c"))
    headings = headings_frame(("/a", 1, "Le baclofène"), ("/b", 1, "Le Baclofène"), ("/c", 1, "X"))
    duplicates = by_category(metadata_findings(pages, headings), "duplicate_title")
    assert duplicates["detail"].tolist() == [
        f'same h1 "Le baclofène" as {SITE}/b',
        f'same h1 "Le Baclofène" as {SITE}/a',
    ]


# --- thin content, indexability, server errors ----------------------------------


@pytest.mark.parametrize(("words", "thin"), [(0, True), (199, True), (200, False), (None, False)])
def test_thin_content_threshold(words: int | None, thin: bool) -> None:
    findings = thin_content_findings(pages_frame(page("/a", word_count=words)), min_words=200)
    assert len(findings) == int(thin)
    if thin:
        assert findings["detail"][0] == f"{words} words in the main content (fewer than 200)"


def test_thin_content_ignores_non_indexable_pages() -> None:
    pages = pages_frame(page("/a", word_count=10, indexable=False))
    assert thin_content_findings(pages).empty


def test_indexability_findings() -> None:
    pages = pages_frame(
        page("/meta", meta_robots="noindex, follow", noindex="meta robots", indexable=False),
        page("/header", x_robots_tag="none", noindex="X-Robots-Tag", indexable=False),
        page("/canon", canonical=f"{SITE}/other", indexable=False),
        page("/self", canonical=f"{SITE}/self"),
        page("/blocked", status=None, blocked_by_robots=True, is_html=False, indexable=False),
        page("/down", status=503, is_html=False, indexable=False),
        page("/ext-down", status=500, internal=False, indexable=False),
        page("/noindexer", meta_robots="noindexer"),
    )
    findings = indexability_findings(pages).set_index(["url", "category"])["detail"]
    assert findings.to_dict() == {
        (f"{SITE}/down", "server_error"): "HTTP 503 server error",
        (f"{SITE}/blocked", "blocked_by_robots"): "disallowed by robots.txt, not crawled",
        (f"{SITE}/canon", "canonicalized"): f"canonical points to {SITE}/other",
        (f"{SITE}/header", "noindex"): 'noindex in X-Robots-Tag "none"',
        (f"{SITE}/meta", "noindex"): 'noindex in meta robots "noindex, follow"',
    }


# --- content artifacts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "kind"),
    [
        ("xml", "format word left alone"),
        ("JSON", "format word left alone"),
        ("Copier le code", "format word left alone"),
        ("```python", "stray code fence"),
        ("## Les effets secondaires", "raw markdown heading"),
        ("Voir [notre guide](https://exemple.fr/guide) pour plus.", "raw markdown link"),
        ("Le **baclofène** agit vite.", "raw markdown bold"),
        ("Bonjour {{ prenom }}, bienvenue.", "unfilled placeholder"),
        ("{% include cta.html %}", "unfilled placeholder"),
        ("Cliquez sur [CTA_LINK] maintenant.", "unfilled placeholder"),
        ("Prix : %%PRICE%% euros", "unfilled placeholder"),
        ("Bonjour ${name}", "unfilled placeholder"),
        ("Voir [[Page interne]]", "unfilled placeholder"),
        ("[INSERT LINK HERE]", "unfilled placeholder"),
        ("Lorem ipsum dolor sit amet.", "lorem ipsum"),
        ("Le XML est un format de données.", ""),
        ("Tarif : 50 € [1]", ""),
        ("La méthode __init__ du module.", ""),
        ("Un article #santé sur le sommeil.", ""),
        ("Voir la référence [PDF].", ""),
        # Code samples of a real French tech blog, not leftovers.
        ("# -*- coding: utf-8 -*-", ""),
        ("#!/usr/bin/env python\n# Lecture du fichier", ""),
        ("data = {{}}", ""),
        ("template = env.get_template('page.html')\nprint(template.render(titre=t))\n"
         "{{ titre }}", ""),
        ("Bonjour {{ prenom }},\nvotre commande est prête.", "unfilled placeholder"),
    ],
)
def test_artifact_kind(paragraph: str, kind: str) -> None:
    assert artifact_kind(paragraph) == kind


def test_artifact_findings_quote_text_and_name_section() -> None:
    pages = pages_frame(page("/a"), page("/hidden", indexable=False))
    long_placeholder = "Texte {{ variable }} " + "suite " * 30
    sections = pd.DataFrame(
        {
            "url": [f"{SITE}/a", f"{SITE}/a", f"{SITE}/hidden"],
            "ord": [0, 1, 0],
            "level": [0, 2, 0],
            "heading": ["", "Effets secondaires", ""],
            "text": [
                "Introduction normale.\n\nxml",
                "Un paragraphe.\n\n" + long_placeholder,
                "lorem ipsum",
            ],
        }
    )
    findings = artifact_findings(pages, sections)
    assert findings["url"].tolist() == [f"{SITE}/a", f"{SITE}/a"]
    assert (
        findings["detail"][0]
        == 'format word left alone "xml" in section (before the first heading)'
    )
    second = findings["detail"][1]
    assert second.startswith('unfilled placeholder "Texte {{ variable }} suite')
    assert second.endswith('…" in section "Effets secondaires"')
    assert set(findings["severity"]) == {"warning"}


# --- everything together -------------------------------------------------------------


def test_page_findings_combines_all_checks_in_severity_order() -> None:
    pages = pages_frame(
        page("/a", title=None, word_count=50),
        page("/b", meta_robots="noindex", noindex="meta robots", indexable=False),
    )
    headings = headings_frame(("/a", 2, "Sans h1"))
    sections = pd.DataFrame(
        {"url": [f"{SITE}/a"], "ord": [0], "level": [0], "heading": [""], "text": ["```"]}
    )
    findings = page_findings(pages, headings, sections, min_words=100)
    assert findings["category"].tolist() == [
        "missing_title", "content_artifact", "missing_h1", "thin_content", "noindex"
    ]  # fmt: skip
    assert list(findings.columns) == FINDING_COLUMNS


def test_no_indexability_findings_for_plain_pages() -> None:
    assert indexability_findings(pages_frame(page("/a"), page("/b"))).empty


ARTIFACT_PARAGRAPHS = [
    "xml", "  JSON :", "Copier le code", "```python", "## Les effets secondaires",
    "Voir [notre guide](https://exemple.fr/guide) pour plus.", "Le **baclofène** agit vite.",
    "Bonjour {{ prenom }}, bienvenue.", "[INSERT LINK HERE]", "Cliquez sur [CTA_LINK].",
    "Lorem ipsum dolor sit amet.", "Un __texte mis en gras__ ici.", "    ### Titre",
    "Le XML est un format.", "La méthode __init__ du module.", "Texte ordinaire.",
]
SPACES = ["", " ", "\n", "\t", "\v", "\x0b", "\xa0", "\u2028", "\u3000", "\x85", "\x1c"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SPACES), st.sampled_from(ARTIFACT_PARAGRAPHS),
                          st.sampled_from(SPACES)), min_size=1, max_size=5),
       st.booleans())
def test_every_section_with_a_leftover_paragraph_is_checked(parts, arrow):
    # The sections split into paragraphs are only those _ARTIFACT_SIGNS finds, in RE2 on
    # Arrow strings or in Python's re: it must find every one that holds a leftover.
    text = "\n\n".join(before + paragraph + after for before, paragraph, after in parts)
    expected = any(artifact_kind(p.strip()) for p in text.split("\n\n") if p.strip())
    texts = pd.Series([text], dtype="str" if arrow else object)
    if expected:
        assert _with_artifact_signs(texts).tolist() == [True]
