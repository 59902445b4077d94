"""The finished audit of one crawl, as the report writers receive it.

The frames follow ``docs/report-contract`` (the CSV files of the report
directory): each has at least the contract's columns and may carry more.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


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
