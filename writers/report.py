"""Writing an audit to its report folder: the contract's CSV files, charts, HTML, workbook.

Each writer is a stage (``Stages`` in analysis/model.py): one that raises leaves its file
out and the others are still written, the failure is added to the audit (an
``audit_incomplete`` finding, a banner in index.html) and its traceback goes to
``errors.log``. An ``OSError`` (disk full, folder removed, permission) is no writer's
fault and stops the writing. ``INCOMPLETE.txt`` is written first and removed last, so a
folder whose writing was cut short (killed, disk full) says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from linkaudit.analysis.model import Audit, Stages, with_failures
from linkaudit.writers import SHEET_ROWS
from linkaudit.writers.background import Background
from linkaudit.writers.charts import CHARTS
from linkaudit.writers.html_report import write_html
from linkaudit.writers.tables import CONTRACT_COLUMNS, table_file, write_table
from linkaudit.writers.xlsx import write_xlsx

CSV_FILES = {
    "pages.csv": "pages",
    "links.csv": "links",
    "headings.csv": "headings",
    "findings.csv": "findings",
    "offtopic_links.csv": "offtopic",
}
# Working columns that would only confuse a report reader.
HIDDEN_COLUMNS = {"links": ["landing"]}
INCOMPLETE_MARKER = "INCOMPLETE.txt"
ERRORS_LOG = "errors.log"
FATAL = (OSError,)  # the file system's, not a writer's: stop writing


def write_marker(out_dir: Path, audit: Audit) -> Path:
    path = out_dir / INCOMPLETE_MARKER
    path.write_text(
        f"This report folder was not finished: linkaudit was writing the reports of crawl "
        f"{audit.crawl_id} of {audit.site} here and stopped before the end (killed, or out "
        f"of disk space). Its files may be missing, half-written or from an earlier run. "
        f"Run the analysis again (linkaudit analyze) to write it whole.\n", encoding="utf-8")
    return path


def _table(audit: Audit, out_dir: Path, name: str, file_name: str) -> Path:
    """The contract table ``name`` (``links.csv``) written as ``file_name``, whose ending
    says the format (``links.parquet``)."""
    attribute = CSV_FILES[name]
    frame = getattr(audit, attribute).drop(columns=HIDDEN_COLUMNS.get(attribute, []),
                                           errors="ignore")
    return write_table(frame, out_dir / file_name, CONTRACT_COLUMNS[name])


def report_files(table_format: str = "csv", links_format: str = "") -> dict[str, str]:
    """The file each table is written to, by table name (``links.csv`` -> ``links.jsonl``):
    every table in ``table_format``, the link table in ``links_format`` when one is given."""
    names = {name: table_file(name, table_format) for name in (*CSV_FILES, "changes.csv")}
    if links_format:
        names["links.csv"] = table_file("links.csv", links_format)
    return names


def write_reports(audit: Audit, out_dir: Path, *, xlsx: bool = True, charts: bool = True,
                  xlsx_max_rows: int = SHEET_ROWS, table_format: str = "csv",
                  links_format: str = "",
                  profile: dict[str, tuple[float, float]] | None = None,
                  progress: Callable[[str], None] | None = None
                  ) -> tuple[Audit, list[Path]]:
    """Every file of the report folder; returns the audit (with the writers' failures
    added) and the paths written. ``profile``, if given, receives what each file cost
    (seconds, peak RSS in MiB). ``table_format`` is how the tables are written: ``csv``
    (pages.csv, ...), ``csv.gz``, ``parquet`` or ``jsonl``; ``links_format``, if given, is
    the link table's own. ``charts`` False leaves the PNG charts out. ``progress`` is told
    each file as its writing starts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = write_marker(out_dir, audit)
    (out_dir / ERRORS_LOG).unlink(missing_ok=True)  # an earlier run's
    stages = Stages(f"crawl {audit.crawl_id}", audit.failures, listener=progress)

    def run(stage: str, subject: str, work: Callable[[], Path | None]) -> Path | None:
        return stages.run(stage, work, None, subject=subject, fatal=FATAL)

    files = report_files(table_format, links_format)
    # The workbook, the slowest file, is written beside the others (writers/background.py);
    # it lists the failures known when it starts: the analysis's, not the other writers'.
    workbook = Background(lambda: write_xlsx(audit, out_dir / "report.xlsx",
                                             max_rows=xlsx_max_rows,
                                             full_files={name.removesuffix(".csv"): file
                                                         for name, file in files.items()})) \
        if xlsx else None
    try:
        # Charts first, the HTML page last: each file then shows the failures before it.
        drawn = [run("charts", name, lambda d=draw, n=name: d(audit, out_dir / n))
                 for name, (draw, _) in CHARTS.items()] if charts else []
        shown = [path for path in drawn if path is not None]
        audit = with_failures(audit, stages.failures)
        written: list[Path | None] = list(shown)
        for name in CSV_FILES:
            written.append(run("csv", files[name],
                               lambda n=name: _table(audit, out_dir, n, files[n])))
        if audit.changes is not None:
            written.append(run("csv", files["changes.csv"], lambda: write_table(
                audit.changes, out_dir / files["changes.csv"])))
        audit = with_failures(audit, stages.failures)
        in_findings = len(audit.failures)
        # The page is written while the workbook's process may still run, and written again
        # in the rare case the workbook failed, so that it says so too.
        html = run("html", "index.html", lambda: write_html(audit, out_dir, shown, files))
        if workbook is not None:
            before = len(stages.failures)
            written.append(run("workbook", "report.xlsx", workbook.join))
            if len(stages.failures) > before:
                audit = with_failures(audit, stages.failures)
                html = run("html", "index.html",
                           lambda: write_html(audit, out_dir, shown, files))
        written.append(html)
        audit = with_failures(audit, stages.failures)
        if len(audit.failures) > in_findings:  # failed after findings.csv was written
            run("csv", files["findings.csv"],
                lambda: _table(audit, out_dir, "findings.csv", files["findings.csv"]))
        if audit.failures:
            written.append(write_error_log(audit, out_dir / ERRORS_LOG))
        marker.unlink()
    finally:
        if workbook is not None:
            workbook.cancel()  # only if an error stopped the writing before its join
    if profile is not None:
        profile.update(stages.profile)
    return audit, [path for path in written if path is not None]


def write_error_log(audit: Audit, path: Path) -> Path:
    """The tracebacks of the audit's failed stages, for a bug report."""
    failures = audit.failures
    parts = [f"linkaudit: partial audit of {audit.site}, crawl {audit.crawl_id} "
             f"({len(failures)} failed stage{'s' if len(failures) != 1 else ''})\n"]
    for failure in failures:
        skipped = f" (not run without it: {', '.join(failure.skipped)})" if failure.skipped else ""
        parts.append(f"\n== stage {failure.stage} failed on {failure.subject}{skipped}\n"
                     f"{failure.traceback}")
    path.write_text("".join(parts), encoding="utf-8")
    return path
