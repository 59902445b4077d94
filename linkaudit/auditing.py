"""Analysing a stored crawl and writing its report folder (the command line's analysis half)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from analysis.audit import AuditSettings, build_audit
from analysis.load import load_crawl
from analysis.model import Audit
from analysis.report import write_reports
from analysis.summary import terminal_summary
from linkaudit import store
from linkaudit.alerts import AlertRuleError, evaluate_rules
from linkaudit.errors import CliError
from linkaudit.config import Config, ConfigError, promo_rules


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


def audit_crawl(config: Config, store_path: Path, crawl_id: int | None, out_dir: Path | None,
                out: TextIO) -> ReportResult:
    """Load a crawl, analyse it, write every report file, print the summary."""
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
    out_dir = out_dir or report_dir(store_path, crawl.crawl_id)
    audit = build_audit(crawl, AuditSettings.from_config(config.analysis), rules)
    try:
        files = write_reports(audit, out_dir, xlsx=config.report.xlsx)
    except OSError as exc:
        raise CliError(f"cannot write reports to {out_dir}: {exc}") from exc
    seconds = time.perf_counter() - started
    out.write(terminal_summary(audit, out_dir, color=out.isatty()) + "\n")
    return ReportResult(audit=audit, out_dir=out_dir, files=files, seconds=seconds)


def history_table(store_path: Path) -> str:
    """One line per crawl in the store with its headline figures."""
    with store.opened(store_path) as conn:
        crawls = store.list_crawls(conn)
        lines = [f"{'crawl':>5}  {'started (UTC)':<25} {'state':<11} {'pages':>6} "
                 f"{'links':>7} {'errors':>6}  start URL"]
        for info in crawls:
            numbers = store.counts(conn, info.crawl_id)
            errors = conn.execute(
                "SELECT COUNT(*) FROM pages WHERE crawl_id = ? AND (status IS NULL OR "
                "status >= 400)", (info.crawl_id,)).fetchone()[0]
            lines.append(f"{info.crawl_id:>5}  {info.started_at:<25} {info.state:<11} "
                         f"{numbers['pages']:>6} {numbers['links']:>7} {errors:>6}  "
                         f"{info.start_url}")
    return "\n".join(lines) + "\n"
