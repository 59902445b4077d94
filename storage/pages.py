"""Writing what a crawl records for each page (and for each external link target it
checks), and reading back what the next crawl of the site needs from an earlier one
(conditional requests, links of unchanged pages).

One transaction per page: a crawl killed at any moment leaves every finished page in the
store and nothing half-written.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from linkaudit.storage.schema import has_table, table_columns

# The order of the values in each row ``write_page`` takes (the table's columns after the
# crawl and the page they belong to).
LINK_FIELDS = ("ord", "href", "target", "anchor", "rel", "position", "context", "paragraph",
               "is_image", "internal")
HEADING_FIELDS = ("ord", "level", "text", "in_main")
SECTION_FIELDS = ("ord", "level", "heading", "text")
HREFLANG_FIELDS = ("hreflang", "href")
# Per-page rows copied when the server says a page has not changed (304): table, page column.
CARRIED_TABLES = {"links": "source", "headings": "url", "sections": "url", "hreflang": "url"}


@functools.cache
def _insert(table: str, columns: tuple[str, ...], verb: str = "INSERT OR REPLACE") -> str:
    unknown = set(columns) - set(table_columns(table))
    if unknown:
        raise ValueError(f"{table} has no column {', '.join(sorted(unknown))}")
    return (f"{verb} INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


def write_page(conn: sqlite3.Connection, crawl_id: int, page: Mapping[str, object], *,
               links: Iterable[Sequence[object]] = (),
               headings: Iterable[Sequence[object]] = (),
               sections: Iterable[Sequence[object]] = (),
               hreflang: Iterable[Sequence[object]] = ()) -> None:
    """Write one page row (``page`` maps pages columns to values) and the rows it carries
    (in the ``*_FIELDS`` orders), in one transaction. A page with a status and a
    ``redirect_to`` is also a redirect hop."""
    url = page["url"]
    with conn:
        conn.execute(_insert("pages", ("crawl_id", *page)), (crawl_id, *page.values()))
        if page.get("redirect_to") and page.get("status"):
            conn.execute(_insert("redirects", ("crawl_id", "url", "status", "location")),
                         (crawl_id, url, page["status"], page["redirect_to"]))
        for table, fields, key, rows, verb in (
                ("links", LINK_FIELDS, "source", links, "INSERT OR REPLACE"),
                ("headings", HEADING_FIELDS, "url", headings, "INSERT OR REPLACE"),
                ("sections", SECTION_FIELDS, "url", sections, "INSERT OR REPLACE"),
                ("hreflang", HREFLANG_FIELDS, "url", hreflang, "INSERT")):
            conn.executemany(_insert(table, ("crawl_id", key, *fields), verb),
                             [(crawl_id, url, *row) for row in rows])


def carry_over(conn: sqlite3.Connection, crawl_id: int, url: str, from_crawl: int,
               fresh: Mapping[str, object]) -> None:
    """Record an unchanged page by copying its rows from the crawl that fetched it; ``fresh``
    holds the pages columns this fetch knows anew (timing, depth, how it was found)."""
    fresh = {**fresh, "crawl_id": crawl_id, "not_modified": 1}
    columns = table_columns("pages")
    select = ", ".join("?" if c in fresh else c for c in columns)
    with conn:
        conn.execute(f"INSERT OR REPLACE INTO pages ({', '.join(columns)}) SELECT {select} "
                     "FROM pages WHERE crawl_id = ? AND url = ?",
                     (*[fresh[c] for c in columns if c in fresh], from_crawl, url))
        for table, key in CARRIED_TABLES.items():
            rest = [c for c in table_columns(table) if c != "crawl_id"]
            conn.execute(f"INSERT OR REPLACE INTO {table} (crawl_id, {', '.join(rest)}) "
                         f"SELECT ?, {', '.join(rest)} FROM {table} "
                         f"WHERE crawl_id = ? AND {key} = ?", (crawl_id, from_crawl, url))


def validators(conn: sqlite3.Connection, crawl_id: int) -> dict[str, tuple[str | None, str | None]]:
    """URL -> (ETag, Last-Modified) of the HTML pages a crawl fetched with either."""
    rows = conn.execute(
        "SELECT url, etag, last_modified FROM pages WHERE crawl_id = ? AND status = 200 "
        "AND is_html = 1 AND (etag IS NOT NULL OR last_modified IS NOT NULL)", (crawl_id,))
    return {url: (etag, modified) for url, etag, modified in rows}


def followed_targets(conn: sqlite3.Connection, crawl_id: int, url: str) -> list[str]:
    """Where a page, as a crawl recorded it, sends the crawler: its links and canonical."""
    rows = conn.execute(
        "SELECT target FROM links WHERE crawl_id = ? AND source = ? AND target IS NOT NULL"
        " UNION SELECT canonical FROM pages WHERE crawl_id = ? AND url = ?"
        " AND canonical IS NOT NULL", (crawl_id, url, crawl_id, url))
    return [row[0] for row in rows]


def write_external_check(conn: sqlite3.Connection, crawl_id: int,
                         check: Mapping[str, object]) -> None:
    """Write the answer of one external link target (``check`` maps external_checks
    columns to values), in a transaction of its own."""
    with conn:
        conn.execute(_insert("external_checks", ("crawl_id", *check)),
                     (crawl_id, *check.values()))


def checked_external(conn: sqlite3.Connection, crawl_id: int) -> set[str]:
    """The external URLs a crawl has checked (none in a store older than the table)."""
    if not has_table(conn, "external_checks"):
        return set()
    return {row[0] for row in conn.execute(
        "SELECT url FROM external_checks WHERE crawl_id = ?", (crawl_id,))}
