"""A full audit of the bundled demo site, held to the ground truth in demo/labels.json."""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import urlsplit

import lxml.html
import pandas as pd
import pytest

from tests.conftest import DEMO_SITE, REPO, run_cli, serve

pytestmark = pytest.mark.e2e

LABELS = json.loads((REPO / "demo" / "labels.json").read_text("utf-8"))
START = LABELS["start"]
CONTRACT_FILES = ["pages.csv", "links.csv", "headings.csv", "findings.csv", "offtopic_links.csv",
                  "index.html"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    served = serve(DEMO_SITE)
    try:
        result = run_cli("run", served.url(START), "--config",
                         str(REPO / "config/sites/demo.toml"), "--store", "crawls.sqlite",
                         "--out", "out", "--quiet", cwd=work)
    finally:
        served.process.terminate()
    assert result.returncode == 0, result.stderr

    def read(name: str) -> pd.DataFrame:
        frame = pd.read_csv(work / "out" / name, encoding="utf-8-sig", keep_default_na=False,
                            dtype=str)
        for column in ("source", "target", "url"):
            if column in frame:
                frame[column + "_path"] = frame[column].map(path_of)
        return frame

    return {"dir": work / "out", "store": work / "crawls.sqlite", "stdout": result.stdout,
            "pages": read("pages.csv"), "links": read("links.csv"),
            "findings": read("findings.csv"), "offtopic": read("offtopic_links.csv")}


def findings_of(audit, category: str) -> pd.DataFrame:
    findings = audit["findings"]
    return findings[findings["category"] == category]


def test_every_contract_file_is_written(audit):
    for name in CONTRACT_FILES:
        assert (audit["dir"] / name).stat().st_size > 0, name
    assert len(list(audit["dir"].glob("*.png"))) >= 3


def test_every_expected_url_is_requested_exactly_once(audit):
    requested = list(audit["pages"]["url_path"])
    assert len(requested) == len(set(requested))
    blocked = {b["url"] for b in LABELS["blocked_urls"]}
    optional = set(LABELS["optional_page_urls"])
    assert set(LABELS["expected_page_urls"]) | blocked <= set(requested)
    assert set(requested) - set(LABELS["expected_page_urls"]) - blocked <= optional


def test_robots_disallowed_urls_are_never_fetched(audit):
    pages = audit["pages"].set_index("url_path")
    for blocked in LABELS["blocked_urls"]:
        assert pages.loc[blocked["url"], "status"] == ""


def test_every_link_occurrence_of_the_start_page_is_recorded(audit):
    tree = lxml.html.parse(str(DEMO_SITE / START.lstrip("/")))
    expected = len(tree.xpath("//a[@href]"))
    links = audit["links"]
    assert (links["source_path"] == START).sum() == expected


def test_class_and_id_conventions_give_link_positions(audit):
    page = LABELS["class_id_layout_pages"][0]
    links = audit["links"]
    positions = set(links.loc[links["source_path"] == page, "position"])
    assert {"nav", "aside", "footer", "content"} <= positions


def labelled_links(source: str | None = None) -> list[dict]:
    return [link for link in LABELS["links"] if link.get("internal")
            and (source is None or link["source"] == source)]


def verdicts(audit, column: str) -> dict[tuple[str, str, str], bool]:
    links = audit["links"]
    keys = zip(links["source_path"], links["target_path"], links["anchor"], strict=True)
    return {key: value == "true" for key, value in zip(keys, links[column], strict=True)}


def test_start_page_off_topic_links_are_exactly_the_labelled_ones(audit):
    flagged = verdicts(audit, "off_topic")
    expected = {(link["target"], link["anchor"]): link["off_topic"]
                for link in labelled_links(START) if link["off_topic"] is not None}
    got = {key: flagged[(START, *key)] for key in expected}
    assert {k for k, v in got.items() if v} == {k for k, v in expected.items() if v}


@pytest.mark.parametrize("source", sorted({link["source"] for link in LABELS["links"]}))
def test_off_topic_verdicts_match_the_labels(audit, source):
    flagged = verdicts(audit, "off_topic")
    wrong = [(link["target"], link["anchor"]) for link in labelled_links(source)
             if link["off_topic"] is not None
             and flagged[(source, link["target"], link["anchor"])] != link["off_topic"]]
    assert wrong == []


@pytest.mark.parametrize("source", sorted({link["source"] for link in LABELS["links"]}))
def test_promotional_links_and_reasons_match_the_labels(audit, source):
    links = audit["links"].copy()
    links["key"] = links["target_path"].where(links["internal"] == "true", links["target"])
    links = links.set_index(["source_path", "key", "anchor"])
    for link in [lk for lk in LABELS["links"] if lk["source"] == source]:
        row = links.loc[(source, link["target"], link["anchor"])]
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        assert (row["promotional"] == "true") == link["promotional"], link["anchor"]
        for reason in link["promo_reasons"]:
            assert reason in row["promo_reason"], (link["anchor"], row["promo_reason"])


def test_offtopic_report_lists_promotional_links_first_with_suggestions(audit):
    report = audit["offtopic"]
    assert len(report) > 0
    promotional = list(report["promotional"])
    assert promotional == sorted(promotional, key=lambda v: v != "true")
    start_rows = report[report["source_path"] == START]
    assert (start_rows["suggested_targets"] != "").all()
    for suggestions in start_rows["suggested_targets"]:
        for url in suggestions.split(" | "):
            assert "/soins/" not in url and "/tarifs/" not in url


def test_why_names_the_topics_behind_a_verdict(audit):
    report = audit["offtopic"]
    row = report[report["target_path"] == "/soins/calvitie-greffe-cheveux.html"].iloc[0]
    assert "source" in row["why"] and "target" in row["why"]
    assert "calvitie" in row["why"] or "cheveux" in row["why"]


def test_the_drifting_section_is_the_only_incoherent_one(audit):
    found = findings_of(audit, "incoherent_section")
    expected = LABELS["incoherent_sections"]
    assert sorted(found["url_path"]) == sorted(s["url"] for s in expected)
    for section in expected:
        assert section["heading"] in " ".join(found["detail"])


def test_content_artifacts_are_found_where_planted(audit):
    found = findings_of(audit, "content_artifact")
    assert set(found["url_path"]) == {a["url"] for a in LABELS["artifacts"]}
    for artifact in LABELS["artifacts"]:
        details = " ".join(found.loc[found["url_path"] == artifact["url"], "detail"])
        assert artifact["text"] in details
    start = found[found["url_path"] == START]
    assert len(start) == 2  # the two stray "xml" paragraphs


PAGE_CATEGORIES = sorted({c for cats in LABELS["pages"].values() for c in cats}
                         - {"broken_link"})


@pytest.mark.parametrize("category", PAGE_CATEGORIES)
def test_page_findings_are_exactly_the_planted_ones(audit, category):
    expected = {url for url, cats in LABELS["pages"].items() if category in cats}
    found = set(findings_of(audit, category)["url_path"])
    # The query-string copy of a page is a canonicalised duplicate too.
    assert found - set(LABELS["optional_page_urls"]) == expected


def test_broken_links_name_every_source_and_target(audit):
    found = findings_of(audit, "broken_link")
    pairs = set(zip(found["url_path"], found["target_path"], strict=True))
    expected = {(b["source"], b["target"]) for b in LABELS["broken_links"]}
    assert expected <= pairs
    # A link into a redirect loop never lands anywhere: it is broken too.
    loops = {url for loop in LABELS["redirect_loops"] for url in loop}
    assert {t for _, t in pairs} - loops == {b["target"] for b in LABELS["broken_links"]}


def test_near_duplicate_names_its_closest_match(audit):
    found = findings_of(audit, "near_duplicate")
    pair = set(LABELS["near_duplicates"][0])
    assert set(found["url_path"]) == pair
    assert set(found["target_path"]) == pair


def test_pages_report_link_score_and_depth(audit):
    pages = audit["pages"].set_index("url_path")
    scores = pd.to_numeric(pages["pagerank"], errors="coerce")
    assert scores.max() == 100
    assert pages.loc[START, "depth"] == "0"
    assert pages.loc[LABELS["orphans"][0], "depth"] == ""
    assert pages.loc[LABELS["orphans"][0], "inlinks"] == "0"


def test_store_keeps_the_crawl_complete(audit):
    conn = sqlite3.connect(audit["store"])
    assert conn.execute("SELECT state FROM crawls").fetchone()[0] == "complete"


def test_terminal_summary_says_where_reports_are(audit):
    assert "Reports in out" in audit["stdout"]


def documented_columns() -> dict[str, set[str]]:
    """Column names per file, from the tables of docs/report-contract.md."""
    import re

    text = (REPO / "docs" / "report-contract.md").read_text("utf-8")
    columns: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^#+ (?:DIR/)?(\w+\.csv)", line)
        if heading:
            current = heading.group(1)
            columns.setdefault(current, set())
        elif current and line.startswith("| ") and not line.startswith("| column"):
            for name in line.split("|")[1].split(","):
                columns[current].add(name.strip())
    headings = re.search(r"DIR/headings.csv.*?\n\n(.*?)\n", text, re.S).group(1)
    columns["headings.csv"] |= {c.split("(")[0].strip() for c in headings.split(",")}
    findings = re.search(r"DIR/findings.csv.*?\n\n(.*?)\n", text, re.S).group(1)
    columns["findings.csv"] |= {"url", "category", "severity", "detail", "target"}
    assert "url, category, severity" in findings
    offtopic = re.search(r"promotional ones first:\n(.*?)\n\n", text, re.S).group(1)
    columns["offtopic_links.csv"] |= set(re.findall(r"(?:^|, |\n)([a-z_]+)", offtopic))
    return columns


@pytest.mark.parametrize("name", ["pages.csv", "links.csv", "headings.csv", "findings.csv",
                                  "offtopic_links.csv"])
def test_every_written_column_is_documented(audit, name):
    header = (audit["dir"] / name).read_text("utf-8-sig").splitlines()[0].split(",")
    assert set(header) <= documented_columns()[name]


def test_every_finding_category_is_in_the_contract(audit):
    from linkaudit.analysis.model import SEVERITY

    text = (REPO / "docs" / "report-contract.md").read_text("utf-8")
    for category in SEVERITY:
        assert category in text
    assert set(audit["findings"]["category"]) <= set(SEVERITY)
