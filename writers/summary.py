"""The few lines printed at the end of a run: what was crawled, what matters most, where to look."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from linkaudit.analysis.model import SEVERITIES, Audit, flags
from linkaudit.writers import TABLE_FORMATS

# What editors act on first, after errors: links that send readers off topic or
# sell to them, then links that lead nowhere, then structure and content issues.
CATEGORY_PRIORITY = (
    "audit_incomplete",
    "crawl_limit",
    "staging_copy",
    "off_topic_link",
    "promotional_link",
    "broken_link",
    "server_error",
    "redirect_loop",
    "redirect_chain",
    "incoherent_section",
    "orphan_page",
    "blocked_by_robots",
    "noindex",
    "missing_title",
    "duplicate_title",
    "near_duplicate",
    "missing_h1",
    "multiple_h1",
    "thin_content",
    "canonicalized",
    "content_artifact",
    "skipped_heading_level",
    "empty_heading",
    "missing_meta_description",
)
CATEGORY_PHRASES = {
    "audit_incomplete": "failed stages of the audit",
    "crawl_limit": "crawl limits reached",
    "staging_copy": "copy of another site",
    "off_topic_link": "off-topic internal links",
    "promotional_link": "promotional links",
    "broken_link": "broken links",
    "server_error": "pages with a server error",
    "redirect_loop": "redirect loops",
    "redirect_chain": "redirect chains",
    "incoherent_section": "sections off their page's topic",
    "orphan_page": "orphan pages",
    "missing_title": "pages without a title",
    "duplicate_title": "duplicate titles",
    "missing_h1": "pages without an h1",
    "multiple_h1": "pages with several h1",
    "thin_content": "thin pages",
    "missing_meta_description": "pages without a meta description",
}
ANSI = {"error": "\x1b[31m", "warning": "\x1b[33m", "notice": "\x1b[36m", "bold": "\x1b[1m"}
ANSI_RESET = "\x1b[0m"


@dataclass(frozen=True)
class Problem:
    """One finding category, with how often and how badly it occurs."""

    category: str
    severity: str
    count: int
    example_url: str

    @property
    def phrase(self) -> str:
        return CATEGORY_PHRASES.get(self.category, self.category.replace("_", " "))


def _true_count(frame: pd.DataFrame, column: str) -> int:
    if column not in frame.columns:
        return 0
    return int(flags(frame[column]).sum())


# What each of :func:`headline_counts` counts, as the report page and the workbook word it.
HEADLINE_LABELS = {
    "pages": "pages crawled",
    "indexable": "indexable pages",
    "links": "links",
    "internal_links": "internal links",
    "off_topic_links": "off-topic links",
    "promotional_links": "promotional links",
}


def headline_counts(audit: Audit) -> dict[str, int]:
    """The numbers the reports open with."""
    return {
        "pages": len(audit.pages),
        "indexable": _true_count(audit.pages, "indexable"),
        "links": len(audit.links),
        "internal_links": _true_count(audit.links, "internal"),
        "off_topic_links": _true_count(audit.links, "off_topic"),
        "promotional_links": _true_count(audit.links, "promotional"),
    }


def severity_counts(findings: pd.DataFrame) -> dict[str, int]:
    """Findings per severity, every severity present (0 when none)."""
    counts = findings["severity"].value_counts() if not findings.empty else pd.Series()
    return {severity: int(counts.get(severity, 0)) for severity in SEVERITIES}


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _category_rank(category: str) -> int:
    return (
        CATEGORY_PRIORITY.index(category)
        if category in CATEGORY_PRIORITY
        else len(CATEGORY_PRIORITY)
    )


def top_problems(audit: Audit, limit: int = 5) -> list[Problem]:
    """The most important finding categories: errors first, then by what editors act on."""
    if audit.findings.empty:
        return []
    problems = []
    for category, rows in audit.findings.groupby("category", sort=False):
        worst = min(rows["severity"].astype(str), key=_severity_rank)
        problems.append(Problem(str(category), worst, len(rows), str(rows["url"].iloc[0])))
    problems.sort(
        key=lambda p: (_severity_rank(p.severity) != 0, _category_rank(p.category), -p.count)
    )
    return problems[:limit]


TABLE_LABELS = {"csv": "CSV", "csv.gz": "compressed CSV", "parquet": "Parquet",
                "jsonl": "JSON Lines"}


def _report_files(report_dir: Path) -> list[str]:
    lines = [f"Reports in {report_dir}"]
    for name, what in (
        ("index.html", "summary page, open it in a browser"),
        ("report.xlsx", "every table in one workbook"),
        ("errors.log", "what failed, with tracebacks: attach it to a bug report"),
    ):
        if (report_dir / name).exists():
            lines.append(f"  {name:<12} {what}")
    names = [p.name for p in report_dir.iterdir()] if report_dir.is_dir() else []
    # The tables, by format (a name's ending says it: links.csv.gz is compressed CSV).
    kinds = Counter(next((kind for kind, end in sorted(TABLE_FORMATS.items(),
                                                      key=lambda item: -len(item[1]))
                          if name.endswith(end)), None) for name in names)
    kinds.pop(None, None)
    tables = ", ".join(f"{n} {TABLE_LABELS[kind]} file{'s' if n != 1 else ''}"
                       for kind, n in sorted(kinds.items()))
    pngs = sum(name.endswith(".png") for name in names)
    if tables or pngs:
        lines.append(f"  {tables or '0 tables'}, {pngs} charts")
    return lines


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def terminal_summary(audit: Audit, report_dir: Path, color: bool = False) -> str:
    """A plain-text summary of the audit, under 25 lines; ANSI colours only when asked."""

    def paint(text: str, style: str) -> str:
        return f"{ANSI[style]}{text}{ANSI_RESET}" if color else text

    counts = headline_counts(audit)
    severities = severity_counts(audit.findings)
    finished = f" → {audit.finished_at}" if audit.finished_at else " (unfinished)"
    lines = [
        paint(f"linkaudit: {audit.site}, crawl {audit.crawl_id}", "bold"),
        f"  {audit.started_at}{finished}, start URL {audit.start_url}",
        f"Pages:    {counts['pages']:,} crawled, {counts['indexable']:,} indexable",
        f"Links:    {counts['links']:,} ({counts['internal_links']:,} internal, "
        f"{counts['off_topic_links']:,} off-topic, {counts['promotional_links']:,} promotional)",
        "Findings: "
        + ", ".join(paint(f"{n:,} {s}{'s' if n != 1 else ''}", s) for s, n in severities.items()),
    ]
    copies = audit.findings[audit.findings["category"] == "staging_copy"]
    for detail in copies["detail"].astype(str):
        lines += ["", paint(f"Warning: {detail}.", "warning")]
    limits = audit.findings[audit.findings["category"] == "crawl_limit"]
    for detail in limits["detail"].astype(str):
        lines += ["", paint(f"Incomplete crawl: {detail}; the reports cover only part of "
                            "the site.", "warning")]
    if audit.failures:
        lines.append("")
    for failure in audit.failures:
        lines.append(paint(failure.line(Path(report_dir) / "errors.log"), "error"))
    problems = top_problems(audit)
    if problems:
        lines += ["", paint("Most important problems:", "bold")]
    for rank, problem in enumerate(problems, start=1):
        lines.append(
            f"  {rank}. {paint(f'{problem.severity:<7}', problem.severity)} "
            f"{problem.count:>6,} {problem.phrase:<34} e.g. {_shorten(problem.example_url, 60)}"
        )
    lines += changes_lines(audit.changes)
    return "\n".join([*lines, "", *_report_files(Path(report_dir))])


def changes_lines(changes: pd.DataFrame | None, limit: int = 6) -> list[str]:
    """The crawl comparison in a few lines: counts of the most important change kinds."""
    if changes is None:
        return []
    if changes.empty:
        return ["", "Changes since the previous crawl: none"]
    counts = changes["change"].value_counts(sort=False)
    order = list(dict.fromkeys(changes["change"]))  # the comparison's importance order
    shown = ", ".join(f"{counts[kind]:,} {kind.replace('_', ' ')}" for kind in order[:limit])
    more = f" (+{len(order) - limit} more kinds)" if len(order) > limit else ""
    return ["", f"Changes since the previous crawl: {shown}{more}; see changes.csv"]
