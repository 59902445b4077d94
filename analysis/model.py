"""The finished audit of one crawl, as the report writers receive it.

The frames follow ``docs/report-contract`` (the CSV files of the report
directory): each has at least the contract's columns and may carry more.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import pandas as pd

ERROR_CHARS = 300  # a failure's one-line reason is cut to this length


@dataclass(frozen=True)
class StageFailure:
    """A stage of the audit that raised (analysis/stages.py): its part of the reports is
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
class Audit:
    """Everything the charts, the HTML page, the workbook and the summary show.

    ``pages``: url, status, redirect_to, depth, indexable, canonical, title, h1,
    h1_count, word_count, inlinks, outlinks, pagerank, topic, coherence (+ extras).
    ``links``: source, target, anchor, rel, internal, position, target_status,
    promotional, promo_reason, relevance, off_topic, context (+ extras).
    ``headings``: url, order, level, text.
    ``findings``: url, category, severity, detail, target.
    ``offtopic``: source, source_title, target, target_title, anchor, context,
    promotional, relevance, why, suggested_targets.
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

    @property
    def partial(self) -> bool:
        return bool(self.failures)
