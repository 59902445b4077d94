"""Analysing a stored crawl and writing its report folder (the command line's analysis half)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import pandas as pd

from linkaudit import storage
from linkaudit.alerts import AlertRuleError, evaluate_rules
from linkaudit.analysis.audit import build_audit
from linkaudit.analysis.load import CrawlFrames, load_crawl
from linkaudit.analysis.model import ANALYSIS_STAGES, Audit, Stages, flags, with_failures
from linkaudit.analysis.prepare import Prepared
from linkaudit.analysis.promo import PromoRules
from linkaudit.analysis.settings import AuditSettings
from linkaudit.config import Config, ConfigError, promo_rules
from linkaudit.errors import EXIT_PARTIAL, CliError
from linkaudit.progress import Phases
from linkaudit.upgrade import decide_missing
from linkaudit.writers.background import Background
from linkaudit.writers.report import ERRORS_LOG, write_error_log, write_reports
from linkaudit.writers.summary import terminal_summary


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


def _snapshot(audit: Audit) -> tuple[dict[str, object], dict[str, pd.DataFrame]]:
    """The audits row and the snapshot tables the next crawl is compared with."""
    from linkaudit.analysis.diff import LINK_COLUMNS, LINK_WHY, snapshot_from_audit
    from linkaudit.writers.summary import severity_counts

    pages, links = audit.pages, audit.links
    snapshot = snapshot_from_audit(audit)
    # The audit's own failures are not facts about the site, to compare with the next crawl.
    findings = snapshot.findings[snapshot.findings["category"] != "audit_incomplete"]
    severities = severity_counts(findings)
    summary = {
        "analysed_at": storage.utc_now(), "report_dir": None, "pages": len(pages),
        "indexable": int(flags(pages["indexable"]).sum()), "links": len(links),
        "errors": severities.get("error", 0), "warnings": severities.get("warning", 0),
        "notices": severities.get("notice", 0),
        "off_topic_links": int(flags(links["off_topic"]).sum()),
        "promotional_links": int(flags(links["promotional"]).sum()),
    }
    return summary, {
        "pages": snapshot.pages,
        "findings": findings.fillna({"detail": "", "target": ""}),
        "links": snapshot.links.reindex(columns=[*LINK_COLUMNS, LINK_WHY]).fillna(
            {"promo_reason": "", LINK_WHY: ""}),
    }


def _compare_with_previous(store_path: Path, audit: Audit, settings: AuditSettings, rules):
    """Changes since the previous complete crawl (analysed now if it never was)."""
    from linkaudit.analysis.diff import compare, snapshot_from_audit
    from linkaudit.analysis.load import load_snapshot

    with storage.opened(store_path) as conn:
        previous = storage.previous_complete(conn, audit.crawl_id)
    if previous is None:
        return None
    crawl_id, analysed = previous
    if not analysed:
        earlier = build_audit(load_crawl(store_path, crawl_id), settings, rules)
        if earlier.failures:
            failure = earlier.failures[0]
            raise RuntimeError(f"the previous crawl, {crawl_id}, could not be analysed whole: "
                               f"stage {failure.stage} failed: {failure.error}")
        _save_snapshot(store_path, earlier, report=None)
    return compare(load_snapshot(store_path, crawl_id), snapshot_from_audit(audit))


def _save_snapshot(store_path: Path, audit: Audit, report: Path | None) -> None:
    summary, tables = _snapshot(audit)
    summary["report_dir"] = str(report) if report else None
    with storage.opened(store_path) as conn:
        storage.save_snapshot(conn, audit.crawl_id, summary, tables)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system
    or its file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _publish(staging: Path, final: Path) -> None:
    """Swap a finished report folder into place, so no reader sees a half-written one.

    An older folder of the same crawl is swapped out in one step, then removed: ``latest``,
    which may point at that name, never points at a half-deleted folder nor at nothing.
    """
    if final.exists() and _exchange(staging, final):
        shutil.rmtree(staging)
        return
    if final.exists():  # no atomic swap here: two renames, a moment without the folder
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old)
        return
    os.replace(staging, final)


def _latest_target(site_dir: Path) -> Path | None:
    link = site_dir / "latest"
    return site_dir / os.readlink(link) if link.is_symlink() else None


def _point_latest(site_dir: Path, final: Path) -> None:
    """Point ``latest`` at ``final``, in one step, unless it shows a newer crawl's report."""
    current = _latest_target(site_dir)
    if (current is not None and current.name.isdigit() and final.name.isdigit()
            and int(current.name) > int(final.name) and current.is_dir()):
        return
    link = site_dir / "latest"
    temporary = site_dir / ".latest.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(final.name)
    os.replace(temporary, link)


def apply_retention(site_dir: Path, keep: int) -> list[Path]:
    """Delete the oldest report folders beyond ``keep`` (0 keeps all), never the one
    ``latest`` points at; returns what went."""
    if keep <= 0:
        return []
    folders = sorted((p for p in site_dir.iterdir() if p.is_dir() and p.name.isdigit()),
                     key=lambda p: int(p.name))
    latest = _latest_target(site_dir)
    doomed = [folder for folder in folders[:-keep] if folder != latest]
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


PROFILE_ENV = "LINKAUDIT_PROFILE"  # a file to receive the per-stage profile (benchmarks)


def _write_profile(profile: dict[str, tuple[float, float]]) -> None:
    """Seconds and peak RSS of each stage, as JSON, where the environment asks for them."""
    path = os.environ.get(PROFILE_ENV)
    if path:
        with contextlib.suppress(OSError):
            Path(path).write_text(json.dumps(profile, indent=1), encoding="utf-8")


def _write_folder(audit: Audit, final: Path, default_dir: bool, complete: bool,
                  config: Config, store_path: Path, writing: dict[str, tuple[float, float]],
                  progress: Callable[[str], None] | None = None) -> tuple[Audit, list[Path]]:
    """Write the report folder: the default one through a hidden staging folder swapped into
    place when whole; ``--out DIR`` in place, marked INCOMPLETE.txt until finished.
    ``writing`` receives what each file cost (seconds, peak RSS in MiB)."""
    staging = final.parent / f".{final.name}.partial" if default_dir else final
    try:
        if staging.exists() and default_dir:
            shutil.rmtree(staging)
        audit, files = write_reports(audit, staging, xlsx=config.report.xlsx,
                                     charts=config.report.charts,
                                     xlsx_max_rows=config.report.xlsx_max_rows,
                                     table_format=config.report.format,
                                     links_format=config.report.links_format,
                                     profile=writing, progress=progress)
        if default_dir:
            _publish(staging, final)
            files = [final / f.name for f in files]
            if complete:
                _point_latest(final.parent, final)
            apply_retention(final.parent, config.report.keep)
    except OSError as exc:
        if default_dir:
            shutil.rmtree(staging, ignore_errors=True)
        where = "" if default_dir else f" ({final / 'INCOMPLETE.txt'} marks it unfinished)"
        raise CliError(f"cannot write reports to {final}: {exc.strerror or exc}{where}; "
                       f"the crawl is kept in {store_path}, `linkaudit analyze` writes "
                       "them again") from exc
    return audit, files


def _bug(exc: Exception, folder: Path, what: str) -> CliError:
    """A one-line error for an unexpected exception, its traceback kept in errors.log."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / ERRORS_LOG
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        where = f"traceback in {log}"
    except OSError:
        where = "no traceback written (the folder is not writable)"
    return CliError(f"{what} failed: {reason}; {where}")


def audit_crawl(config: Config, store_path: Path, crawl_id: int | None, out_dir: Path | None,
                out: TextIO, prepared: Prepared | None = None,
                progress: Phases | None = None) -> ReportResult:
    """Load a crawl, analyse it, compare it with the previous one, write every report file.

    A stage of the audit that fails (``linkaudit.analysis.model.Stages``) makes it partial:
    every report that does not need that stage is written, the summary says what failed,
    and the command ends with a one-line error and EXIT_PARTIAL. A partial analysis is
    neither compared with the previous crawl nor kept in the store for later comparisons.
    ``prepared``: per-page results computed while the crawl ran (analysis/prepare.py); the
    audit is the same without them. ``progress`` is told each stage as it starts.
    """
    started = time.perf_counter()
    if progress is not None:
        progress("load")
    rules, crawl = load_for_audit(config, store_path, crawl_id)
    loaded = (time.perf_counter() - started,
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    default_dir = out_dir is None
    final = out_dir or report_dir(store_path, crawl.crawl_id)
    try:
        audit, files = _audit_and_write(config, store_path, crawl, rules, final, default_dir,
                                        prepared, progress, loaded)
    except CliError:
        raise
    except Exception as exc:
        raise _bug(exc, final if not default_dir else store_path.parent,
                   f"the audit of crawl {crawl.crawl_id}") from exc
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - started
    out.write(terminal_summary(audit, final, color=out.isatty()) + "\n")
    if crawl.state == "failed":
        out.write(f"note: crawl {crawl.crawl_id} failed (its start URL gave no HTML page); "
                  "it is never a baseline for comparisons\n")
    elif crawl.state != "complete":
        out.write(f"note: crawl {crawl.crawl_id} is {crawl.state}; "
                  "`linkaudit crawl --resume` continues it\n")
    if audit.partial:
        stages = ", ".join(dict.fromkeys(f.stage for f in audit.failures))
        raise CliError(f"partial audit of crawl {crawl.crawl_id}: stage(s) {stages} failed; "
                       f"the other reports are in {final}, tracebacks in "
                       f"{final / ERRORS_LOG}", EXIT_PARTIAL)
    return ReportResult(audit=audit, out_dir=final, files=files, seconds=seconds)


def forked_job(work: Callable[[], object]) -> Background | None:
    """``work`` started in a forked process, or None where the machine cannot fork."""
    job = Background(work)
    return job if job.forked else None


def load_for_audit(config: Config, store_path: Path, crawl_id: int | None
                   ) -> tuple[PromoRules, CrawlFrames]:
    """The promotional rules and the crawl (default: the newest); CliError when the store
    or the crawl cannot be read, or the crawl recorded no page."""
    try:
        rules = promo_rules(config)
        decide_missing(store_path)
        crawl = load_crawl(store_path, crawl_id)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    except (LookupError, FileNotFoundError, storage.StoreError) as exc:
        raise CliError(str(exc)) from exc
    if crawl.pages.empty:
        raise CliError(f"crawl {crawl.crawl_id} in {store_path} recorded no page")
    return rules, crawl


def analyse(config: Config, store_path: Path, crawl: CrawlFrames, rules: PromoRules,
            prepared: Prepared | None = None,
            progress: Callable[[str], None] | None = None) -> tuple[Audit, bool]:
    """The audit of a loaded crawl, compared with the previous complete crawl when the
    analysis is whole (the flag returned): nothing is written but that crawl's snapshot,
    when it never was analysed."""
    settings = config.analysis
    audit = build_audit(crawl, settings, rules, prepared=prepared, progress=progress,
                        beside=forked_job)
    whole = not any(f.stage in ANALYSIS_STAGES for f in audit.failures)
    stages = Stages(f"crawl {crawl.crawl_id}", audit.failures, listener=progress)
    if whole:  # a partial analysis would show what it lacks as changes
        changes = stages.run("changes", lambda: _compare_with_previous(
            store_path, audit, config.analysis, rules), None)
        audit = with_failures(replace(audit, changes=changes,
                                      profile={**audit.profile, **stages.profile}),
                              stages.failures)
    return audit, whole


def _audit_and_write(config: Config, store_path: Path, crawl: CrawlFrames, rules: PromoRules,
                     final: Path, default_dir: bool, prepared: Prepared | None = None,
                     progress: Callable[[str], None] | None = None,
                     loaded: tuple[float, float] = (0.0, 0.0)) -> tuple[Audit, list[Path]]:
    audit, whole = analyse(config, store_path, crawl, rules, prepared, progress)
    writing: dict[str, tuple[float, float]] = {}
    audit, files = _write_folder(audit, final, default_dir, crawl.state == "complete", config,
                                 store_path, writing, progress)
    stages = Stages(f"crawl {crawl.crawl_id}", audit.failures, listener=progress)
    if whole:
        stages.run("snapshot", lambda: _save_snapshot(store_path, audit, final), None)
    _write_profile({"load": loaded, **audit.profile, **writing, **stages.profile})
    if len(stages.failures) > len(audit.failures):  # after the reports: errors.log only
        audit = with_failures(audit, stages.failures)
        with contextlib.suppress(OSError):
            write_error_log(audit, final / ERRORS_LOG)
    return audit, files


def diff_crawls(config: Config, store_path: Path, old: int | None, new: int | None,
                out_dir: Path | None, out: TextIO) -> Path:
    """Compare two crawls (default: the last two complete ones); write changes.csv (in
    ``[report] format``: changes.jsonl, ...).

    A crawl that was never analysed is analysed first (its snapshot is kept in the store).
    """
    from linkaudit.analysis.diff import compare
    from linkaudit.analysis.load import load_snapshot
    from linkaudit.writers.tables import table_file, write_table

    with storage.opened_readonly(store_path) as conn:
        complete = storage.complete_crawls(conn)
        analysed = set(storage.audit_summaries(conn) if storage.has_table(conn, "audits") else ())
    if old is None:
        if len(complete) < 2:
            raise CliError(f"{store_path} holds {len(complete)} complete crawl(s); "
                           "a comparison needs two")
        old, new = complete[-2], complete[-1]
    try:
        settings = config.analysis
        if {old, new} - analysed:
            decide_missing(store_path)
        for crawl_id in {old, new} - analysed:
            _save_snapshot(store_path, build_audit(load_crawl(store_path, crawl_id), settings,
                                                   promo_rules(config)), report=None)
        changes = compare(load_snapshot(store_path, old), load_snapshot(store_path, new))
    except (LookupError, ConfigError) as exc:
        raise CliError(str(exc)) from exc
    path = (out_dir or report_dir(store_path, new)) / table_file("changes.csv",
                                                                 config.report.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(changes, path)
    counts = changes["change"].value_counts()
    out.write(f"crawl {old} → {new}: {len(changes)} changes\n")
    for change, count in counts.items():
        out.write(f"  {change:<24} {count}\n")
    out.write(f"written to {path}\n")
    return path


def history_table(store_path: Path) -> str:
    """One line per crawl in the store with its headline figures."""
    with storage.opened_readonly(store_path) as conn:
        crawls = storage.list_crawls(conn)
        audits = storage.audit_summaries(conn) if storage.has_table(conn, "audits") else {}
        lines = [f"{'crawl':>5}  {'started (UTC)':<25} {'state':<11} {'pages':>6} {'links':>7} "
                 f"{'errors':>6} {'warnings':>8} {'off-topic':>9} {'promo':>6}  start URL"]
        for info in crawls:
            numbers = storage.counts(conn, info.crawl_id)
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
