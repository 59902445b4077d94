"""Analysing a stored crawl and writing its report folder (the command line's analysis half)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from analysis.audit import AuditSettings, build_audit
from analysis.load import load_crawl
from analysis.model import Audit
from analysis.report import write_reports
from analysis.summary import terminal_summary
from linkaudit import store
from linkaudit.alerts import AlertRuleError, evaluate_rules
from linkaudit.config import Config, ConfigError, promo_rules
from linkaudit.errors import CliError


@dataclass(frozen=True)
class ReportResult:
    audit: Audit
    out_dir: Path
    files: list[Path]
    seconds: float

    def alerts(self, rules: list[str], err: TextIO = sys.stderr) -> bool:
        """True when a --fail-on rule matched (and says which on ``err``)."""
        if not rules:
            return False
        try:
            matched = evaluate_rules(rules, self.audit.findings, self.audit.changes)
        except AlertRuleError as exc:
            raise CliError(str(exc)) from exc
        for line in matched:
            print(f"linkaudit: alert: {line}", file=err)
        return bool(matched)


def report_dir(store_path: Path, crawl_id: int) -> Path:
    return store_path.parent / str(crawl_id)


def _snapshot_rows(audit: Audit) -> tuple[dict[str, object], dict[str, list[tuple]]]:
    from analysis.summary import severity_counts

    pages, links, findings = audit.pages, audit.links, audit.findings
    flagged = links[links["off_topic"] | links["promotional"]]
    severities = severity_counts(findings)
    summary = {
        "analysed_at": store.utc_now(), "report_dir": None, "pages": len(pages),
        "indexable": int(pages["indexable"].sum()), "links": len(links),
        "errors": severities.get("error", 0), "warnings": severities.get("warning", 0),
        "notices": severities.get("notice", 0),
        "off_topic_links": int(links["off_topic"].sum()),
        "promotional_links": int(links["promotional"].sum()),
    }

    def rows(frame, columns):
        clean = frame[columns].astype(object).where(frame[columns].notna(), None)
        return list(clean.itertuples(index=False, name=None))

    tables = {
        "audit_pages": rows(pages, ["url", "status", "title", "h1", "canonical", "indexable",
                                    "pagerank"]),
        "audit_findings": rows(findings.fillna({"detail": "", "target": ""}),
                               ["url", "category", "severity", "detail", "target"]),
        "audit_links": rows(flagged.fillna({"promo_reason": "", "why": ""}),
                            ["source", "target", "anchor", "off_topic", "promotional",
                             "promo_reason", "why"]),
    }
    return summary, tables


def _compare_with_previous(store_path: Path, audit: Audit, settings: AuditSettings, rules):
    """Changes since the previous complete crawl (analysed now if it never was)."""
    from analysis.diff import compare, snapshot_from_audit
    from analysis.load import load_snapshot

    with store.opened(store_path) as conn:
        previous = store.previous_complete(conn, audit.crawl_id)
    if previous is None:
        return None
    crawl_id, analysed = previous
    if not analysed:
        _save_snapshot(store_path, build_audit(load_crawl(store_path, crawl_id), settings, rules),
                       report=None)
    return compare(load_snapshot(store_path, crawl_id), snapshot_from_audit(audit))


def _save_snapshot(store_path: Path, audit: Audit, report: Path | None) -> None:
    summary, tables = _snapshot_rows(audit)
    summary["report_dir"] = str(report) if report else None
    with store.opened(store_path) as conn:
        store.save_snapshot(conn, audit.crawl_id, summary, tables)


def _publish(staging: Path, final: Path) -> None:
    """Swap a finished report folder into place, so no reader sees a half-written one."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)


def _point_latest(site_dir: Path, final: Path) -> None:
    link = site_dir / "latest"
    temporary = site_dir / ".latest.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(final.name)
    os.replace(temporary, link)


def apply_retention(site_dir: Path, keep: int) -> list[Path]:
    """Delete the oldest report folders beyond ``keep`` (0 keeps all); returns what went."""
    if keep <= 0:
        return []
    folders = sorted((p for p in site_dir.iterdir() if p.is_dir() and p.name.isdigit()),
                     key=lambda p: int(p.name))
    doomed = folders[:-keep]
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


def audit_crawl(config: Config, store_path: Path, crawl_id: int | None, out_dir: Path | None,
                out: TextIO) -> ReportResult:
    """Load a crawl, analyse it, compare it with the previous one, write every report file."""
    started = time.perf_counter()
    try:
        rules = promo_rules(config)
        crawl = load_crawl(store_path, crawl_id)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    except (LookupError, FileNotFoundError, store.StoreError) as exc:
        raise CliError(str(exc)) from exc
    if crawl.pages.empty:
        raise CliError(f"crawl {crawl.crawl_id} in {store_path} recorded no page")
    settings = AuditSettings.from_config(config.analysis)
    audit = build_audit(crawl, settings, rules)
    audit = replace(audit, changes=_compare_with_previous(store_path, audit, settings, rules))
    default_dir = out_dir is None
    final = out_dir or report_dir(store_path, crawl.crawl_id)
    staging = final.parent / f".{final.name}.partial" if default_dir else final
    try:
        if staging.exists() and default_dir:
            shutil.rmtree(staging)
        files = write_reports(audit, staging, xlsx=config.report.xlsx)
        if default_dir:
            _publish(staging, final)
            files = [final / f.name for f in files]
            if crawl.state == "complete":
                _point_latest(final.parent, final)
            apply_retention(final.parent, config.report.keep)
    except OSError as exc:
        raise CliError(f"cannot write reports to {final}: {exc}") from exc
    _save_snapshot(store_path, audit, final)
    seconds = time.perf_counter() - started
    out.write(terminal_summary(audit, final, color=out.isatty()) + "\n")
    if crawl.state != "complete":
        out.write(f"note: crawl {crawl.crawl_id} is {crawl.state}; "
                  "`linkaudit crawl --resume` continues it\n")
    return ReportResult(audit=audit, out_dir=final, files=files, seconds=seconds)


def diff_crawls(config: Config, store_path: Path, old: int | None, new: int | None,
                out_dir: Path | None, out: TextIO) -> Path:
    """Compare two crawls (default: the last two complete ones); write changes.csv.

    A crawl that was never analysed is analysed first (its snapshot is kept in the store).
    """
    from analysis.diff import compare
    from analysis.load import load_snapshot
    from analysis.writers import write_csv

    with store.opened(store_path) as conn:
        complete = store.complete_crawls(conn)
        analysed = set(store.audit_summaries(conn))
    if (old is None) != (new is None):
        raise CliError("give both crawl ids (OLD NEW), or none for the last two complete crawls")
    if old is None:
        if len(complete) < 2:
            raise CliError(f"{store_path} holds {len(complete)} complete crawl(s); "
                           "a comparison needs two")
        old, new = complete[-2], complete[-1]
    try:
        settings = AuditSettings.from_config(config.analysis)
        for crawl_id in {old, new} - analysed:
            _save_snapshot(store_path, build_audit(load_crawl(store_path, crawl_id), settings,
                                                   promo_rules(config)), report=None)
        changes = compare(load_snapshot(store_path, old), load_snapshot(store_path, new))
    except (LookupError, ConfigError) as exc:
        raise CliError(str(exc)) from exc
    path = (out_dir or report_dir(store_path, new)) / "changes.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(changes, path)
    counts = changes["change"].value_counts()
    out.write(f"crawl {old} → {new}: {len(changes)} changes\n")
    for change, count in counts.items():
        out.write(f"  {change:<24} {count}\n")
    out.write(f"written to {path}\n")
    return path


def history_table(store_path: Path) -> str:
    """One line per crawl in the store with its headline figures."""
    with store.opened(store_path) as conn:
        crawls = store.list_crawls(conn)
        audits = store.audit_summaries(conn)
        lines = [f"{'crawl':>5}  {'started (UTC)':<25} {'state':<11} {'pages':>6} {'links':>7} "
                 f"{'errors':>6} {'warnings':>8} {'off-topic':>9} {'promo':>6}  start URL"]
        for info in crawls:
            numbers = store.counts(conn, info.crawl_id)
            audit = audits.get(info.crawl_id, {})

            def figure(key: str, width: int, audit: dict = audit) -> str:
                value = audit.get(key)
                return f"{value:>{width}}" if value is not None else f"{'-':>{width}}"

            lines.append(f"{info.crawl_id:>5}  {info.started_at:<25} {info.state:<11} "
                         f"{numbers['pages']:>6} {numbers['links']:>7} {figure('errors', 6)} "
                         f"{figure('warnings', 8)} {figure('off_topic_links', 9)} "
                         f"{figure('promotional_links', 6)}  {info.start_url}")
    lines.append("(figures after the state are from each crawl's last analysis; "
                 "- = not analysed)")
    return "\n".join(lines) + "\n"
