from dataclasses import replace

import pandas as pd
import pytest

from linkaudit.writers.summary import (
    headline_counts,
    severity_counts,
    terminal_summary,
    top_problems,
)
from tests.audit_factory import make_audit


@pytest.fixture(scope="module")
def audit():
    return make_audit(40)


@pytest.fixture
def report_dir(tmp_path):
    for name in ("index.html", "report.xlsx", "pages.csv", "links.csv", "link_graph.png"):
        (tmp_path / name).write_text("x")
    return tmp_path


def test_summary_is_short_plain_text(audit, report_dir):
    text = terminal_summary(audit, report_dir)
    assert len(text.splitlines()) <= 25
    assert "\x1b[" not in text


def test_summary_can_be_coloured_on_request(audit, report_dir):
    assert "\x1b[31m" in terminal_summary(audit, report_dir, color=True)


def test_summary_gives_pages_links_and_findings(audit, report_dir):
    text = terminal_summary(audit, report_dir)
    counts = headline_counts(audit)
    severities = severity_counts(audit.findings)
    assert f"Pages:    {counts['pages']} crawled, {counts['indexable']} indexable" in text
    assert f"{counts['off_topic_links']} off-topic" in text
    assert f"{severities['error']} errors, {severities['warning']} warnings" in text


def test_summary_says_where_the_reports_are(audit, report_dir):
    text = terminal_summary(audit, report_dir)
    assert str(report_dir) in text
    assert "index.html" in text and "report.xlsx" in text
    assert "2 CSV files, 1 charts" in text


def test_top_problems_put_errors_first_then_off_topic_and_promotional_links(audit):
    problems = top_problems(audit)
    assert len(problems) == 5
    assert [p.category for p in problems[:3]] == [
        "broken_link",
        "off_topic_link",
        "promotional_link",
    ]
    assert problems[0].count == int((audit.findings["category"] == "broken_link").sum())


def test_top_problems_rank_every_error_before_warnings(audit):
    findings = pd.concat(
        [
            audit.findings,
            pd.DataFrame(
                {
                    "url": ["https://x.fr/a"],
                    "category": ["missing_title"],
                    "severity": ["error"],
                    "detail": [""],
                    "target": [None],
                }
            ),
        ],
        ignore_index=True,
    )
    problems = top_problems(replace(audit, findings=findings))
    assert [p.severity for p in problems[:2]] == ["error", "error"]


def test_summary_without_findings_has_no_problem_list(audit, tmp_path):
    text = terminal_summary(replace(audit, findings=audit.findings.head(0)), tmp_path)
    assert "Most important problems" not in text
    assert "0 errors, 0 warnings, 0 notices" in text


def test_headline_counts_count_flags(audit):
    counts = headline_counts(audit)
    assert counts["links"] == len(audit.links)
    assert counts["promotional_links"] == int(audit.links["promotional"].sum())
    assert counts["internal_links"] < counts["links"]
