"""Reading a crawl, or the audit snapshot of one, out of the store as DataFrames."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from linkaudit.storage.crawls import CrawlInfo, crawl_stats, get_crawl
from linkaudit.storage.schema import StoreError, has_table, readonly, table_columns

CRAWL_FRAMES = ("pages", "links", "headings", "sections", "redirects")
SNAPSHOT_FRAMES = ("pages", "findings", "links")
BOOL_COLUMNS = {
    "pages": ("blocked_by_robots", "is_html"),
    "links": ("is_image",),
    "headings": ("in_main",),
    "audit_pages": ("indexable",),
    "audit_links": ("off_topic", "promotional"),
}
INT_COLUMNS = {"pages": ("status", "depth", "size", "word_count"), "audit_pages": ("status",),
               "external_checks": ("status", "final_status", "redirects")}
# Tables a store written by an older linkaudit may lack: read as empty frames.
LATER_FRAMES = ("external_checks",)
# Rows fetched from SQLite at a time: a table is never held as Python rows all at once
# (600,000 links: a peak of 746 MiB read whole, 338 MiB in chunks; docs/scale.md).
READ_CHUNK = 20_000


@dataclass(frozen=True)
class StoredCrawl:
    """A crawl's row, its statistics, and its tables (without ``crawl_id``), typed: the
    ``CRAWL_FRAMES`` and the ``LATER_FRAMES``."""

    info: CrawlInfo
    stats: dict
    frames: dict[str, pd.DataFrame]


def _read(conn: sqlite3.Connection, table: str, crawl_id: int) -> pd.DataFrame:
    if table in LATER_FRAMES and not has_table(conn, table):
        columns = [c for c in table_columns(table) if c != "crawl_id"]
        return _typed(table, pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
    chunks = pd.read_sql_query(f"SELECT * FROM {table} WHERE crawl_id = ?", conn,
                               params=(crawl_id,), chunksize=READ_CHUNK)
    frame = pd.concat([chunk.drop(columns="crawl_id") for chunk in chunks],
                      ignore_index=True)
    # A chunk whose column is all NULL reads as objects: the column then takes the type
    # it would have had read whole.
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column]):
            frame[column] = frame[column].infer_objects()
    return _typed(table, frame)


def _typed(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` of ``table`` with its flags as booleans and its counts as integers."""
    for column in BOOL_COLUMNS.get(table, ()):
        frame[column] = frame[column].astype(bool)
    for column in INT_COLUMNS.get(table, ()):
        frame[column] = frame[column].astype("Int64")
    return frame


def _open(path: str | Path) -> sqlite3.Connection:
    if not Path(path).exists():
        raise FileNotFoundError(f"no crawl store at {path}")
    return readonly(path)


def read_crawl(path: str | Path, crawl_id: int | None = None) -> StoredCrawl:
    """One crawl (default: the newest) with its pages, links, headings, sections, redirects
    and external link checks."""
    conn = _open(path)
    try:
        try:
            info = get_crawl(conn, crawl_id)
        except StoreError as exc:
            raise LookupError(f"no crawl {crawl_id} in {path}" if crawl_id is not None
                              else f"no crawl in {path}") from exc
        stats = crawl_stats(conn, info.crawl_id)
        frames = {table: _read(conn, table, info.crawl_id)
                  for table in (*CRAWL_FRAMES, *LATER_FRAMES)}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read the crawl store {path}: {exc}") from exc
    finally:
        conn.close()
    return StoredCrawl(info=info, stats=stats, frames=frames)


def read_snapshot(path: str | Path, crawl_id: int) -> tuple[str, dict[str, pd.DataFrame]]:
    """The start URL of a crawl and the audit snapshot its analysis left (pages, findings,
    links)."""
    conn = _open(path)
    try:
        start_url = conn.execute("SELECT start_url FROM crawls WHERE crawl_id = ?",
                                 (crawl_id,)).fetchone()
        if start_url is None:
            raise LookupError(f"no crawl {crawl_id} in {path}")
        frames = {name: _read(conn, f"audit_{name}", crawl_id) for name in SNAPSHOT_FRAMES}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read the crawl store {path}: {exc}") from exc
    finally:
        conn.close()
    return start_url[0], frames


def last_page_row(conn: sqlite3.Connection) -> int:
    """The row of the page written last, in any crawl (0 for none)."""
    return int(conn.execute("SELECT MAX(rowid) FROM pages").fetchone()[0] or 0)


def read_new_pages(conn: sqlite3.Connection, after: int, limit: int = 500
                   ) -> tuple[dict[str, pd.DataFrame], int]:
    """The HTML pages written after row ``after`` (at most ``limit``; one crawl writes at a
    time), with their sections and headings, and the last row read (``after`` when there
    is none).

    A page is written with its sections and headings in one transaction, so a page read
    here comes with all of them. A page written again (a resumed crawl) has a new row.
    """
    top = last_page_row(conn)
    if top <= after:
        return {}, after
    rows = pd.read_sql_query(
        "SELECT rowid AS _row, * FROM pages WHERE rowid > ? AND rowid <= ? AND is_html = 1 "
        "ORDER BY rowid LIMIT ?", conn, params=(after, top, limit))
    # Rows up to ``top`` that are not HTML are passed over with the others.
    last = top if len(rows) < limit else int(rows["_row"].max())
    if rows.empty:
        return {}, last
    frames = {"pages": rows.drop(columns=["_row", "crawl_id"])}
    for table in ("sections", "headings"):
        parts = []
        for crawl_id, urls in rows.groupby("crawl_id")["url"]:
            marks = ",".join("?" * len(urls))
            parts.append(pd.read_sql_query(
                f"SELECT * FROM {table} WHERE crawl_id = ? AND url IN ({marks})", conn,
                params=(int(crawl_id), *urls.tolist())))
        frames[table] = pd.concat(parts, ignore_index=True).drop(columns="crawl_id")
    return {table: _typed(table, frame) for table, frame in frames.items()}, last
