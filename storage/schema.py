"""The store's schema and connections: what a crawl store file is, and how it is opened.

The schema is documented in ``docs/crawl-store.md``; keep the two in step.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_VERSION = 4

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
    internal INTEGER,        -- on the audited site (decided by the crawler; NULL: older store)
    noindex TEXT,            -- 'meta robots' or 'X-Robots-Tag' when one says noindex, else ''
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
    internal INTEGER,        -- the target is on the audited site (NULL: older store)
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
-- External link targets the crawl checked (check_external), one row per distinct URL.
CREATE TABLE IF NOT EXISTS external_checks (
    crawl_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    status INTEGER,          -- its own answer (3xx when it redirects); NULL: no response
    final_url TEXT,          -- where its redirects ended; NULL when it did not redirect
    final_status INTEGER,    -- the answer at the end of the redirects; NULL: no response
    error TEXT,              -- why there is no final answer (DNS, refused, redirect loop)
    method TEXT NOT NULL,    -- HEAD, or GET when the server refused HEAD
    redirects INTEGER NOT NULL DEFAULT 0,
    response_time REAL,
    checked_at TEXT,
    PRIMARY KEY (crawl_id, url)
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

# What a file must hold to be read as a crawl store (audit tables may come later).
REQUIRED_TABLES = ("crawls", "links", "headings", "sections", "hreflang", "redirects", "pages")
STORE_NAME = "crawls.sqlite"
Connection = sqlite3.Connection  # what the functions of this package take


class StoreError(Exception):
    """The store cannot be opened or does not hold what was asked for."""


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


def readonly(path: str | Path, *, threads: bool = False) -> sqlite3.Connection:
    """A store opened read-only (``mode=ro``); ``threads``: usable from other threads."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                           check_same_thread=not threads)


def check_store(path: str | Path) -> None:
    """Raise StoreError unless ``path`` is a crawl store; reads only, never writes the file."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no crawl store at {path}")
    if path.stat().st_size == 0:
        raise StoreError(f"{path} is an empty file, not a crawl store")
    try:
        conn = readonly(path)
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
    conn = readonly(Path(path))
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


def default_path(reports_dir: str | Path, site: str) -> Path:
    """Where a site's store is unless the user says otherwise: ``reports/<site>/crawls.sqlite``."""
    return Path(reports_dir) / site / STORE_NAME
