"""A crawl's life in the store: started, resumed, finished, failed; and what it recorded."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from linkaudit.storage.schema import StoreError, utc_now


@dataclass(frozen=True, slots=True)
class CrawlInfo:
    crawl_id: int
    site: str
    start_url: str
    started_at: str
    finished_at: str | None
    state: str
    finish_reason: str | None = None
    settings: dict = field(default_factory=dict)
    job_dir: str | None = None


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




def set_settings(conn: sqlite3.Connection, crawl_id: int, settings: dict) -> None:
    """Record the settings a crawl runs under (a resume rewrites them)."""
    conn.execute("UPDATE crawls SET settings_json = ? WHERE crawl_id = ?",
                 (json.dumps(settings, sort_keys=True, default=str), crawl_id))
    conn.commit()


def set_job_dir(conn: sqlite3.Connection, crawl_id: int, job_dir: str) -> None:
    conn.execute("UPDATE crawls SET job_dir = ? WHERE crawl_id = ?", (job_dir, crawl_id))
    conn.commit()


def resume_state(conn: sqlite3.Connection, crawl_id: int
                 ) -> tuple[set[str], list[tuple[str, int | None, str | None]]]:
    """URLs the crawl has recorded, and the pending targets its recorded pages point to
    (URL, depth, referrer), shallowest first."""
    done = {row[0] for row in conn.execute("SELECT url FROM pages WHERE crawl_id = ?",
                                           (crawl_id,))}
    rows = conn.execute(
        """
        SELECT l.target, MIN(p.depth) + 1, MIN(l.source)
        FROM links l JOIN pages p ON p.crawl_id = l.crawl_id AND p.url = l.source
        WHERE l.crawl_id = ? AND l.target IS NOT NULL AND p.status = 200
        GROUP BY l.target
        UNION ALL
        SELECT r.location, p.depth, r.url
        FROM redirects r JOIN pages p ON p.crawl_id = r.crawl_id AND p.url = r.url
        WHERE r.crawl_id = ?
        """, (crawl_id, crawl_id)).fetchall()
    frontier = [(url, depth, ref) for url, depth, ref in rows if url not in done]
    frontier.sort(key=lambda row: (row[1] is None, row[1] or 0, row[0]))
    return done, frontier


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """How one requested URL answered (what the start-page check needs)."""

    status: int | None
    error: str | None
    redirect_to: str | None
    content_type: str | None
    is_html: bool


def page_outcome(conn: sqlite3.Connection, crawl_id: int, url: str) -> PageOutcome | None:
    row = conn.execute("SELECT status, error, redirect_to, content_type, is_html FROM pages"
                       " WHERE crawl_id = ? AND url = ?", (crawl_id, url)).fetchone()
    return None if row is None else PageOutcome(row[0], row[1], row[2], row[3], bool(row[4]))
