"""The finished audit of one crawl, as the report writers receive it, and its shape.

The frames follow ``docs/report-contract`` (the CSV files of the report
directory): each has at least the contract's columns and may carry more.

Besides :class:`Audit`, this module holds what the analysis and the report writers
(``writers/``, which import nothing else of the analysis) both need to know about an
audit: the findings' columns, severities and order, the named stages of an audit and the
``audit_incomplete`` findings their failures leave, and the titles of the pages a link
joins.
"""

from __future__ import annotations

import resource
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

import pandas as pd

from linkaudit.analysis import memory

T = TypeVar("T")

ERROR_CHARS = 300  # a failure's one-line reason is cut to this length

# ---------------------------------------------------------------- findings

FINDING_COLUMNS = ["url", "category", "severity", "detail", "target"]
SEVERITIES = ("error", "warning", "notice")  # most severe first
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(SEVERITIES)}

# The severity of every finding category of the report contract.
SEVERITY: dict[str, str] = {
    # errors: a reader or a search engine hits a wall
    "broken_link": "error",
    "server_error": "error",
    "redirect_loop": "error",
    "missing_title": "error",
    # warnings: worth fixing, the page works
    "crawl_limit": "warning",
    "audit_incomplete": "warning",
    "staging_copy": "warning",
    "redirect_chain": "warning",
    "orphan_page": "warning",
    "duplicate_title": "warning",
    "missing_h1": "warning",
    "multiple_h1": "warning",
    "thin_content": "warning",
    "near_duplicate": "warning",
    "off_topic_link": "warning",
    "promotional_link": "warning",
    "incoherent_section": "warning",
    "content_artifact": "warning",
    "broken_external_link": "warning",
    # notices: facts to check, often deliberate
    "missing_meta_description": "notice",
    "skipped_heading_level": "notice",
    "empty_heading": "notice",
    "noindex": "notice",
    "canonicalized": "notice",
    "blocked_by_robots": "notice",
    "page_limit": "notice",
    "unverified_external_link": "notice",
}


def flags(values: pd.Series) -> pd.Series:
    """A yes/no column as plain bools: missing is False; text reads "true", "1", "yes"."""
    if values.dtype == bool:
        return values
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        lowered = values.astype("str").str.strip().str.lower()
        return lowered.isin(["true", "1", "yes"]).fillna(False).astype(bool)
    return values.astype("boolean").fillna(False).astype(bool)


def ordered_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` in the reports' order: by severity, then URL, then category."""
    rank = findings["severity"].map(SEVERITY_ORDER)
    order = (
        findings.assign(_rank=rank).sort_values(["_rank", "url", "category"], kind="stable").index
    )
    return findings.loc[order].reset_index(drop=True)


# ---------------------------------------------------------------- stages


@dataclass(frozen=True)
class StageFailure:
    """A stage of the audit that raised (see :class:`Stages`): its part of the reports is
    missing, and so are the parts of the stages that need it (``skipped``)."""

    stage: str
    subject: str  # what it was working on: "crawl 3", "pages.csv", "link_graph.png"
    error: str  # "ValueError: the message", on one line
    traceback: str
    skipped: tuple[str, ...] = ()

    @classmethod
    def of(cls, stage: str, subject: str, exc: BaseException) -> StageFailure:
        error = " ".join(f"{type(exc).__name__}: {exc}".split())
        if len(error) > ERROR_CHARS:
            error = error[: ERROR_CHARS - 1] + "…"
        return cls(stage, subject, error, "".join(traceback.format_exception(exc)))

    def line(self, log: object) -> str:
        """The terminal's line for this failure; ``log`` is where the traceback is."""
        return (f"partial audit: stage {self.stage} failed on {self.subject}: {self.error}; "
                f"traceback in {log}")


@dataclass(frozen=True)
class Stage:
    """What a stage gives the reports, so what is missing when it fails."""

    what: str  # for the reader of findings.csv; empty: the subject itself (a file)
    needs: tuple[str, ...] = ()  # stages whose results it works on
    pages: tuple[str, ...] = ()  # pages.csv columns it fills
    links: tuple[str, ...] = ()  # links.csv columns it fills


STAGES: dict[str, Stage] = {
    "graph": Stage("depth, inlinks, outlinks, pagerank, dead_end, target_status, the final "
                   "URLs of redirect_to, redirect, broken-link, external-link and orphan findings",
                   pages=("depth", "inlinks", "outlinks", "pagerank", "dead_end"),
                   links=("target_status",)),
    "checks": Stage("h1, h1_count, heading, title, metadata, thin-content, indexability and "
                    "content-artifact findings", pages=("h1", "h1_count")),
    "documents": Stage("the page texts that topics and near-duplicates work on"),
    "topics": Stage("topic, topic_id, top_terms, detected_lang, topic clusters",
                    needs=("documents",),
                    pages=("topic", "topic_id", "detected_lang", "top_terms")),
    "coherence": Stage("coherence, incoherent_section findings", needs=("topics",),
                       pages=("coherence",)),
    "relevance": Stage("relevance, off_topic, why, suggested_targets, template, off_topic_link "
                       "findings, offtopic_links.csv rows", needs=("topics",),
                       links=("relevance", "off_topic", "why", "suggested_targets",
                              "anchor_relevance", "template")),
    "promotional": Stage("promotional, promo_reason, promotional_link findings",
                         links=("promotional", "promo_reason")),
    "near_duplicates": Stage("near_duplicate_of, near_duplicate findings",
                             needs=("documents",), pages=("near_duplicate_of",)),
    "changes": Stage("changes.csv (the comparison with the previous crawl)"),
    "csv": Stage(""),
    "charts": Stage(""),
    "workbook": Stage(""),
    "html": Stage(""),
    "snapshot": Stage("this audit in the crawl store (history, the next crawl's changes)"),
}
# The stages that compute the audit's frames (the others write or keep them).
ANALYSIS_STAGES = ("graph", "checks", "documents", "topics", "coherence", "relevance",
                   "promotional", "near_duplicates")


class Stages:
    """Runs named stages, keeping the failures; ``subject`` names what they work on.

    ``build_audit`` (analysis/audit.py) and ``write_reports`` (writers/report.py) run their
    work through it. An exception in a stage becomes a :class:`StageFailure`: the stage's
    columns are left empty, its findings and files absent, the stages that need it do not
    run, and everything else goes on. The failures travel in ``Audit.failures``, show as
    ``audit_incomplete`` findings, and their tracebacks go to ``errors.log`` in the report
    folder.
    """

    def __init__(self, subject: str, failures: tuple[StageFailure, ...] = (),
                 listener: Callable[[str], None] | None = None) -> None:
        self.subject = subject
        # Told each stage's name as it starts (the command line's progress display).
        self.listener = listener
        self.failures: list[StageFailure] = list(failures)
        # What each stage cost: name -> (seconds, peak RSS in MiB when it ended), summed
        # over its runs; the benchmarks print it (benchmarks/bench_analysis.py).
        self.profile: dict[str, tuple[float, float]] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Count the time of a block in the profile under ``name``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            memory.release()
            seconds, _ = self.profile.get(name, (0.0, 0.0))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.profile[name] = (seconds + time.perf_counter() - started, peak)

    def cause(self, stage: str) -> int | None:
        """Index of the failure that took ``stage`` down (its own, or a stage it needs)."""
        for index, failure in enumerate(self.failures):
            if stage == failure.stage or stage in failure.skipped:
                return index
        return None

    def run(self, stage: str, work: Callable[[], T], fallback: T, *, subject: str = "",
            fatal: tuple[type[BaseException], ...] = ()) -> T:
        """``work()``, or ``fallback`` when it raises (anything but ``fatal``), when a stage
        it needs failed, or when it already failed on the same subject."""
        subject = subject or self.subject
        if any(f.stage == stage and f.subject == subject for f in self.failures):
            return fallback
        for need in STAGES[stage].needs:
            index = self.cause(need)
            if index is not None:
                failure = self.failures[index]
                if stage not in failure.skipped:
                    self.failures[index] = replace(failure, skipped=(*failure.skipped, stage))
                return fallback
        name = stage if subject == self.subject else f"{stage}: {subject}"
        if self.listener is not None:
            self.listener(name)
        try:
            with self.timed(name):
                return work()
        except fatal:
            raise
        except Exception as exc:
            self.failures.append(StageFailure.of(stage, subject, exc))
            return fallback


def missing(failure: StageFailure) -> str:
    """What a failure leaves out of the reports, in a few words."""
    text = STAGES[failure.stage].what or failure.subject
    if failure.skipped:
        text += "; not run without it: " + ", ".join(
            f"{stage} ({STAGES[stage].what})" for stage in failure.skipped)
    return text


def incomplete_findings(failures: list[StageFailure] | tuple[StageFailure, ...],
                        start_url: str) -> pd.DataFrame:
    """One ``audit_incomplete`` finding per failed stage."""
    rows = [{"url": start_url, "category": "audit_incomplete",
             "severity": SEVERITY["audit_incomplete"],
             "detail": (f"stage {f.stage} failed on {f.subject}: {f.error}; missing from "
                        f"the reports: {missing(f)}; traceback in errors.log"),
             "target": f.stage}
            for f in failures]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS).astype("str")


# ---------------------------------------------------------------- the audit


@dataclass(frozen=True)
class Audit:
    """Everything the charts, the HTML page, the workbook and the summary show.

    ``pages``: url, status, redirect_to, depth, indexable, canonical, title, h1,
    h1_count, word_count, inlinks, outlinks, pagerank, topic, coherence (+ extras).
    ``links``: source, target, anchor, rel, internal, position, target_status,
    promotional, promo_reason, relevance, off_topic, context (+ extras).
    ``headings``: url, order, level, text.
    ``findings``: url, category, severity, detail, target.
    ``offtopic``: source, source_title, target, target_title, anchor, context,
    promotional, relevance, why, suggested_targets (+ promo_reason): the links the
    analysis judged off-topic, titled by :func:`with_titles`.
    ``clusters``: topic_id, topic, size, terms.
    ``sections``: url, ord, heading, words, score, incoherent.
    ``relevance_threshold``: the calibrated relevance below which a link is off-topic.
    ``changes``: rows comparing this crawl with the previous one (change, url,
    detail...), or None when there is nothing to compare with.
    ``failures``: the stages that raised; their columns are empty and their findings
    absent (a partial audit, reported as ``audit_incomplete`` findings).
    """

    site: str
    start_url: str
    crawl_id: int
    started_at: str
    finished_at: str | None
    pages: pd.DataFrame
    links: pd.DataFrame
    headings: pd.DataFrame
    findings: pd.DataFrame
    offtopic: pd.DataFrame
    clusters: pd.DataFrame
    sections: pd.DataFrame
    relevance_threshold: float | None
    changes: pd.DataFrame | None = None
    failures: tuple[StageFailure, ...] = ()
    # Seconds and peak RSS (MiB) of each analysis stage (``Stages.profile``).
    profile: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return bool(self.failures)


def with_failures(audit: Audit, failures: list[StageFailure]) -> Audit:
    """``audit`` with ``failures`` (a superset of its own) and their findings rows."""
    new = [f for f in failures if f not in audit.failures]
    if not new:
        return audit
    frames = [audit.findings, incomplete_findings(new, audit.start_url)]
    findings = pd.concat([frame for frame in frames if not frame.empty], ignore_index=True)
    return replace(audit, failures=tuple(failures), findings=ordered_findings(findings))


# ---------------------------------------------------------------- pages and links

SUGGESTION_SEPARATOR = " | "  # between the URLs of a link's suggested_targets


def page_titles(pages: pd.DataFrame) -> pd.Series:
    """The title of each page, by URL."""
    return pages.drop_duplicates("url").set_index("url")["title"]


def with_titles(links: pd.DataFrame, pages: pd.DataFrame) -> pd.DataFrame:
    """``links`` with ``source_title`` and ``target_title``: the titles of the page a link is
    on and of the page it leads to (``landing``, where the target's redirects end, when the
    frame has that column; the target otherwise)."""
    titles = page_titles(pages)
    lands_on = links["landing"] if "landing" in links.columns else links["target"]
    return links.assign(source_title=links["source"].map(titles),
                        target_title=lands_on.map(titles))
