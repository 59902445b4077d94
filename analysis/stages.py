"""Named stages of an audit: a stage that raises leaves its part of the reports empty.

``build_audit`` (analysis/audit.py) and ``write_reports`` (analysis/report.py) run their
work through :class:`Stages`. An exception in a stage becomes a
:class:`~analysis.model.StageFailure`: the stage's columns are left empty, its findings
and files absent, the stages that need it do not run, and everything else goes on. The
failures travel in ``Audit.failures``, show as ``audit_incomplete`` findings, and their
tracebacks go to ``errors.log`` in the report folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import pandas as pd

from analysis import checks
from analysis.model import Audit, StageFailure

T = TypeVar("T")


@dataclass(frozen=True)
class Stage:
    """What a stage gives the reports, so what is missing when it fails."""

    what: str  # for the reader of findings.csv; empty: the subject itself (a file)
    needs: tuple[str, ...] = ()  # stages whose results it works on
    pages: tuple[str, ...] = ()  # pages.csv columns it fills
    links: tuple[str, ...] = ()  # links.csv columns it fills


STAGES: dict[str, Stage] = {
    "graph": Stage("depth, inlinks, outlinks, pagerank, dead_end, target_status, the final "
                   "URLs of redirect_to, redirect, broken-link and orphan findings",
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
    """Runs named stages, keeping the failures; ``subject`` names what they work on."""

    def __init__(self, subject: str, failures: tuple[StageFailure, ...] = ()) -> None:
        self.subject = subject
        self.failures: list[StageFailure] = list(failures)

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
        try:
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
    rows = [{"url": start_url, "target": f.stage,
             "detail": (f"stage {f.stage} failed on {f.subject}: {f.error}; missing from "
                        f"the reports: {missing(f)}; traceback in errors.log")}
            for f in failures]
    return checks.make_findings(pd.DataFrame(rows, columns=["url", "detail", "target"]),
                                "audit_incomplete", "detail", target="target")


def with_failures(audit: Audit, failures: list[StageFailure]) -> Audit:
    """``audit`` with ``failures`` (a superset of its own) and their findings rows."""
    new = [f for f in failures if f not in audit.failures]
    if not new:
        return audit
    findings = checks.concat_findings([audit.findings, incomplete_findings(new, audit.start_url)])
    return replace(audit, failures=tuple(failures), findings=findings)


def blank(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with ``columns`` emptied (missing values of a nullable dtype)."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    frame = frame.copy()
    for column in present:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        elif pd.api.types.is_integer_dtype(dtype):
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        elif pd.api.types.is_float_dtype(dtype):
            frame[column] = np.nan
        else:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype=object)
    return frame


def blank_failed(pages: pd.DataFrame, links: pd.DataFrame, failures: list[StageFailure]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pages and links with the columns of every failed or skipped stage emptied."""
    for failure in failures:
        for stage in (failure.stage, *failure.skipped):
            pages = blank(pages, STAGES[stage].pages)
            links = blank(links, STAGES[stage].links)
    return pages, links
