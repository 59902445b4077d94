"""The data index.html embeds for its per-page view and its topic graph, as safe JSON.

The page lists one page's inlinks, outlinks, findings and the relevance of its links
without any server, so it carries a compact copy of the audit's tables: URLs and repeated
strings once each, rows as arrays of numbers. What it carries is bounded whatever the site
size (:data:`MAX_PAGES`, :data:`MAX_LINKS`, :data:`MAX_FINDINGS`); what is left out is
counted, and the page says so and names the CSV file that has everything. Flagged links
(off-topic, promotional, broken) and content links are kept before navigation links.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from linkaudit.analysis.model import SEVERITIES, Audit, flags

MAX_PAGES = 10_000
MAX_LINKS = 25_000
MAX_FINDINGS = 10_000
TITLE_CHARS = 140
ANCHOR_CHARS = 100
DETAIL_CHARS = 240
POSITIONS = ("content", "nav", "header", "footer", "aside")
OFF_TOPIC, PROMOTIONAL, BROKEN = 1, 2, 4  # bits of a link's flags

# Characters that could end the <script> element the JSON sits in, or open a comment,
# are written as JSON escapes: the text the browser parses is unchanged.
_SCRIPT_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(data: object) -> str:
    """``data`` as JSON that can sit inside ``<script type="application/json">`` whatever
    crawled text it holds (``</script>`` included)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(
        _SCRIPT_SAFE
    )


def _cut(value: object, width: int) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _number(value: object, digits: int = 3) -> float | int | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return int(number) if number.is_integer() else round(number, digits)


class _Strings:
    """A table of distinct strings, each referred to by its index."""

    def __init__(self, first: list[str] | None = None) -> None:
        self.values: list[str] = []
        self.index: dict[str, int] = {}
        for value in first or []:
            self.add(value)

    def add(self, value: str) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found


def _chosen_pages(audit: Audit) -> pd.DataFrame:
    """The pages the view can open: the site's own first, strongest first."""
    pages = audit.pages.drop_duplicates("url")
    internal = flags(pages["internal"]) if "internal" in pages.columns else pd.Series(
        True, index=pages.index)
    rank = pd.to_numeric(pages["pagerank"], errors="coerce").fillna(-1)
    order = pages.assign(_internal=internal, _rank=rank).sort_values(
        ["_internal", "_rank"], ascending=[False, False], kind="stable")
    return order.head(MAX_PAGES)


def _chosen_links(audit: Audit) -> tuple[pd.DataFrame, int]:
    """The links embedded: distinct (source, target, anchor, position), flagged links first,
    then content links, then the rest, at most :data:`MAX_LINKS`; and how many distinct
    links there are."""
    links = audit.links[audit.links["target"].notna()]
    links = links.drop_duplicates(["source", "target", "anchor", "position"])
    status = pd.to_numeric(links["target_status"], errors="coerce")
    broken = status.ge(400).fillna(False).to_numpy(dtype=bool)
    bits = (np.where(flags(links["off_topic"]), OFF_TOPIC, 0)
            | np.where(flags(links["promotional"]), PROMOTIONAL, 0)
            | np.where(broken, BROKEN, 0))
    content = links["position"].astype("string").fillna("").eq("content").to_numpy(dtype=bool)
    priority = np.where(bits > 0, 0, np.where(content, 1, 2))
    chosen = links.assign(_bits=bits, _priority=priority, _status=status)
    return chosen.sort_values("_priority", kind="stable").head(MAX_LINKS), len(links)


def page_data(audit: Audit, node_of_page: pd.Series | None) -> dict[str, object]:
    """The per-page view's data: ``u`` URLs (the embedded pages first), ``s`` strings,
    ``p`` pages, ``l`` links, ``f`` findings, and ``total`` / ``shown`` counts.

    A page is ``[title, status, depth, topic node, pagerank, inlinks, outlinks, words,
    indexable, topic]``; a link ``[source, target, anchor, position, relevance, flags,
    status]`` (URLs and anchors as indices into ``u`` and ``s``); a finding ``[page,
    severity, category, detail, target]``.
    """
    pages = _chosen_pages(audit)
    urls = _Strings([str(u) for u in pages["url"]])
    strings = _Strings()
    nodes = node_of_page if node_of_page is not None else pd.Series(dtype="float64")
    page_rows = []
    for row in pages.itertuples(index=False):
        item = row._asdict()
        node = nodes.get(item["url"])
        page_rows.append([
            _cut(item.get("title"), TITLE_CHARS),
            _number(item.get("status")),
            _number(item.get("depth")),
            _number(node),
            _number(item.get("pagerank"), 2),
            _number(item.get("inlinks")),
            _number(item.get("outlinks")),
            _number(item.get("word_count")),
            bool(item.get("indexable")) if item.get("indexable") is not None
            and not pd.isna(item.get("indexable")) else None,
            strings.add(_cut(item.get("topic"), 60)),
        ])
    links, distinct_links = _chosen_links(audit)
    positions = {name: i for i, name in enumerate(POSITIONS)}
    link_rows = [
        [
            urls.add(str(source)),
            urls.add(str(target)),
            strings.add(_cut(anchor, ANCHOR_CHARS)),
            positions.get(str(position), len(POSITIONS)),
            _number(relevance),
            int(bits),
            _number(status),
        ]
        for source, target, anchor, position, relevance, bits, status in zip(
            links["source"], links["target"], links["anchor"], links["position"],
            links["relevance"], links["_bits"], links["_status"], strict=True)
    ]
    findings = audit.findings.head(MAX_FINDINGS)
    severities = {name: i for i, name in enumerate(SEVERITIES)}
    finding_rows = [
        [
            urls.add(str(url)),
            severities.get(str(severity), len(SEVERITIES)),
            strings.add(str(category)),
            _cut(detail, DETAIL_CHARS),
            _cut(target, 400),
        ]
        for url, severity, category, detail, target in zip(
            findings["url"], findings["severity"], findings["category"], findings["detail"],
            findings["target"], strict=True)
    ]
    return {
        "u": urls.values,
        "s": strings.values,
        "p": page_rows,
        "l": link_rows,
        "f": finding_rows,
        "positions": [*POSITIONS, "other"],
        "severities": [*SEVERITIES, "other"],
        "shown": {"pages": len(page_rows), "links": len(link_rows),
                  "findings": len(finding_rows)},
        "total": {"pages": int(audit.pages["url"].nunique()), "links": distinct_links,
                  "findings": len(audit.findings)},
    }
