"""Comparing two crawls of a site (analysis/diff.py) on small hand-made snapshots."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from linkaudit.analysis.diff import (
    CHANGE_COLUMNS,
    CHANGE_KINDS,
    Snapshot,
    compare,
    key_origins,
    origin,
    snapshot_from_audit,
    url_keys,
)
from tests.audit_factory import make_audit

OLD_SITE = "http://127.0.0.1:8001"
NEW_SITE = "http://127.0.0.1:8002"


def page(path: str, **fields) -> dict:
    return {"url": path, "status": 200, "title": f"Title of {path}", "h1": f"H1 of {path}",
            "canonical": None, "indexable": True, "pagerank": 50.0, **fields}


def finding(path: str, category: str, detail: str = "d", target: str = "",
            severity: str = "warning") -> dict:
    return {"url": path, "category": category, "severity": severity, "detail": detail,
            "target": target}


def link(source: str, target: str, *, off_topic: bool = False, promotional: bool = False,
         anchor: str = "click", reason: str = "") -> dict:
    return {"source": source, "target": target, "anchor": anchor, "off_topic": off_topic,
            "promotional": promotional, "promo_reason": reason}


def absolute(site: str, value: object) -> object:
    return site + value if isinstance(value, str) and value.startswith("/") else value


def snapshot(pages: list[dict], findings: list[dict] = (), links: list[dict] = (), *,
             site: str = OLD_SITE, crawl_id: int = 1) -> Snapshot:
    """A snapshot whose paths ("/a") are made absolute on ``site``."""
    page_frame = pd.DataFrame(pages, columns=list(page("/x")))
    for column in ("url", "canonical"):
        page_frame[column] = page_frame[column].map(lambda v: absolute(site, v))
    page_frame["status"] = page_frame["status"].astype("Int64")
    finding_frame = pd.DataFrame(list(findings), columns=list(finding("/x", "c")))
    for column in ("url", "target"):
        finding_frame[column] = finding_frame[column].map(lambda v: absolute(site, v))
    link_frame = pd.DataFrame(list(links), columns=list(link("/x", "/y")))
    for column in ("source", "target"):
        link_frame[column] = link_frame[column].map(lambda v: absolute(site, v))
    return Snapshot(crawl_id=crawl_id, start_url=site + "/", pages=page_frame,
                    findings=finding_frame, links=link_frame)


BASE_PAGES = [page("/"), page("/a"), page("/b")]


def only(changes: pd.DataFrame, kind: str) -> pd.DataFrame:
    return changes[changes["change"] == kind].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Nothing changed


def test_unchanged_crawl_gives_an_empty_frame_with_the_change_columns():
    crawl = snapshot(BASE_PAGES, [finding("/a", "broken_link", target="/gone")],
                     [link("/a", "/b", off_topic=True)])
    changes = compare(crawl, crawl)
    assert changes.empty
    assert list(changes.columns) == CHANGE_COLUMNS


def test_two_empty_crawls_give_an_empty_frame():
    assert list(compare(snapshot([]), snapshot([])).columns) == CHANGE_COLUMNS


def test_finding_whose_detail_text_changed_is_neither_new_nor_fixed():
    old = snapshot(BASE_PAGES, [finding("/a", "thin_content", "120 words")])
    new = snapshot(BASE_PAGES, [finding("/a", "thin_content", "95 words")])
    assert compare(old, new).empty


# ---------------------------------------------------------------------------
# Pages


def test_page_added_and_removed_keep_their_own_crawls_url():
    old = snapshot([page("/"), page("/old")])
    new = snapshot([page("/"), page("/new", status=404)], site=NEW_SITE)
    changes = compare(old, new)
    added, removed = only(changes, "page_added"), only(changes, "page_removed")
    assert added[["url", "new", "detail"]].values.tolist() == [
        [NEW_SITE + "/new", "404", "new page (status 404)"]]
    assert removed[["url", "old", "detail"]].values.tolist() == [
        [OLD_SITE + "/old", "200", "no longer reached by the crawl (was status 200)"]]


@pytest.mark.parametrize(("old_pages", "new_pages", "kind"), [
    ([page("/")], [page("/"), page("/a")], "page_added"),
    ([page("/"), page("/a")], [page("/")], "page_removed"),
])
def test_pages_only_added_or_only_removed(old_pages, new_pages, kind):
    changes = compare(snapshot(old_pages), snapshot(new_pages))
    assert changes[["change", "url"]].values.tolist() == [[kind, OLD_SITE + "/a"]]


@pytest.mark.parametrize(("old_status", "new_status", "detail", "new_text"), [
    (200, 404, "status 200 → 404", "404"),
    (200, None, "status 200 → no response", ""),
    (None, 500, "no response → 500", "500"),
])
def test_status_change_says_old_and_new_status(old_status, new_status, detail, new_text):
    old = snapshot([page("/"), page("/a", status=old_status)])
    new = snapshot([page("/"), page("/a", status=new_status)])
    rows = only(compare(old, new), "status_changed")
    assert rows[["url", "new", "detail"]].values.tolist() == [[OLD_SITE + "/a", new_text, detail]]


def test_page_whose_status_changed_reports_only_the_status():
    old = snapshot([page("/a", status=200, title="Spasticity", indexable=True, pagerank=60.0)])
    new = snapshot([page("/a", status=404, title="Not found", h1=None, indexable=False,
                         pagerank=math.nan)])
    assert compare(old, new)["change"].tolist() == ["status_changed"]


@pytest.mark.parametrize(("field", "change"), [("title", "title_changed"), ("h1", "h1_changed")])
def test_text_field_change_quotes_old_and_new_text(field, change):
    old = snapshot([page("/a", **{field: "Spasticity"})])
    new = snapshot([page("/a", **{field: "Spasticity and its treatments"})])
    rows = only(compare(old, new), change)
    assert rows[["old", "new", "detail"]].values.tolist() == [[
        "Spasticity", "Spasticity and its treatments",
        f'{field} "Spasticity" → "Spasticity and its treatments"']]


def test_title_that_only_changed_whitespace_is_unchanged():
    old = snapshot([page("/a", title="Spasticity  treatments")])
    new = snapshot([page("/a", title="Spasticity treatments\n")])
    assert compare(old, new).empty


def test_missing_title_is_shown_as_none():
    old = snapshot([page("/a", title="Spasticity")])
    new = snapshot([page("/a", title=None)])
    assert only(compare(old, new), "title_changed")["detail"].tolist() == [
        'title "Spasticity" → (none)']


def test_canonical_change_names_both_canonicals():
    old = snapshot([page("/a"), page("/b", canonical=None)])
    new = snapshot([page("/a"), page("/b", canonical="/a")])
    rows = only(compare(old, new), "canonical_changed")
    assert rows[["url", "old", "new", "detail"]].values.tolist() == [[
        OLD_SITE + "/b", "", OLD_SITE + "/a", f"canonical (none) → {OLD_SITE}/a"]]


@pytest.mark.parametrize(("before", "after", "detail"), [
    (True, False, "no longer indexable"),
    (False, True, "now indexable"),
])
def test_indexability_change(before, after, detail):
    old = snapshot([page("/a", indexable=before)])
    new = snapshot([page("/a", indexable=after)])
    rows = only(compare(old, new), "indexability_changed")
    assert rows[["old", "new", "detail"]].values.tolist() == [
        [str(before).lower(), str(after).lower(), detail]]


def test_link_score_move_at_the_threshold_is_reported():
    old = snapshot([page("/a", pagerank=60.0)])
    new = snapshot([page("/a", pagerank=45.0)])
    rows = only(compare(old, new, score_move=15.0), "link_score_moved")
    assert rows[["old", "new", "detail"]].values.tolist() == [
        ["60.0", "45.0", "link score 60.0 → 45.0 (-15.0)"]]


def test_link_score_move_below_the_threshold_is_ignored():
    old = snapshot([page("/a", pagerank=60.0)])
    new = snapshot([page("/a", pagerank=51.0)])
    assert compare(old, new, score_move=10.0).empty


def test_link_score_that_became_unknown_is_not_a_move():
    old = snapshot([page("/a", pagerank=60.0)])
    new = snapshot([page("/a", pagerank=math.nan)])
    assert compare(old, new).empty


# ---------------------------------------------------------------------------
# Findings


def test_new_and_fixed_findings_carry_the_finding():
    old = snapshot(BASE_PAGES, [finding("/a", "missing_h1", "no h1")])
    new = snapshot(BASE_PAGES, [finding("/b", "broken_link", "link to /x.html", "/x.html",
                                        severity="error")])
    changes = compare(old, new)
    assert only(changes, "new_finding")[["url", "target", "category", "severity", "detail"]] \
        .values.tolist() == [[OLD_SITE + "/b", OLD_SITE + "/x.html", "broken_link", "error",
                              "new broken_link: link to /x.html"]]
    assert only(changes, "fixed_finding")[["url", "category", "severity", "detail"]] \
        .values.tolist() == [[OLD_SITE + "/a", "missing_h1", "warning", "fixed missing_h1: no h1"]]


def test_same_finding_on_another_target_is_new():
    old = snapshot(BASE_PAGES, [finding("/a", "broken_link", target="/x")])
    new = snapshot(BASE_PAGES, [finding("/a", "broken_link", target="/x"),
                                finding("/a", "broken_link", target="/y")])
    assert only(compare(old, new), "new_finding")["target"].tolist() == [OLD_SITE + "/y"]


def test_one_of_two_identical_findings_fixed_counts_once():
    twice = [finding("/a", "off_topic_link", target="/b")] * 2
    old = snapshot(BASE_PAGES, twice)
    new = snapshot(BASE_PAGES, twice[:1])
    changes = compare(old, new)
    assert changes["change"].tolist() == ["fixed_finding"]


def test_finding_detail_spread_over_lines_becomes_one_line():
    old = snapshot(BASE_PAGES)
    new = snapshot(BASE_PAGES, [finding("/a", "content_artifact", "leftover\n  {{shortcode}}")])
    assert only(compare(old, new), "new_finding")["detail"].tolist() == [
        "new content_artifact: leftover {{shortcode}}"]


# ---------------------------------------------------------------------------
# Flagged links


def test_new_promotional_link_names_anchor_and_reason():
    old = snapshot(BASE_PAGES)
    new = snapshot(BASE_PAGES, links=[link("/a", "/b", promotional=True, anchor="our clinic",
                                           reason="cta phrase: consult")])
    rows = only(compare(old, new), "new_promotional_link")
    assert rows[["url", "target", "detail"]].values.tolist() == [
        [OLD_SITE + "/a", OLD_SITE + "/b", 'anchor "our clinic": cta phrase: consult']]


def test_new_off_topic_link_and_fixed_one():
    old = snapshot(BASE_PAGES, links=[link("/a", "/b", off_topic=True, anchor="old")])
    new = snapshot(BASE_PAGES, links=[link("/b", "/a", off_topic=True, anchor="new")])
    changes = compare(old, new)
    assert only(changes, "new_off_topic_link")[["url", "detail"]].values.tolist() == [
        [OLD_SITE + "/b", 'anchor "new"']]
    assert only(changes, "fixed_off_topic_link")[["url", "detail"]].values.tolist() == [
        [OLD_SITE + "/a", 'anchor "old"']]


def test_link_that_became_promotional_is_new_even_if_it_was_off_topic():
    old = snapshot(BASE_PAGES, links=[link("/a", "/b", off_topic=True)])
    new = snapshot(BASE_PAGES, links=[link("/a", "/b", off_topic=True, promotional=True)])
    assert compare(old, new)["change"].tolist() == ["new_promotional_link"]


def test_flagged_link_whose_anchor_changed_is_not_new():
    old = snapshot(BASE_PAGES, links=[link("/a", "/b", promotional=True, anchor="buy")])
    new = snapshot(BASE_PAGES, links=[link("/a", "/b", promotional=True, anchor="book now")])
    assert compare(old, new).empty


# ---------------------------------------------------------------------------
# Origins


def test_site_served_on_another_port_matches_the_same_pages():
    old = snapshot(BASE_PAGES, [finding("/a", "broken_link", target="/x")],
                   [link("/a", "/b", off_topic=True)], site=OLD_SITE)
    new = snapshot(BASE_PAGES, [finding("/a", "broken_link", target="/x")],
                   [link("/a", "/b", off_topic=True)], site=NEW_SITE)
    assert compare(old, new).empty


def test_moved_site_reports_changes_with_the_new_urls():
    old = snapshot([page("/"), page("/a", status=200)], site="http://example.org")
    new = snapshot([page("/"), page("/a", status=404)], site="https://example.org")
    rows = only(compare(old, new), "status_changed")
    assert rows["url"].tolist() == ["https://example.org/a"]


def test_canonical_on_the_moved_origin_is_not_a_change():
    old = snapshot([page("/a", canonical="/a")], site=OLD_SITE)
    new = snapshot([page("/a", canonical="/a")], site=NEW_SITE)
    assert compare(old, new).empty


@pytest.mark.parametrize(("url", "expected"), [
    ("http://127.0.0.1:8001/a?b=1", "/a?b=1"),
    ("http://127.0.0.1:8001", "/"),
    ("http://127.0.0.1:80011/a", "http://127.0.0.1:80011/a"),
    ("https://other.example/a", "https://other.example/a"),
    ("", ""),
])
def test_url_keys_strip_only_the_sites_own_origin(url, expected):
    assert url_keys(pd.Series([url]), "http://127.0.0.1:8001").tolist() == [expected]


@pytest.mark.parametrize(("old_start", "new_start", "expected"), [
    ("http://a.test/x", "http://a.test/y", ("", "")),
    ("http://a.test/", "https://a.test/", ("http://a.test", "https://a.test")),
])
def test_origins_are_stripped_only_when_they_differ(old_start, new_start, expected):
    assert key_origins(old_start, new_start) == expected


def test_origin_keeps_scheme_host_and_port():
    assert origin("HTTPS://Example.org:8443/a/b?c") == "https://example.org:8443"


# ---------------------------------------------------------------------------
# Shape of the result


def test_changes_are_sorted_by_kind_importance_then_url():
    old = snapshot([page("/"), page("/z"), page("/gone"), page("/m", title="t1")],
                   links=[])
    new = snapshot([page("/"), page("/z", status=500), page("/added"), page("/m", title="t2")],
                   [finding("/z", "server_error", severity="error"),
                    finding("/b", "missing_h1")],
                   [link("/", "/m", off_topic=True), link("/", "/added", promotional=True)])
    changes = compare(old, new)
    assert list(changes.columns) == CHANGE_COLUMNS
    assert changes[["change", "url"]].values.tolist() == [
        ["status_changed", OLD_SITE + "/z"],
        ["new_finding", OLD_SITE + "/b"],
        ["new_finding", OLD_SITE + "/z"],
        ["new_off_topic_link", OLD_SITE + "/"],
        ["new_promotional_link", OLD_SITE + "/"],
        ["page_removed", OLD_SITE + "/gone"],
        ["page_added", OLD_SITE + "/added"],
        ["title_changed", OLD_SITE + "/m"],
    ]


def test_every_change_kind_has_a_rank_and_no_duplicates():
    assert len(CHANGE_KINDS) == len(set(CHANGE_KINDS))
    assert CHANGE_KINDS[:6] == ["status_changed", "new_finding", "new_off_topic_link",
                                "new_promotional_link", "page_removed", "page_added"]


def test_all_change_cells_are_text_without_missing_values():
    old = snapshot([page("/a", status=None, title=None)])
    new = snapshot([page("/a", status=200, title="T")],
                   [finding("/a", "missing_h1")], [link("/a", "/b", off_topic=True)])
    changes = compare(old, new)
    assert not changes.isna().any().any()
    assert all(pd.api.types.is_string_dtype(changes[c]) for c in CHANGE_COLUMNS)


def test_snapshot_read_back_from_csv_text_compares_like_the_original():
    crawl = snapshot([page("/a", indexable=True), page("/b", indexable=False, status=None)])
    as_text = Snapshot(crawl_id=2, start_url=crawl.start_url,
                       pages=crawl.pages.astype("str").replace({"True": "true",
                                                                "False": "false",
                                                                "<NA>": ""}),
                       findings=crawl.findings, links=crawl.links)
    assert compare(crawl, as_text).empty


# ---------------------------------------------------------------------------
# From an audit


def test_snapshot_from_audit_keeps_only_flagged_links_and_contract_columns():
    audit = make_audit(40)
    snap = snapshot_from_audit(audit)
    assert snap.crawl_id == audit.crawl_id and snap.start_url == audit.start_url
    assert len(snap.pages) == len(audit.pages)
    assert list(snap.findings.columns) == ["url", "category", "severity", "detail", "target"]
    flagged = audit.links["off_topic"].astype(bool) | audit.links["promotional"].astype(bool)
    assert len(snap.links) == int(flagged.sum()) > 0


def test_audit_compared_with_itself_has_no_change():
    snap = snapshot_from_audit(make_audit(40))
    assert compare(snap, snap).empty


def test_new_findings_are_what_alert_rules_count():
    from linkaudit.alerts import evaluate_rules

    old = snapshot(BASE_PAGES)
    new = snapshot(BASE_PAGES, [finding("/a", "broken_link", target="/x", severity="error")])
    matched = evaluate_rules(["new:broken_link"], new.findings, compare(old, new))
    assert matched == ["new:broken_link: 1 new finding(s) (rule: > 0)"]
