"""What changed between two crawls of a site: one row per change (``changes.csv``).

:func:`compare` takes two :class:`Snapshot` objects (what an audit keeps for later
comparison) and returns a frame with :data:`CHANGE_COLUMNS`. Pages are matched on their
URL, findings on ``(url, category, target)`` and flagged links on ``(source, target)``;
every comparison is a merge on those keys, so a 100,000-page crawl compares in seconds.

When the two crawls started from different origins (the site moved to https, or a local
copy is served on another port), URLs on each crawl's own origin are compared by path and
query, so the same page still matches. The rows keep the new crawl's absolute URLs (the old
crawl's for what disappeared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from linkaudit.analysis.checks import quote
from linkaudit.analysis.model import FINDING_COLUMNS, flags

CHANGE_COLUMNS = ["change", "url", "target", "category", "severity", "old", "new", "detail"]

# Most important first: this is the order people read changes.csv in.
CHANGE_KINDS = [
    "status_changed",
    "new_finding",
    "new_off_topic_link",
    "new_promotional_link",
    "page_removed",
    "page_added",
    "indexability_changed",
    "canonical_changed",
    "title_changed",
    "h1_changed",
    "link_score_moved",
    "fixed_finding",
    "fixed_off_topic_link",
    "fixed_promotional_link",
]
_KIND_RANK = {kind: rank for rank, kind in enumerate(CHANGE_KINDS)}

PAGE_COLUMNS = ["url", "status", "title", "h1", "canonical", "indexable", "pagerank"]
LINK_COLUMNS = ["source", "target", "anchor", "off_topic", "promotional", "promo_reason"]
# Optional link column: why a link was judged off-topic (shown in the change's detail).
LINK_WHY = "why"

DEFAULT_SCORE_MOVE = 10.0
ARROW = " → "


@dataclass(frozen=True)
class Snapshot:
    """What a crawl's audit leaves for later comparison.

    ``pages``: url, status, title, h1, canonical, indexable (bool), pagerank (0-100 or NaN).
    ``findings``: url, category, severity, detail, target.
    ``links``: flagged links only: source, target, anchor, off_topic (bool),
    promotional (bool), promo_reason (and optionally why).
    """

    crawl_id: int
    start_url: str
    pages: pd.DataFrame
    findings: pd.DataFrame
    links: pd.DataFrame


def snapshot_from_audit(audit: Any) -> Snapshot:
    """The part of a ``linkaudit.analysis.model.Audit`` that the next crawl is compared with."""
    pages = audit.pages.reindex(columns=PAGE_COLUMNS)
    findings = audit.findings.reindex(columns=FINDING_COLUMNS)
    link_columns = LINK_COLUMNS + ([LINK_WHY] if LINK_WHY in audit.links.columns else [])
    links = audit.links.reindex(columns=link_columns)
    flagged = flags(links["off_topic"]) | flags(links["promotional"])
    return Snapshot(
        crawl_id=int(audit.crawl_id),
        start_url=str(audit.start_url),
        pages=pages.reset_index(drop=True),
        findings=findings.reset_index(drop=True),
        links=links[flagged].reset_index(drop=True),
    )


def empty_changes() -> pd.DataFrame:
    """A changes frame with no rows and :data:`CHANGE_COLUMNS`."""
    return pd.DataFrame({column: pd.Series(dtype="str") for column in CHANGE_COLUMNS})


def compare(old: Snapshot, new: Snapshot, score_move: float = DEFAULT_SCORE_MOVE
            ) -> pd.DataFrame:
    """Every change from ``old`` to ``new``, most important first, then by URL.

    ``score_move`` is the smallest move of a page's link score (0-100 points) reported.
    """
    old_origin, new_origin = key_origins(old.start_url, new.start_url)
    old_pages = _page_frame(old.pages, old_origin)
    new_pages = _page_frame(new.pages, new_origin)
    pages = old_pages.merge(new_pages, on="key", how="outer", suffixes=("_old", "_new"),
                            indicator=True)
    both = pages[pages["_merge"] == "both"]
    # A page that now answers 404 or redirects also lost its title, h1 and indexability;
    # its status change says it all, so its other fields are compared only at equal status.
    same_status = both[_status_text(both["status_old"]).eq(_status_text(both["status_new"]))]
    parts = [
        *_presence_changes(pages),
        _status_changes(both),
        _text_changes(same_status, "title", "title_changed"),
        _text_changes(same_status, "h1", "h1_changed"),
        _canonical_changes(same_status),
        _indexability_changes(same_status),
        _score_moves(same_status, score_move),
        *_finding_changes(old.findings, old_origin, new.findings, new_origin),
        *_link_changes(old.links, old_origin, new.links, new_origin),
    ]
    return _sorted(parts)


# ---------------------------------------------------------------------------
# URLs across origins


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased."""
    parts = urlsplit(str(url).strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def key_origins(old_start: str, new_start: str) -> tuple[str, str]:
    """The origins :func:`url_keys` strips: none when both crawls share one origin."""
    old_origin, new_origin = origin(old_start), origin(new_start)
    return ("", "") if old_origin == new_origin else (old_origin, new_origin)


def url_keys(urls: pd.Series, site_origin: str) -> pd.Series:
    """URLs on ``site_origin`` as path + query ("/a?b"); other URLs unchanged.

    Keys of two crawls compare equal for the same page even when the site changed origin.
    URLs are normalised (lower-case scheme and host), so a prefix test is enough.
    """
    text = urls.fillna("").astype("str")
    if not site_origin or site_origin == "://" or text.empty:
        return text
    # Findings and links repeat the same URLs many times: work on each distinct URL once.
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype="str")
    size = len(site_origin)
    # The next character test keeps http://host:80 from matching http://host:8080/...
    on_site = distinct.str.startswith(site_origin) & distinct.str.slice(size, size + 1).isin(
        ["", "/", "?", "#"])
    relative = distinct.str.slice(size)
    relative = relative.mask(relative.eq(""), "/")
    keys = relative.where(on_site, distinct).to_numpy()
    return pd.Series(keys[codes], index=urls.index, dtype="str")


# ---------------------------------------------------------------------------
# Normalising snapshot frames (they may come from the store or from CSV files)


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), "").astype("str")


def _page_frame(pages: pd.DataFrame, site_origin: str) -> pd.DataFrame:
    frame = pages.reindex(columns=PAGE_COLUMNS)
    out = pd.DataFrame({
        "key": url_keys(frame["url"], site_origin),
        "url": _as_text(frame["url"]),
        "status": pd.to_numeric(frame["status"], errors="coerce").astype("Int64"),
        "title": _as_text(frame["title"]),
        "h1": _as_text(frame["h1"]),
        "canonical": _as_text(frame["canonical"]),
        "canonical_key": url_keys(frame["canonical"], site_origin),
        "indexable": flags(frame["indexable"]),
        "pagerank": pd.to_numeric(frame["pagerank"], errors="coerce").astype("float64"),
    })
    return out.drop_duplicates("key")


def _finding_frame(findings: pd.DataFrame, site_origin: str) -> pd.DataFrame:
    frame = findings.reindex(columns=FINDING_COLUMNS)
    out = pd.DataFrame({column: _as_text(frame[column]) for column in FINDING_COLUMNS})
    out["url_key"] = url_keys(out["url"], site_origin)
    out["target_key"] = url_keys(out["target"], site_origin)
    return _numbered(out, ["url_key", "category", "target_key"])


def _link_frame(links: pd.DataFrame, site_origin: str, flag: str) -> pd.DataFrame:
    frame = links.reindex(columns=[*LINK_COLUMNS, LINK_WHY])
    frame = frame[flags(frame[flag])]
    out = pd.DataFrame({column: _as_text(frame[column])
                        for column in ["source", "target", "anchor", "promo_reason", LINK_WHY]})
    out["source_key"] = url_keys(out["source"], site_origin)
    out["target_key"] = url_keys(out["target"], site_origin)
    return _numbered(out, ["source_key", "target_key"])


def _numbered(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Number repeats of one key (two findings for two links to one broken page), so that
    going from two to one shows as one fixed, not as nothing or as a cross product."""
    occurrence = frame.groupby(keys, sort=False).cumcount().astype("str")
    # One text key per row: set membership on it is much faster than a multi-column merge.
    joined = frame[keys[0]].str.cat([frame[k] for k in keys[1:]] + [occurrence], sep="\x1f")
    return frame.assign(match_key=joined)


# ---------------------------------------------------------------------------
# Building change rows


def _rows(frame: pd.DataFrame, change: str, url: pd.Series, detail: pd.Series, *,
          old: pd.Series | str = "", new: pd.Series | str = "", target: pd.Series | str = "",
          category: pd.Series | str = "", severity: pd.Series | str = "") -> pd.DataFrame:
    """Change rows for each row of ``frame``; scalars fill the whole column."""
    if frame.empty:
        return empty_changes()
    index = frame.index

    def column(value: pd.Series | str) -> np.ndarray:
        if isinstance(value, str):
            return np.full(len(index), value, dtype=object)
        return _as_text(value.reindex(index)).to_numpy(dtype=object)

    data = {"change": column(change), "url": column(url), "target": column(target),
            "category": column(category), "severity": column(severity), "old": column(old),
            "new": column(new), "detail": column(detail)}
    return pd.DataFrame(data).astype("str")


def _sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [part for part in parts if not part.empty]
    if not non_empty:
        return empty_changes()
    changes = pd.concat(non_empty, ignore_index=True)
    rank = changes["change"].map(_KIND_RANK)
    order = (changes.assign(_rank=rank)
             .sort_values(["_rank", "url", "category", "target", "detail"], kind="stable")
             .index)
    return changes.loc[order, CHANGE_COLUMNS].reset_index(drop=True)


def _one_line(values: pd.Series) -> pd.Series:
    return values.str.replace(r"\s+", " ", regex=True).str.strip()


def _status_text(status: pd.Series) -> pd.Series:
    """"404", or "" for no response."""
    return _as_text(status.astype("object"))


def _status_words(status: pd.Series) -> pd.Series:
    text = _status_text(status)
    return ("status " + text).where(text.ne(""), "no response")


# ---------------------------------------------------------------------------
# Pages


def _presence_changes(pages: pd.DataFrame) -> list[pd.DataFrame]:
    return [_added_pages(pages[pages["_merge"] == "right_only"]),
            _removed_pages(pages[pages["_merge"] == "left_only"])]


def _added_pages(added: pd.DataFrame) -> pd.DataFrame:
    if added.empty:
        return empty_changes()
    return _rows(added, "page_added", added["url_new"],
                 "new page (" + _status_words(added["status_new"]) + ")",
                 new=_status_text(added["status_new"]))


def _removed_pages(removed: pd.DataFrame) -> pd.DataFrame:
    if removed.empty:
        return empty_changes()
    return _rows(removed, "page_removed", removed["url_old"],
                 "no longer reached by the crawl (was " + _status_words(removed["status_old"])
                 + ")", old=_status_text(removed["status_old"]))


def _status_changes(both: pd.DataFrame) -> pd.DataFrame:
    old, new = _status_text(both["status_old"]), _status_text(both["status_new"])
    moved = both[old.ne(new)]
    if moved.empty:
        return empty_changes()
    old_words = _status_words(moved["status_old"])
    new_words = _status_words(moved["status_new"]).str.replace("status ", "", regex=False)
    return _rows(moved, "status_changed", moved["url_new"], old_words + ARROW + new_words,
                 old=old[old.ne(new)], new=new[old.ne(new)])


def _quoted(values: pd.Series) -> pd.Series:
    # Only changed rows reach here, so a per-value format is cheap.
    return values.map(lambda text: quote(text) if text else "(none)")


def _text_changes(both: pd.DataFrame, field: str, change: str) -> pd.DataFrame:
    old, new = both[f"{field}_old"], both[f"{field}_new"]
    moved = both[_one_line(old).ne(_one_line(new))]
    if moved.empty:
        return empty_changes()
    old, new = moved[f"{field}_old"], moved[f"{field}_new"]
    return _rows(moved, change, moved["url_new"],
                 field + " " + _quoted(old) + ARROW + _quoted(new), old=old, new=new)


def _canonical_changes(both: pd.DataFrame) -> pd.DataFrame:
    # Keys, not URLs: a site that changed origin did not change its canonicals.
    moved = both[both["canonical_key_old"].ne(both["canonical_key_new"])]
    if moved.empty:
        return empty_changes()
    old = moved["canonical_old"].mask(moved["canonical_old"].eq(""), "(none)")
    new = moved["canonical_new"].mask(moved["canonical_new"].eq(""), "(none)")
    return _rows(moved, "canonical_changed", moved["url_new"],
                 "canonical " + old + ARROW + new,
                 old=moved["canonical_old"], new=moved["canonical_new"])


def _indexability_changes(both: pd.DataFrame) -> pd.DataFrame:
    moved = both[both["indexable_old"].ne(both["indexable_new"])]
    if moved.empty:
        return empty_changes()
    now = moved["indexable_new"]
    detail = pd.Series(np.where(now, "now indexable", "no longer indexable"), index=moved.index)
    words = {True: "true", False: "false"}
    return _rows(moved, "indexability_changed", moved["url_new"], detail,
                 old=moved["indexable_old"].map(words), new=now.map(words))


def _score_moves(both: pd.DataFrame, score_move: float) -> pd.DataFrame:
    delta = both["pagerank_new"] - both["pagerank_old"]
    moved = both[delta.abs().ge(score_move).fillna(False)]
    if moved.empty:
        return empty_changes()
    old = moved["pagerank_old"].map("{:.1f}".format)
    new = moved["pagerank_new"].map("{:.1f}".format)
    shift = delta[moved.index].map("{:+.1f}".format)
    return _rows(moved, "link_score_moved", moved["url_new"],
                 "link score " + old + ARROW + new + " (" + shift + ")", old=old, new=new)


# ---------------------------------------------------------------------------
# Findings and flagged links


def _anti_join(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``left`` whose match key is not in ``right``."""
    return left[~left["match_key"].isin(right["match_key"])]


def _finding_changes(old: pd.DataFrame, old_origin: str, new: pd.DataFrame, new_origin: str
                     ) -> list[pd.DataFrame]:
    old_rows, new_rows = _finding_frame(old, old_origin), _finding_frame(new, new_origin)
    appeared = _anti_join(new_rows, old_rows)
    fixed = _anti_join(old_rows, new_rows)
    return [_finding_rows(appeared, "new_finding", "new"),
            _finding_rows(fixed, "fixed_finding", "fixed")]


def _finding_rows(findings: pd.DataFrame, change: str, word: str) -> pd.DataFrame:
    if findings.empty:
        return empty_changes()
    detail = word + " " + findings["category"] + ": " + _one_line(findings["detail"])
    return _rows(findings, change, findings["url"], detail, target=findings["target"],
                 category=findings["category"], severity=findings["severity"])


def _link_changes(old: pd.DataFrame, old_origin: str, new: pd.DataFrame, new_origin: str
                  ) -> list[pd.DataFrame]:
    parts = []
    for flag, name, category in (("off_topic", "off_topic_link", "off_topic_link"),
                                 ("promotional", "promotional_link", "promotional_link")):
        old_rows = _link_frame(old, old_origin, flag)
        new_rows = _link_frame(new, new_origin, flag)
        reason = "promo_reason" if flag == "promotional" else LINK_WHY
        parts.append(_link_rows(_anti_join(new_rows, old_rows), f"new_{name}", reason,
                                category))
        parts.append(_link_rows(_anti_join(old_rows, new_rows), f"fixed_{name}", reason,
                                category))
    return parts


def _link_rows(links: pd.DataFrame, change: str, reason: str, category: str) -> pd.DataFrame:
    if links.empty:
        return empty_changes()
    because = _one_line(links[reason])
    detail = "anchor " + links["anchor"].map(quote) + (": " + because).where(because.ne(""), "")
    return _rows(links, change, links["source"], detail, target=links["target"],
                 category=category)
