"""The store pipeline: each page record goes to the crawl store as it arrives.

One transaction per page (the page row with its links, headings, sections and
hreflang rows), so a crawl killed at any moment leaves every finished page in
the store and nothing half-written. Memory does not grow with the site.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter

from crawler.items import PageItem
from crawler.urls import site_key
from linkaudit import store

PAGE_COLUMNS = (
    "crawl_id", "url", "status", "error", "redirect_to", "content_type", "response_time", "size",
    "depth", "found_via", "referrer", "title", "meta_description", "meta_robots", "x_robots_tag",
    "canonical", "lang", "word_count", "content_hash", "etag", "last_modified",
    "blocked_by_robots", "is_html", "fetched_at", "limits",
)
_PAGE_INSERT = (f"INSERT OR REPLACE INTO pages ({', '.join(PAGE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(PAGE_COLUMNS))})")


def page_row(crawl_id: int, item: PageItem) -> tuple:
    ex = item.extract
    return (
        crawl_id, item.url, item.status, item.error, item.redirect_to, item.content_type,
        item.response_time, item.size, item.depth, item.found_via, item.referrer,
        ex.title if ex else None, ex.meta_description if ex else None,
        ex.meta_robots if ex else None, item.x_robots_tag, ex.canonical if ex else None,
        ex.lang if ex else None, ex.word_count if ex else None, ex.content_hash if ex else None,
        item.etag, item.last_modified, int(item.blocked_by_robots), int(ex is not None),
        item.fetched_at, "; ".join(ex.limits) if ex and ex.limits else None,
    )





# Per-page rows copied when the server says a page has not changed (304).
CARRIED_TABLES = {"links": "source", "headings": "url", "sections": "url", "hreflang": "url"}
FRESH_PAGE_COLUMNS = ("crawl_id", "response_time", "depth", "found_via", "referrer",
                      "fetched_at", "not_modified")


def carry_over(conn: sqlite3.Connection, crawl_id: int, item: PageItem) -> None:
    """Record an unchanged page by copying its rows from the crawl that fetched it."""
    columns = store.table_columns("pages")
    fresh = {"crawl_id": crawl_id, "response_time": item.response_time, "depth": item.depth,
             "found_via": item.found_via, "referrer": item.referrer,
             "fetched_at": item.fetched_at, "not_modified": 1}
    select = ", ".join("?" if c in fresh else c for c in columns)
    conn.execute(f"INSERT OR REPLACE INTO pages ({', '.join(columns)}) SELECT {select} "
                 "FROM pages WHERE crawl_id = ? AND url = ?",
                 (*[fresh[c] for c in columns if c in fresh], item.carried_from, item.url))
    for table, key in CARRIED_TABLES.items():
        rest = [c for c in store.table_columns(table) if c != "crawl_id"]
        conn.execute(f"INSERT OR REPLACE INTO {table} (crawl_id, {', '.join(rest)}) "
                     f"SELECT ?, {', '.join(rest)} FROM {table} WHERE crawl_id = ? AND {key} = ?",
                     (crawl_id, item.carried_from, item.url))


def write_page(conn: sqlite3.Connection, crawl_id: int, item: PageItem) -> None:
    """Write one page record and everything it carries, in one transaction."""
    with conn:
        if item.carried_from is not None:
            carry_over(conn, crawl_id, item)
            return
        conn.execute(_PAGE_INSERT, page_row(crawl_id, item))
        if item.redirect_to and item.status:  # a 3xx, or a 200 with a meta refresh
            conn.execute("INSERT OR REPLACE INTO redirects VALUES (?, ?, ?, ?)",
                         (crawl_id, item.url, item.status, item.redirect_to))
        ex = item.extract
        if ex is None:
            return
        conn.executemany(
            "INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(crawl_id, item.url, link.order, link.href, link.target, link.anchor, link.rel,
              link.position, link.context, link.paragraph, int(link.is_image))
             for link in ex.links])
        conn.executemany(
            "INSERT OR REPLACE INTO headings VALUES (?, ?, ?, ?, ?, ?)",
            [(crawl_id, item.url, h.order, h.level, h.text, int(h.in_main)) for h in ex.headings])
        conn.executemany(
            "INSERT OR REPLACE INTO sections VALUES (?, ?, ?, ?, ?, ?)",
            [(crawl_id, item.url, s.order, s.level, s.heading, s.text) for s in ex.sections])
        conn.executemany("INSERT INTO hreflang VALUES (?, ?, ?, ?)",
                         [(crawl_id, item.url, lang, href) for lang, href in ex.hreflang])


class StorePipeline:
    """Streams page records into the site's crawl store."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.conn: sqlite3.Connection | None = None
        self.crawl_id: int | None = None
        self.pages_written = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        pipeline = cls(crawler)
        from scrapy import signals

        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        path = self.settings.get("LINKAUDIT_STORE") or str(
            Path("reports") / site_key(spider.start_url) / "crawls.sqlite")
        self.conn = store.connect(path)
        crawl_id = self.settings.getint("LINKAUDIT_CRAWL_ID", 0)
        if crawl_id:
            store.mark_running(self.conn, crawl_id)
        else:
            crawl_id = store.start_crawl(self.conn, site_key(spider.start_url), spider.start_url,
                                         {"source": "scrapy crawl"})
        self.crawl_id = crawl_id
        spider.crawl_id = crawl_id
        spider.store_path = path

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            write_page(self.conn, self.crawl_id, item)
            self.pages_written += 1
        else:
            raise TypeError(f"unexpected item type {type(ItemAdapter(item).item).__name__}")
        return item

    def spider_closed(self, reason: str) -> None:
        if self.conn is None:
            return
        # A time limit is a limit the user set, like max_pages: the crawl is complete.
        state = "complete" if reason in ("finished", "closespider_timeout") else "interrupted"
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        store.finish_crawl(self.conn, self.crawl_id, state, reason, stats)
        self.conn.close()
        self.conn = None
