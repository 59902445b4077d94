"""What each analysed crawl's audit leaves in the store, for history and comparison."""

from __future__ import annotations

import sqlite3

import pandas as pd

from linkaudit.storage.schema import table_columns

SNAPSHOT_TABLES = ("audit_pages", "audit_findings", "audit_links", "audits")


def save_snapshot(conn: sqlite3.Connection, crawl_id: int, summary: dict[str, object],
                  frames: dict[str, pd.DataFrame]) -> None:
    """Replace the audit snapshot of a crawl (one transaction). ``summary`` holds the
    ``audits`` row; ``frames`` the pages, findings and links tables (by the schema's columns,
    missing values stored as NULL)."""
    with conn:
        for table in SNAPSHOT_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE crawl_id = ?", (crawl_id,))
        columns = ["crawl_id", *summary]
        conn.execute(f"INSERT INTO audits ({', '.join(columns)}) VALUES "
                     f"({', '.join('?' * len(columns))})", (crawl_id, *summary.values()))
        for name, frame in frames.items():
            table = f"audit_{name}"
            columns = [c for c in table_columns(table) if c != "crawl_id"]
            values = frame.reindex(columns=columns).astype(object)
            values = values.where(values.notna(), None)
            conn.executemany(
                f"INSERT INTO {table} (crawl_id, {', '.join(columns)}) "
                f"VALUES ({', '.join('?' * (len(columns) + 1))})",
                [(crawl_id, *row) for row in values.itertuples(index=False, name=None)])


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
