"""Verdicts the crawler stores with each row (is a URL on the site, does a page ask not to
be indexed), and filling them in for crawls recorded before they were stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def undecided_crawls(conn: sqlite3.Connection) -> list[int]:
    """Crawls with pages or links whose verdicts are missing (recorded by an older version)."""
    return [row[0] for row in conn.execute(
        "SELECT crawl_id FROM pages WHERE internal IS NULL OR noindex IS NULL "
        "UNION SELECT crawl_id FROM links WHERE internal IS NULL ORDER BY 1")]


def undecided_pages(conn: sqlite3.Connection, crawl_id: int) -> list[tuple[str, str, str]]:
    """(url, meta_robots, x_robots_tag) of the crawl's pages without verdicts."""
    return conn.execute("SELECT url, meta_robots, x_robots_tag FROM pages WHERE crawl_id = ? "
                        "AND (internal IS NULL OR noindex IS NULL)", (crawl_id,)).fetchall()


def undecided_links(conn: sqlite3.Connection, crawl_id: int) -> list[tuple[str, int, str]]:
    """(source, ord, target) of the crawl's links without a verdict."""
    return conn.execute("SELECT source, ord, target FROM links WHERE crawl_id = ? "
                        "AND internal IS NULL", (crawl_id,)).fetchall()


def record_decisions(conn: sqlite3.Connection, crawl_id: int,
                     pages: Iterable[tuple[str, int, str]],
                     links: Iterable[tuple[str, int, int]]) -> None:
    """Store verdicts: ``pages`` as (url, internal, noindex), ``links`` as (source, ord,
    internal); one transaction."""
    with conn:
        conn.executemany("UPDATE pages SET internal = ?, noindex = ? "
                         "WHERE crawl_id = ? AND url = ?",
                         [(internal, noindex, crawl_id, url) for url, internal, noindex in pages])
        conn.executemany("UPDATE links SET internal = ? "
                         "WHERE crawl_id = ? AND source = ? AND ord = ?",
                         [(internal, crawl_id, source, order) for source, order, internal in links])
