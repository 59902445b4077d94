"""The crawl store: one SQLite database per site that keeps every crawl.

Both halves of linkaudit meet here and only here: the crawler's pipeline writes
rows as pages arrive, the analysis reads them back. The schema is documented in
``docs/crawl-store.md``; keep the two in step.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS crawls (
    crawl_id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    start_url TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    state TEXT NOT NULL DEFAULT 'running',   -- running, complete, interrupted, failed
    finish_reason TEXT,
    settings_json TEXT NOT NULL DEFAULT '{}',
    job_dir TEXT,
    stats_json TEXT          -- Scrapy's crawl statistics (requests, bytes, ...)
);
CREATE TABLE IF NOT EXISTS pages (
    crawl_id INTEGER NOT NULL REFERENCES crawls(crawl_id),
    url TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    redirect_to TEXT,
    content_type TEXT,
    response_time REAL,
    size INTEGER,
    depth INTEGER,
    found_via TEXT NOT NULL,
    referrer TEXT,
    title TEXT,
    meta_description TEXT,
    meta_robots TEXT,
    x_robots_tag TEXT,
    canonical TEXT,
    lang TEXT,
    word_count INTEGER,
    content_hash TEXT,
    etag TEXT,
    last_modified TEXT,
    blocked_by_robots INTEGER NOT NULL DEFAULT 0,
    is_html INTEGER NOT NULL DEFAULT 0,
    fetched_at TEXT,
    not_modified INTEGER NOT NULL DEFAULT 0,  -- 304: records carried over from the last crawl
    limits TEXT,             -- per-page extraction limits that applied, "; "-separated
    PRIMARY KEY (crawl_id, url)
);
CREATE TABLE IF NOT EXISTS redirects (
    crawl_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    location TEXT NOT NULL,
    PRIMARY KEY (crawl_id, url)
);
CREATE TABLE IF NOT EXISTS links (
    crawl_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    ord INTEGER NOT NULL,
    href TEXT NOT NULL,
    target TEXT,
    anchor TEXT NOT NULL,
    rel TEXT NOT NULL,
    position TEXT NOT NULL,
    context TEXT NOT NULL,
    paragraph TEXT NOT NULL,
    is_image INTEGER NOT NULL,
    PRIMARY KEY (crawl_id, source, ord)
);
CREATE TABLE IF NOT EXISTS headings (
    crawl_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    ord INTEGER NOT NULL,
    level INTEGER NOT NULL,
    text TEXT NOT NULL,
    in_main INTEGER NOT NULL,
    PRIMARY KEY (crawl_id, url, ord)
);
CREATE TABLE IF NOT EXISTS sections (
    crawl_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    ord INTEGER NOT NULL,
    level INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (crawl_id, url, ord)
);
CREATE TABLE IF NOT EXISTS hreflang (
    crawl_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    hreflang TEXT NOT NULL,
    href TEXT NOT NULL
);
-- What each analysed crawl's audit leaves for history and comparison (linkaudit/auditing.py).
CREATE TABLE IF NOT EXISTS audits (
    crawl_id INTEGER PRIMARY KEY,
    analysed_at TEXT NOT NULL,
    report_dir TEXT,
    pages INTEGER, indexable INTEGER, links INTEGER,
    errors INTEGER, warnings INTEGER, notices INTEGER,
    off_topic_links INTEGER, promotional_links INTEGER
);
CREATE TABLE IF NOT EXISTS audit_pages (
    crawl_id INTEGER NOT NULL, url TEXT NOT NULL, status INTEGER, title TEXT, h1 TEXT,
    canonical TEXT, indexable INTEGER, pagerank REAL, PRIMARY KEY (crawl_id, url)
);
CREATE TABLE IF NOT EXISTS audit_findings (
    crawl_id INTEGER NOT NULL, url TEXT NOT NULL, category TEXT NOT NULL,
    severity TEXT NOT NULL, detail TEXT NOT NULL, target TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_links (
    crawl_id INTEGER NOT NULL, source TEXT NOT NULL, target TEXT, anchor TEXT NOT NULL,
    off_topic INTEGER NOT NULL, promotional INTEGER NOT NULL, promo_reason TEXT NOT NULL,
    why TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_findings_crawl ON audit_findings(crawl_id);
CREATE INDEX IF NOT EXISTS audit_links_crawl ON audit_links(crawl_id);
CREATE INDEX IF NOT EXISTS links_target ON links(crawl_id, target);
CREATE INDEX IF NOT EXISTS hreflang_url ON hreflang(crawl_id, url);
"""

# Tables holding per-crawl rows, in the order a crawl's rows may be deleted.
CRAWL_TABLES = ("links", "headings", "sections", "hreflang", "redirects", "pages")
SNAPSHOT_TABLES = ("audit_pages", "audit_findings", "audit_links", "audits")
# What a file must hold to be read as a crawl store (audit tables may come later).
REQUIRED_TABLES = ("crawls", *CRAWL_TABLES)


class StoreError(Exception):
    """The store cannot be opened or does not hold what was asked for."""


@dataclass(frozen=True, slots=True)
class CrawlInfo:
    crawl_id: int
    site: str
    start_url: str
    started_at: str
    finished_at: str | None
    state: str
    finish_reason: str | None
    settings: dict
    job_dir: str | None


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def connect(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and if needed create) a store; WAL so a reader never blocks the crawl."""
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"no crawl store at {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        _add_missing_columns(conn)
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        conn.commit()
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open crawl store {path}: {exc}") from exc
    return conn


def _readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def check_store(path: str | Path) -> None:
    """Raise StoreError unless ``path`` is a crawl store; reads only, never writes the file."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no crawl store at {path}")
    if path.stat().st_size == 0:
        raise StoreError(f"{path} is an empty file, not a crawl store")
    try:
        conn = _readonly(path)
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path} is not a crawl store ({exc})") from exc
    missing = [table for table in REQUIRED_TABLES if table not in tables]
    if missing:
        raise StoreError(f"{path} is not a crawl store: it has no table {', '.join(missing)}")


@contextmanager
def opened_readonly(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A checked store opened read-only (``mode=ro``): nothing, not even the schema, is written."""
    check_store(path)
    conn = _readonly(Path(path))
    try:
        yield conn
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read crawl store {path}: {exc}") from exc
    finally:
        conn.close()


def has_table(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (table,)).fetchone() is not None


@functools.cache
def _schema_columns() -> dict[str, tuple[tuple, ...]]:
    """PRAGMA table_info rows of every table of SCHEMA, read once from an in-memory copy."""
    reference = sqlite3.connect(":memory:")
    reference.executescript(SCHEMA)
    tables = [r[0] for r in reference.execute("SELECT name FROM sqlite_master WHERE type='table'"
                                              " AND name NOT LIKE 'sqlite_%'")]
    info = {table: tuple(reference.execute(f"PRAGMA table_info({table})")) for table in tables}
    reference.close()
    return info


def table_columns(table: str) -> tuple[str, ...]:
    """Column names of a store table, in schema order (every store has them all)."""
    return tuple(row[1] for row in _schema_columns()[table])


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a store written by an older linkaudit up to this schema (columns only grow)."""
    for table, info in _schema_columns().items():
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for _, name, ctype, notnull, default, _ in info:
            if name not in have:
                clause = f" DEFAULT {default}" if default is not None else ""
                clause += " NOT NULL" if notnull and default is not None else ""
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {ctype}{clause}")


@contextmanager
def opened(path: str | Path, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    conn = connect(path, create=create)
    try:
        yield conn
    finally:
        conn.close()


def start_crawl(conn: sqlite3.Connection, site: str, start_url: str, settings: dict,
                job_dir: str | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO crawls(site, start_url, started_at, state, settings_json, job_dir)"
        " VALUES (?, ?, ?, 'running', ?, ?)",
        (site, start_url, utc_now(), json.dumps(settings, sort_keys=True, default=str), job_dir),
    )
    conn.commit()
    return int(cur.lastrowid)


def finish_crawl(conn: sqlite3.Connection, crawl_id: int, state: str, reason: str,
                 stats: dict | None = None) -> None:
    conn.execute(
        "UPDATE crawls SET finished_at = ?, state = ?, finish_reason = ?, stats_json = ?"
        " WHERE crawl_id = ?",
        (utc_now(), state, reason, json.dumps(stats or {}, default=str), crawl_id),
    )
    conn.commit()


def previous_complete_crawl(conn: sqlite3.Connection, start_url: str,
                            before: int | None = None) -> int | None:
    """The newest complete crawl from the same start URL (before ``before``, if given)."""
    row = conn.execute(
        "SELECT crawl_id FROM crawls WHERE state = 'complete' AND start_url = ? "
        "AND crawl_id < ? ORDER BY crawl_id DESC LIMIT 1",
        (start_url, before if before is not None else 2**62)).fetchone()
    return row[0] if row else None


def crawl_stats(conn: sqlite3.Connection, crawl_id: int) -> dict:
    row = conn.execute("SELECT stats_json FROM crawls WHERE crawl_id = ?", (crawl_id,)).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def _info(row: tuple) -> CrawlInfo:
    return CrawlInfo(
        crawl_id=row[0], site=row[1], start_url=row[2], started_at=row[3], finished_at=row[4],
        state=row[5], finish_reason=row[6], settings=json.loads(row[7] or "{}"), job_dir=row[8],
    )


_CRAWL_COLUMNS = ("crawl_id, site, start_url, started_at, finished_at, state, finish_reason,"
                  " settings_json, job_dir")


def list_crawls(conn: sqlite3.Connection) -> list[CrawlInfo]:
    rows = conn.execute(f"SELECT {_CRAWL_COLUMNS} FROM crawls ORDER BY crawl_id").fetchall()
    return [_info(r) for r in rows]


def get_crawl(conn: sqlite3.Connection, crawl_id: int | None = None) -> CrawlInfo:
    """The crawl with that id, or the newest crawl when ``crawl_id`` is None."""
    if crawl_id is None:
        row = conn.execute(
            f"SELECT {_CRAWL_COLUMNS} FROM crawls ORDER BY crawl_id DESC LIMIT 1").fetchone()
        if row is None:
            raise StoreError("the crawl store holds no crawl yet")
    else:
        row = conn.execute(
            f"SELECT {_CRAWL_COLUMNS} FROM crawls WHERE crawl_id = ?", (crawl_id,)).fetchone()
        if row is None:
            raise StoreError(f"the crawl store holds no crawl {crawl_id}")
    return _info(row)


def last_unfinished_crawl(conn: sqlite3.Connection, start_url: str | None = None
                          ) -> CrawlInfo | None:
    """The newest crawl that stopped before its end (the one ``--resume`` continues).

    A complete or failed crawl after it ends the search: there is nothing left to continue.
    """
    for info in reversed(list_crawls(conn)):
        if info.state in ("complete", "failed"):
            return None
        if start_url is None or info.start_url == start_url:
            return info
    return None


def mark_abandoned(conn: sqlite3.Connection, keep: int | None = None) -> int:
    """Crawls still 'running' whose process is gone become 'interrupted' (reason 'killed').

    Call only while holding the site's lock: then no other crawl of the site can be running.
    """
    cur = conn.execute(
        "UPDATE crawls SET state = 'interrupted', finish_reason = 'killed' "
        "WHERE state = 'running' AND crawl_id IS NOT ?", (keep,))
    conn.commit()
    return cur.rowcount


def mark_failed(conn: sqlite3.Connection, crawl_id: int, reason: str) -> None:
    """A crawl that ran to its end without reaching a page at its start URL.

    It is kept for the record (``history`` lists it) but never compared with, resumed or
    used for conditional requests: only ``complete`` crawls are.
    """
    conn.execute("UPDATE crawls SET state = 'failed', finish_reason = ? WHERE crawl_id = ?",
                 (reason, crawl_id))
    conn.commit()


def newest_crawl(conn: sqlite3.Connection) -> int | None:
    """The newest crawl that did not fail (what ``analyze`` reports on by default)."""
    row = conn.execute("SELECT MAX(crawl_id) FROM crawls WHERE state != 'failed'").fetchone()
    return row[0] if row else None


def mark_running(conn: sqlite3.Connection, crawl_id: int) -> None:
    conn.execute("UPDATE crawls SET state = 'running', finished_at = NULL, finish_reason = NULL"
                 " WHERE crawl_id = ?", (crawl_id,))
    conn.commit()


def counts(conn: sqlite3.Connection, crawl_id: int) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE crawl_id = ?",
                            (crawl_id,)).fetchone()[0]
        for table in ("pages", "links", "headings", "sections", "redirects")
    }


def save_snapshot(conn: sqlite3.Connection, crawl_id: int, summary: dict[str, object],
                  tables: dict[str, list[tuple]]) -> None:
    """Replace the audit snapshot of a crawl (one transaction)."""
    with conn:
        for table in SNAPSHOT_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE crawl_id = ?", (crawl_id,))
        columns = ["crawl_id", *summary]
        conn.execute(f"INSERT INTO audits ({', '.join(columns)}) VALUES "
                     f"({', '.join('?' * len(columns))})", (crawl_id, *summary.values()))
        for table, rows in tables.items():
            if rows:
                width = len(rows[0]) + 1
                conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})",
                                 [(crawl_id, *row) for row in rows])


def previous_complete(conn: sqlite3.Connection, crawl_id: int) -> tuple[int, bool] | None:
    """The newest complete crawl before ``crawl_id``, and whether its audit snapshot is stored."""
    row = conn.execute(
        "SELECT c.crawl_id, a.crawl_id IS NOT NULL FROM crawls c "
        "LEFT JOIN audits a ON a.crawl_id = c.crawl_id "
        "WHERE c.crawl_id < ? AND c.state = 'complete' ORDER BY c.crawl_id DESC LIMIT 1",
        (crawl_id,)).fetchone()
    return (row[0], bool(row[1])) if row else None


def complete_crawls(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute(
        "SELECT crawl_id FROM crawls WHERE state = 'complete' ORDER BY crawl_id")]


def audit_summaries(conn: sqlite3.Connection) -> dict[int, dict[str, object]]:
    cursor = conn.execute("SELECT * FROM audits")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
