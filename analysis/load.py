"""Reading a crawl from the store into DataFrames: the analysis's only input."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

BOOL_COLUMNS = {
    "pages": ("blocked_by_robots", "is_html"),
    "links": ("is_image",),
    "headings": ("in_main",),
}
INT_COLUMNS = {"pages": ("status", "depth", "size", "word_count")}


@dataclass(frozen=True)
class ProductionHost:
    """Another host that most pages name as the canonical home of their own path: the
    crawled site looks like a copy of it (a staging copy, a local build)."""

    host: str
    pages: int  # pages whose canonical is their own path on ``host``
    of_pages: int  # pages with a canonical
    declared: bool  # given as an alias in the settings, rather than detected


@dataclass(frozen=True)
class CrawlFrames:
    """One crawl as read from the store (columns: docs/crawl-store.md)."""

    crawl_id: int
    site: str
    start_url: str
    started_at: str
    finished_at: str | None
    state: str
    hosts: frozenset[str]
    pages: pd.DataFrame
    links: pd.DataFrame
    headings: pd.DataFrame
    sections: pd.DataFrame
    redirects: pd.DataFrame
    production_host: ProductionHost | None = None
    # Limits that kept URLs out of the crawl: {"max_depth": {"count": 194, "example": url,
    # "limit": 20}} (max_pages, max_depth, max_url_length, max_seconds; from the crawl's
    # statistics and settings).
    limits: dict[str, dict[str, object]] = field(default_factory=dict)


def bare_host(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def internal_mask(urls: pd.Series, hosts: frozenset[str]) -> pd.Series:
    """True where the URL's host belongs to the audited site ("www." does not matter)."""
    bare = {bare_host(h) for h in hosts}
    uniques = urls.dropna().unique()
    verdict = {u: bare_host(urlsplit(u).netloc) in bare for u in uniques}
    return urls.map(verdict).fillna(False).astype(bool)


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


def _has_noindex(pages: pd.DataFrame) -> pd.Series:
    directives = pages["meta_robots"].fillna("") + "," + pages["x_robots_tag"].fillna("")
    return directives.str.lower().str.contains(r"\b(?:noindex|none)\b", regex=True)


def indexable_mask(pages: pd.DataFrame) -> pd.Series:
    """200 HTML page, no noindex, canonical absent or pointing to itself."""
    canonical = pages["canonical"]
    self_canonical = canonical.isna() | (canonical == pages["url"])
    return (
        (pages["status"] == 200).fillna(False)
        & pages["is_html"]
        & ~_has_noindex(pages)
        & self_canonical
    ).astype(bool)


def _read(conn: sqlite3.Connection, table: str, crawl_id: int) -> pd.DataFrame:
    frame = pd.read_sql_query(
        f"SELECT * FROM {table} WHERE crawl_id = ?", conn, params=(crawl_id,)
    ).drop(columns="crawl_id")
    for column in BOOL_COLUMNS.get(table, ()):
        frame[column] = frame[column].astype(bool)
    for column in INT_COLUMNS.get(table, ()):
        frame[column] = frame[column].astype("Int64")
    return frame


def load_crawl(store_path: str | Path, crawl_id: int | None = None) -> CrawlFrames:
    """Read one crawl (default: the newest) from a store, with ``internal``/``indexable`` added."""
    import json

    path = Path(store_path)
    if not path.exists():
        raise FileNotFoundError(f"no crawl store at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        where = "WHERE crawl_id = ?" if crawl_id is not None else ""
        row = conn.execute(
            "SELECT crawl_id, site, start_url, started_at, finished_at, state, settings_json, "
            f"stats_json, finish_reason FROM crawls {where} ORDER BY crawl_id DESC LIMIT 1",
            (crawl_id,) if crawl_id is not None else (),
        ).fetchone()
        if row is None:
            raise LookupError(
                f"no crawl {crawl_id} in {path}" if crawl_id is not None else f"no crawl in {path}"
            )
        crawl_id = row[0]
        settings = json.loads(row[6] or "{}")
        extra = settings.get("crawl", {}).get("extra_hosts", []) or []
        declared = [_host(a) for a in settings.get("crawl", {}).get("aliases", []) or []]
        hosts = frozenset({urlsplit(row[2]).netloc.lower(), *[h.lower() for h in extra]})
        frames = {
            t: _read(conn, t, crawl_id)
            for t in ("pages", "links", "headings", "sections", "redirects")
        }
    finally:
        conn.close()
    pages = frames["pages"].sort_values("url", kind="stable").reset_index(drop=True)
    links = frames["links"].sort_values(["source", "ord"], kind="stable").reset_index(drop=True)
    production = _production_host(pages, declared)
    if production is not None:  # read the copy as that site: its canonicals are ours
        start = urlsplit(row[2])
        aliases = frozenset({production.host, *declared})
        origin = f"{start.scheme}://{start.netloc}"
        pages["canonical"] = rehost_urls(pages["canonical"], aliases, origin)
        links["target"] = rehost_urls(links["target"], aliases, origin)
    pages["internal"] = internal_mask(pages["url"], hosts)
    pages["indexable"] = indexable_mask(pages) & pages["internal"]
    links["internal"] = internal_mask(links["target"], hosts)
    return CrawlFrames(
        crawl_id=crawl_id,
        site=row[1],
        start_url=row[2],
        started_at=row[3],
        finished_at=row[4],
        state=row[5],
        hosts=hosts,
        pages=pages,
        links=links,
        headings=frames["headings"].sort_values(["url", "ord"]).reset_index(drop=True),
        sections=frames["sections"].sort_values(["url", "ord"]).reset_index(drop=True),
        redirects=frames["redirects"],
        production_host=production,
        limits=crawl_limits(json.loads(row[7] or "{}"), row[8], settings.get("crawl", {})),
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
    from analysis.diff import Snapshot

    conn = sqlite3.connect(f"file:{Path(store_path)}?mode=ro", uri=True)
    try:
        start_url = conn.execute("SELECT start_url FROM crawls WHERE crawl_id = ?",
                                 (crawl_id,)).fetchone()
        if start_url is None:
            raise LookupError(f"no crawl {crawl_id} in {store_path}")
        frames = {t: pd.read_sql_query(f"SELECT * FROM audit_{t} WHERE crawl_id = ?", conn,
                                       params=(crawl_id,)).drop(columns="crawl_id")
                  for t in ("pages", "findings", "links")}
    finally:
        conn.close()
    pages = frames["pages"]
    pages["indexable"] = pages["indexable"].astype(bool)
    pages["status"] = pages["status"].astype("Int64")
    links = frames["links"]
    for column in ("off_topic", "promotional"):
        links[column] = links[column].astype(bool)
    return Snapshot(crawl_id=crawl_id, start_url=start_url[0], pages=pages,
                    findings=frames["findings"], links=links)
