"""A crawl as the analysis sees it: the store's frames, read as the site they describe."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from linkaudit import storage


@dataclass(frozen=True)
class ProductionHost:
    """Another host that most pages name as the canonical home of their own path: the
    crawled site looks like a copy of it (a staging copy, a local build)."""

    host: str
    pages: int  # pages whose canonical is their own path on ``host``
    of_pages: int  # pages with a canonical
    declared: bool  # given as an alias in the settings, rather than detected


@dataclass(frozen=True, kw_only=True)
class CrawlFrames(storage.CrawlInfo):
    """One crawl as read from the store: its row (``storage.CrawlInfo``) and its frames
    (columns: docs/crawl-store.md)."""

    pages: pd.DataFrame
    links: pd.DataFrame
    headings: pd.DataFrame
    sections: pd.DataFrame
    redirects: pd.DataFrame
    # One row per external link target checked (check_external; empty when it was off).
    external_checks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["url", "status", "final_url", "final_status", "error", "method", "redirects"]))
    production_host: ProductionHost | None = None
    # Limits that kept URLs out of the crawl: {"max_depth": {"count": 194, "example": url,
    # "limit": 20}} (max_pages, max_depth, max_url_length, max_seconds; from the crawl's
    # statistics and settings).
    limits: dict[str, dict[str, object]] = field(default_factory=dict)


def bare_host(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


_ORIGIN = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*"
# Share of the pages with a canonical that must point to one other host, for the crawl to
# be read as a copy of that host.
COPY_SHARE = 0.5
COPY_MIN_PAGES = 3


def detect_production_host(pages: pd.DataFrame) -> ProductionHost | None:
    """The other host most canonicals name for the page's own path, if any."""
    html = pages[(pages["status"] == 200).fillna(False) & pages["is_html"]
                 & pages["canonical"].notna()]
    if len(html) < COPY_MIN_PAGES:
        return None
    canonical = html["canonical"].astype("str")
    url = html["url"].astype("str")
    canonical_host = _hosts(canonical)
    page_host = _hosts(url)
    same_path = canonical.str.replace(_ORIGIN, "", regex=True) == url.str.replace(
        _ORIGIN, "", regex=True)
    elsewhere = canonical_host[same_path & canonical_host.ne("")
                               & (canonical_host.map(bare_host) != page_host.map(bare_host))]
    if elsewhere.empty:
        return None
    counts = elsewhere.value_counts()
    host, count = str(counts.index[0]), int(counts.iloc[0])
    if count < COPY_MIN_PAGES or count < COPY_SHARE * len(html):
        return None
    return ProductionHost(host=host, pages=count, of_pages=len(html), declared=False)


def _hosts(urls: pd.Series) -> pd.Series:
    """Lower-case host[:port] of each URL; "" where there is none."""
    return urls.str.extract(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")[0].fillna("").str.lower()


def rehost_urls(urls: pd.Series, aliases: frozenset[str], origin: str) -> pd.Series:
    """URLs on one of ``aliases`` moved onto ``origin``; the others unchanged."""
    if not aliases or urls.empty:
        return urls
    text = urls.astype("string")
    on_alias = _hosts(text).map(bare_host).isin({bare_host(a) for a in aliases})
    moved = origin + text.str.replace(_ORIGIN, "", regex=True)
    return urls.where(~on_alias.astype(bool), moved)


def indexable_mask(pages: pd.DataFrame) -> pd.Series:
    """200 HTML page, no noindex, canonical absent or pointing to itself."""
    canonical = pages["canonical"]
    self_canonical = canonical.isna() | (canonical == pages["url"])
    return (
        (pages["status"] == 200).fillna(False)
        & pages["is_html"]
        & pages["noindex"].fillna("").eq("")
        & self_canonical
    ).astype(bool)


class OlderStoreError(ValueError):
    """The crawl was recorded before the crawler stored its verdicts (internal, noindex)."""


def load_crawl(store_path: str | Path, crawl_id: int | None = None) -> CrawlFrames:
    """Read one crawl (default: the newest) from a store, with ``indexable`` added."""
    stored = storage.read_crawl(store_path, crawl_id)
    info, frames = stored.info, stored.frames
    pages = frames["pages"].sort_values("url", kind="stable").reset_index(drop=True)
    links = frames["links"].sort_values(["source", "ord"], kind="stable").reset_index(drop=True)
    if pages["internal"].isna().any() or links["internal"].isna().any():
        raise OlderStoreError(f"crawl {info.crawl_id} of {store_path} was recorded by an "
                              "older linkaudit: `linkaudit analyze` upgrades the store")
    pages["internal"] = pages["internal"].astype(bool)
    links["internal"] = links["internal"].astype(bool)
    crawl_settings = info.settings.get("crawl", {})
    declared = [_host(a) for a in crawl_settings.get("aliases", []) or []]
    production = _production_host(pages, declared)
    if production is not None:  # read the copy as that site: its canonicals are ours
        start = urlsplit(info.start_url)
        aliases = frozenset({production.host, *declared})
        origin = f"{start.scheme}://{start.netloc}"
        pages["canonical"] = rehost_urls(pages["canonical"], aliases, origin)
        moved = rehost_urls(links["target"], aliases, origin)
        links["internal"] |= (moved != links["target"]).fillna(False).astype(bool)
        links["target"] = moved
    pages["indexable"] = indexable_mask(pages) & pages["internal"]
    return CrawlFrames(
        **{f.name: getattr(info, f.name) for f in fields(storage.CrawlInfo)},
        pages=pages,
        links=links,
        headings=frames["headings"].sort_values(["url", "ord"]).reset_index(drop=True),
        sections=frames["sections"].sort_values(["url", "ord"]).reset_index(drop=True),
        redirects=frames["redirects"],
        external_checks=frames["external_checks"],
        production_host=production,
        limits=crawl_limits(stored.stats, info.finish_reason, crawl_settings),
    )


def crawl_limits(stats: dict, finish_reason: str | None = None,
                 crawl_settings: dict | None = None) -> dict[str, dict[str, object]]:
    """The limits that kept URLs out of a crawl, from its statistics (and the time limit,
    from why it finished: the count is then the requests still queued); ``limit`` is the
    limit's value in the crawl's settings, when they hold it."""
    prefix = "linkaudit/cut/"
    limits: dict[str, dict[str, object]] = {}
    for key, value in stats.items():
        if key.startswith(prefix) and "/" not in key[len(prefix):]:
            name = key[len(prefix):]
            limits[name] = {"count": int(value),
                            "example": str(stats.get(f"{key}/example", ""))}
    if finish_reason == "closespider_timeout":
        queued = int(stats.get("scheduler/enqueued", 0)) - int(stats.get("scheduler/dequeued", 0))
        limits["max_seconds"] = {"count": max(queued, 0), "example": ""}
    for name, cut in limits.items():
        if (crawl_settings or {}).get(name) is not None:
            cut["limit"] = crawl_settings[name]
    return limits


def _host(alias: str) -> str:
    alias = alias.strip().lower()
    return urlsplit(alias).netloc if "://" in alias else alias.strip("/")


def _production_host(pages: pd.DataFrame, declared: list[str]) -> ProductionHost | None:
    detected = detect_production_host(pages)
    if declared:
        if detected is not None and bare_host(detected.host) in {bare_host(d) for d in declared}:
            return ProductionHost(detected.host, detected.pages, detected.of_pages, True)
        return ProductionHost(declared[0], 0, 0, True)
    return detected


def load_snapshot(store_path: str | Path, crawl_id: int):
    """The audit snapshot a previous analysis left in the store (for comparisons)."""
    from linkaudit.analysis.diff import Snapshot

    start_url, frames = storage.read_snapshot(store_path, crawl_id)
    return Snapshot(crawl_id=crawl_id, start_url=start_url, pages=frames["pages"],
                    findings=frames["findings"], links=frames["links"])
