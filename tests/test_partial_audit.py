"""Never crash, never lose: a failing stage leaves the rest of the audit whole, crawl limits
are reported, a killed or disk-full report run leaves nothing unmarked."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from linkaudit.analysis.audit import AuditSettings, build_audit
from linkaudit.analysis.promo import default_rules
from linkaudit.cli import main
from linkaudit.errors import EXIT_PARTIAL
from linkaudit.writers.html_report import render_html
from linkaudit.writers.report import CSV_FILES, ERRORS_LOG, INCOMPLETE_MARKER, write_reports
from linkaudit.writers.summary import terminal_summary
from tests.audit_factory import make_audit
from tests.conftest import DEMO_SITE, REPO, run_cli, serve
from tests.test_audit import crawl  # noqa: F401 - the small hand-made crawl, a fixture


def boom(*args: object, **kwargs: object) -> None:
    raise ValueError("boom")


def categories(audit) -> set[str]:
    return set(audit.findings["category"])


# ---------------------------------------------------------------- analysis stages

# stage, the function it calls that is made to raise, columns then empty, categories
# then absent, categories still there.
STAGE_CASES = [
    ("graph", "linkaudit.analysis.graph.resolve_redirects", ["depth", "inlinks", "pagerank"],
     {"broken_link", "redirect_chain"}, {"multiple_h1", "promotional_link"}),
    ("checks", "linkaudit.analysis.checks.page_findings", ["h1", "h1_count"], {"multiple_h1"},
     {"broken_link", "off_topic_link", "promotional_link"}),
    ("topics", "linkaudit.analysis.topics.build_topic_model", ["topic", "coherence"],
     {"off_topic_link"},
     {"broken_link", "multiple_h1", "promotional_link"}),
    ("coherence", "linkaudit.analysis.coherence.section_coherence", ["coherence"], set(),
     {"broken_link", "off_topic_link", "promotional_link"}),
    ("relevance", "linkaudit.analysis.topics.link_relevance", [], {"off_topic_link"},
     {"broken_link", "multiple_h1", "promotional_link"}),
    ("promotional", "linkaudit.analysis.promo.classify_links", [], {"promotional_link"},
     {"broken_link", "multiple_h1", "off_topic_link"}),
    ("near_duplicates", "linkaudit.analysis.duplicates.near_duplicates", ["near_duplicate_of"],
     set(),
     {"broken_link", "off_topic_link", "promotional_link"}),
]


@pytest.mark.parametrize(("stage", "target", "empty", "absent", "present"), STAGE_CASES,
                         ids=[case[0] for case in STAGE_CASES])
def test_a_failing_stage_empties_its_part_and_keeps_the_others(
        crawl, monkeypatch, stage, target, empty, absent, present):  # noqa: F811
    monkeypatch.setattr(target, boom)
    audit = build_audit(crawl, AuditSettings(), default_rules())
    assert [f.stage for f in audit.failures] == [stage]
    assert audit.failures[0].error == "ValueError: boom"
    assert "Traceback" in audit.failures[0].traceback
    for column in empty:
        assert audit.pages[column].isna().all(), column
    assert not absent & categories(audit)
    assert present <= categories(audit)
    notice = audit.findings[audit.findings["category"] == "audit_incomplete"]
    assert list(notice["target"]) == [stage]
    assert notice["detail"].iloc[0].startswith(f"stage {stage} failed on crawl 1: ValueError")


def test_verdict_columns_of_a_failed_stage_are_empty_not_false(crawl, monkeypatch):  # noqa: F811
    monkeypatch.setattr("linkaudit.analysis.promo.classify_links", boom)
    audit = build_audit(crawl, AuditSettings(), default_rules())
    assert audit.links["promotional"].isna().all()
    assert audit.links["off_topic"].notna().all()  # relevance did not need it


def test_stages_that_need_a_failed_one_are_skipped_and_named(crawl, monkeypatch):  # noqa: F811
    monkeypatch.setattr("linkaudit.analysis.text.page_documents", boom)
    audit = build_audit(crawl, AuditSettings(), default_rules())
    (failure,) = audit.failures
    assert failure.stage == "documents"
    assert set(failure.skipped) == {"topics", "coherence", "relevance", "near_duplicates"}
    assert audit.links["off_topic"].isna().all() and audit.pages["topic"].isna().all()
    assert {"broken_link", "multiple_h1", "promotional_link"} <= categories(audit)
    assert "not run without it: topics" in audit.findings.loc[
        audit.findings["category"] == "audit_incomplete", "detail"].iloc[0]


def test_a_whole_audit_has_no_failure(crawl):  # noqa: F811
    audit = build_audit(crawl, AuditSettings(), default_rules())
    assert not audit.partial and "audit_incomplete" not in categories(audit)


# ---------------------------------------------------------------- report writers


def _fail_on(name: str, real):
    def write(frame, path, *args, **kwargs):
        if Path(path).name == name:
            raise ValueError(f"cannot write {name}")
        return real(frame, path, *args, **kwargs)
    return write


def test_each_failing_writer_leaves_its_file_out_and_the_others_in(tmp_path, monkeypatch):
    from linkaudit import writers

    caption = writers.charts.CHARTS["top_pages.png"][1]
    monkeypatch.setitem(writers.charts.CHARTS, "top_pages.png", (boom, caption))
    monkeypatch.setattr("linkaudit.writers.report.write_table", _fail_on("pages.csv",
                                                             writers.report.write_table))
    monkeypatch.setattr("linkaudit.writers.report.write_xlsx", boom)
    audit, files = write_reports(make_audit(40), tmp_path)
    failed = {(f.stage, f.subject) for f in audit.failures}
    assert failed == {("charts", "top_pages.png"), ("csv", "pages.csv"),
                      ("workbook", "report.xlsx")}
    names = {path.name for path in tmp_path.iterdir()}
    assert {"links.csv", "findings.csv", "index.html", "link_graph.png", ERRORS_LOG} <= names
    assert not {"pages.csv", "top_pages.png", "report.xlsx", INCOMPLETE_MARKER} & names
    assert {p.name for p in files} <= names
    # findings.csv was written before the workbook failed, and again after.
    findings = pd.read_csv(tmp_path / "findings.csv", encoding="utf-8-sig")
    assert set(findings.loc[findings["category"] == "audit_incomplete", "target"]) == {
        "charts", "csv", "workbook"}
    html = (tmp_path / "index.html").read_text("utf-8")
    assert "Partial audit" in html and "stage workbook failed on report.xlsx" in html
    log = (tmp_path / ERRORS_LOG).read_text("utf-8")
    assert log.count("Traceback") == 3 and "== stage csv failed on pages.csv" in log


def test_failing_html_is_still_in_findings_csv(tmp_path, monkeypatch):
    monkeypatch.setattr("linkaudit.writers.report.write_html", boom)
    audit, _ = write_reports(make_audit(20), tmp_path, xlsx=False)
    assert [f.stage for f in audit.failures] == ["html"]
    findings = pd.read_csv(tmp_path / "findings.csv", encoding="utf-8-sig")
    assert "html" in set(findings["target"].dropna())
    assert not (tmp_path / "index.html").exists()


def test_a_file_system_error_stops_the_writing_and_leaves_the_folder_marked(
        tmp_path, monkeypatch):
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("linkaudit.writers.report.write_xlsx", full)
    with pytest.raises(OSError):
        write_reports(make_audit(20), tmp_path)
    marker = (tmp_path / INCOMPLETE_MARKER).read_text("utf-8")
    assert "This report folder was not finished" in marker


def test_a_finished_folder_has_no_marker_and_no_stale_error_log(tmp_path):
    (tmp_path / ERRORS_LOG).write_text("from an earlier run")
    audit, _ = write_reports(make_audit(20), tmp_path, xlsx=False)
    assert not audit.partial
    assert not (tmp_path / INCOMPLETE_MARKER).exists() and not (tmp_path / ERRORS_LOG).exists()
    assert all((tmp_path / name).exists() for name in CSV_FILES)


# ---------------------------------------------------------------- crawl limits

LIMITS = {
    "max_depth": {"count": 194, "example": "https://clinic.test/deep/page", "limit": 20},
    "max_seconds": {"count": 35, "example": "", "limit": 600.0},
}


def test_each_limit_that_cut_the_crawl_is_a_finding_and_a_loud_line(crawl, tmp_path):  # noqa: F811
    audit = build_audit(replace(crawl, limits=LIMITS), AuditSettings(), default_rules())
    rows = audit.findings[audit.findings["category"] == "crawl_limit"]
    assert set(rows["severity"]) == {"warning"}
    assert list(rows["detail"]) == [
        "max_depth = 20 kept 194 URLs out of the crawl, e.g. https://clinic.test/deep/page",
        "max_seconds = 600 stopped the crawl with 35 requests still queued",
    ]
    summary = terminal_summary(audit, tmp_path)
    assert ("Incomplete crawl: max_depth = 20 kept 194 URLs out of the crawl, e.g. "
            "https://clinic.test/deep/page; the reports cover only part of the site.") in summary
    html = render_html(audit, [])
    assert "Incomplete crawl" in html and "kept 194 URLs out of the crawl" in html


def test_limits_are_read_with_their_values_from_the_crawl_settings():
    from linkaudit.analysis.load import crawl_limits

    stats = {"linkaudit/cut/max_pages": 30, "linkaudit/cut/max_pages/example": "https://a/b",
             "scheduler/enqueued": 50, "scheduler/dequeued": 42}
    assert crawl_limits(stats, "closespider_timeout", {"max_pages": 5, "max_seconds": 60.0}) == {
        "max_pages": {"count": 30, "example": "https://a/b", "limit": 5},
        "max_seconds": {"count": 8, "example": "", "limit": 60.0},
    }


def test_an_uncut_crawl_has_no_limit_finding(crawl):  # noqa: F811
    audit = build_audit(crawl, AuditSettings(), default_rules())
    assert "crawl_limit" not in categories(audit)
    assert "Incomplete crawl" not in render_html(audit, [])


# ---------------------------------------------------------------- latest and retention


def test_latest_never_moves_back_to_an_older_crawl_nor_is_deleted(tmp_path):
    from linkaudit.auditing import _point_latest, apply_retention

    for crawl_id in (1, 2, 3):
        (tmp_path / str(crawl_id)).mkdir()
    _point_latest(tmp_path, tmp_path / "2")
    _point_latest(tmp_path, tmp_path / "1")  # re-analysing an older crawl
    assert os.readlink(tmp_path / "latest") == "2"
    assert [p.name for p in apply_retention(tmp_path, keep=1)] == ["1"]
    assert (tmp_path / "2").is_dir()  # older than the newest kept, but latest's


# ---------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    """A complete crawl of the demo site (44 pages), copied by each test."""
    folder = tmp_path_factory.mktemp("demo-store")
    served = serve(DEMO_SITE)
    try:
        result = run_cli("crawl", served.base_url, "--store", "crawls.sqlite", "--quiet",
                         "--delay", "0", "--concurrency", "8", cwd=folder)
    finally:
        served.process.terminate()
        served.process.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    return folder / "crawls.sqlite"


@pytest.fixture
def site(demo_store, tmp_path) -> Path:
    """A site folder holding a copy of the demo store."""
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copy(demo_store, folder / "crawls.sqlite")
    return folder


def analyze(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["analyze", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def store_is_intact(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return ok and conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == 44
    finally:
        conn.close()


@pytest.mark.e2e
def test_cli_partial_audit_writes_the_rest_and_exits_5(site, monkeypatch):
    monkeypatch.setattr("linkaudit.analysis.topics.build_topic_model", boom)
    code, out, err = analyze("--store", str(site / "crawls.sqlite"))
    folder = site / "1"
    assert code == EXIT_PARTIAL
    assert len(err.strip().splitlines()) == 1 and "partial audit of crawl 1" in err
    assert "Traceback" not in out + err
    assert (f"partial audit: stage topics failed on crawl 1: ValueError: boom; traceback in "
            f"{folder / ERRORS_LOG}") in out
    assert "Traceback" in (folder / ERRORS_LOG).read_text("utf-8")
    findings = pd.read_csv(folder / "findings.csv", encoding="utf-8-sig")
    assert "audit_incomplete" in set(findings["category"])
    assert {"broken_link", "promotional_link"} <= set(findings["category"])
    assert "Partial audit" in (folder / "index.html").read_text("utf-8")
    assert (folder / "report.xlsx").exists() and not (folder / INCOMPLETE_MARKER).exists()
    assert (site / "latest").resolve() == folder.resolve()
    from linkaudit import storage as store  # a partial analysis is no baseline for the next crawl

    with store.opened(site / "crawls.sqlite") as conn:
        assert 1 not in store.audit_summaries(conn)


@pytest.mark.e2e
def test_cli_bug_outside_any_stage_is_one_line_with_its_traceback_kept(site, monkeypatch):
    monkeypatch.setattr("linkaudit.analysis.audit.offtopic_table", boom)
    code, out, err = analyze("--store", str(site / "crawls.sqlite"))
    assert code == 1 and out == ""
    assert err.strip() == (f"linkaudit: error: the audit of crawl 1 failed: ValueError: boom; "
                           f"traceback in {site / ERRORS_LOG}")
    assert "Traceback" in (site / ERRORS_LOG).read_text("utf-8")
    assert not (site / "1").exists()


@pytest.mark.e2e
def test_cli_disk_full_is_one_line_and_the_store_is_intact(site, monkeypatch):
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("linkaudit.writers.report.write_xlsx", full)
    code, out, err = analyze("--store", str(site / "crawls.sqlite"))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "No space left on device" in err and "Traceback" not in err
    assert not (site / "1").exists() and not (site / ".1.partial").exists()
    code, _, err = analyze("--store", str(site / "crawls.sqlite"), "--out", str(site / "out"))
    assert code == 1 and (site / "out" / INCOMPLETE_MARKER).exists()
    assert store_is_intact(site / "crawls.sqlite")
    monkeypatch.undo()
    code, _, err = analyze("--store", str(site / "crawls.sqlite"))
    assert code == 0, err
    assert (site / "latest" / "index.html").exists()


@pytest.mark.e2e
def test_republishing_a_folder_swaps_it_whole_while_latest_points_at_it(site, monkeypatch):
    import linkaudit.auditing

    assert analyze("--store", str(site / "crawls.sqlite"))[0] == 0
    (site / "1" / "old-run.txt").write_text("the first run's folder")
    removed = []
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        latest = site / "latest"
        removed.append((Path(path).name, (latest / "index.html").exists(),
                        (latest / INCOMPLETE_MARKER).exists(),
                        (latest / "old-run.txt").exists()))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(linkaudit.auditing.shutil, "rmtree", rmtree)
    assert analyze("--store", str(site / "crawls.sqlite"))[0] == 0
    # The old folder is removed only once swapped out: latest shows the new one whole.
    assert (".1.partial", True, False, False) in removed
    assert all(entry[1] and not entry[2] for entry in removed)
    assert not (site / "1" / "old-run.txt").exists()


KILLABLE = """
import sys, time
from pathlib import Path
import linkaudit.writers.report

def slow(audit, path, *args, **kwargs):
    Path(sys.argv[1]).write_text("writing")
    time.sleep(120)

linkaudit.writers.report.write_xlsx = slow
from linkaudit.cli import main
sys.exit(main(sys.argv[2:]))
"""


def kill_while_writing(cwd: Path, *argv: str) -> None:
    """Start `linkaudit ARGV` with a workbook writer that hangs, SIGKILL it once writing."""
    signal_file = cwd / "writing.signal"
    signal_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(signal_file), *argv],
                            cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert proc.poll() is None, "the run ended before writing its workbook"
            assert time.monotonic() < deadline, "the run never reached its workbook"
            time.sleep(0.1)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.e2e
def test_a_run_killed_while_writing_leaves_latest_valid_and_out_marked(site):
    store_path = str(site / "crawls.sqlite")
    assert analyze("--store", store_path)[0] == 0
    kill_while_writing(site, "analyze", "--store", store_path)
    latest = site / "latest"
    assert (latest / "index.html").exists() and not (latest / INCOMPLETE_MARKER).exists()
    assert (site / ".1.partial" / INCOMPLETE_MARKER).exists()  # never published
    kill_while_writing(site, "analyze", "--store", store_path, "--out", str(site / "out"))
    marker = (site / "out" / INCOMPLETE_MARKER).read_text("utf-8")
    assert "not finished" in marker
    result = run_cli("analyze", "--store", store_path, cwd=site)
    assert result.returncode == 0, result.stderr
    assert (latest / "report.xlsx").exists() and not (latest / INCOMPLETE_MARKER).exists()
    assert not (site / ".1.partial").exists()
    result = run_cli("analyze", "--store", store_path, "--out", str(site / "out"), cwd=site)
    assert result.returncode == 0, result.stderr
    assert not (site / "out" / INCOMPLETE_MARKER).exists()
    assert (site / "out" / "report.xlsx").exists()


@pytest.mark.e2e
def test_a_crawl_cut_by_max_pages_says_so(tmp_path):
    served = serve(DEMO_SITE)
    try:
        result = run_cli("run", served.base_url, "--max-pages", "5", "--store", "s.sqlite",
                         "--out", "out", "--quiet", "--delay", "0", cwd=tmp_path)
    finally:
        served.process.terminate()
        served.process.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    assert "Incomplete crawl: max_pages = 5 kept " in result.stdout
    findings = pd.read_csv(tmp_path / "out" / "findings.csv", encoding="utf-8-sig")
    limits = findings[findings["category"] == "crawl_limit"]
    assert list(limits["target"]) == ["max_pages"]
    assert limits["detail"].iloc[0].startswith("max_pages = 5 kept ")
    assert "URLs out of the crawl, e.g. " + served.base_url in limits["detail"].iloc[0]
    assert "Incomplete crawl" in (tmp_path / "out" / "index.html").read_text("utf-8")


def test_the_profile_file_gives_every_stage_from_the_load_to_the_snapshot(site, monkeypatch,
                                                                          tmp_path):
    profile = tmp_path / "profile.json"
    monkeypatch.setenv("LINKAUDIT_PROFILE", str(profile))
    code, _, err = analyze("--store", str(site / "crawls.sqlite"), "--quiet")
    assert code == 0, err
    stages = json.loads(profile.read_text(encoding="utf-8"))
    assert list(stages)[0] == "load" and list(stages)[-1] == "snapshot"
    assert {"graph", "documents", "topics", "coherence", "relevance", "changes",
            "csv: links.csv", "html: index.html"} <= set(stages)
    for name, (seconds, peak) in stages.items():
        assert seconds >= 0 and peak > 100, name  # MiB: the interpreter and pandas alone
