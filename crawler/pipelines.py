"""The store pipeline: each page record goes to the crawl store as it arrives.

An adapter: it turns a :class:`~crawler.items.PageItem` into the store's rows, deciding
on the way what is decided once, at crawl time (is a URL on the site, does the page ask
not to be indexed), and hands them to :func:`linkaudit.storage.write_page`, one transaction per
page. Memory does not grow with the site.
"""

from __future__ import annotations

from typing import Any

from linkaudit import storage
from linkaudit.crawler.items import ExternalCheckItem, PageItem
from linkaudit.crawler.robots import noindex_source
from linkaudit.crawler.urls import Site, site_key


def page_values(item: PageItem, site: Site) -> dict[str, object]:
    """The pages row of a record (without ``crawl_id``)."""
    ex = item.extract
    values: dict[str, object] = {
        "url": item.url, "status": item.status, "error": item.error,
        "redirect_to": item.redirect_to, "content_type": item.content_type,
        "response_time": item.response_time, "size": item.size, "depth": item.depth,
        "found_via": item.found_via, "referrer": item.referrer,
        "x_robots_tag": item.x_robots_tag, "etag": item.etag,
        "last_modified": item.last_modified, "blocked_by_robots": int(item.blocked_by_robots),
        "is_html": int(ex is not None), "fetched_at": item.fetched_at,
        "internal": int(item.url in site),
    }
    if ex is not None:
        values.update(
            title=ex.title, meta_description=ex.meta_description, meta_robots=ex.meta_robots,
            canonical=ex.canonical, lang=ex.lang, word_count=ex.word_count,
            content_hash=ex.content_hash, limits="; ".join(ex.limits) or None)
    values["noindex"] = noindex_source(values.get("meta_robots"), item.x_robots_tag)
    return values


def write_item(conn: storage.Connection, crawl_id: int, item: PageItem,
               site: Site) -> None:
    """Write one page record and everything it carries, in one transaction."""
    if item.carried_from is not None:
        storage.carry_over(conn, crawl_id, item.url, item.carried_from, {
            "response_time": item.response_time, "depth": item.depth,
            "found_via": item.found_via, "referrer": item.referrer,
            "fetched_at": item.fetched_at})
        return
    ex = item.extract
    if ex is None:
        storage.write_page(conn, crawl_id, page_values(item, site))
        return
    storage.write_page(
        conn, crawl_id, page_values(item, site),
        links=[(link.order, link.href, link.target, link.anchor, link.rel, link.position,
                link.context, link.paragraph, int(link.is_image),
                int(bool(link.target) and link.target in site))
               for link in ex.links],
        headings=[(h.order, h.level, h.text, int(h.in_main)) for h in ex.headings],
        sections=[(s.order, s.level, s.heading, s.text) for s in ex.sections],
        hreflang=ex.hreflang)


def external_values(item: ExternalCheckItem) -> dict[str, object]:
    """The external_checks row of a check (without ``crawl_id``)."""
    return {"url": item.url, "status": item.status, "final_url": item.final_url,
            "final_status": item.final_status, "error": item.error, "method": item.method,
            "redirects": item.redirects, "response_time": item.response_time,
            "checked_at": item.checked_at}


class StorePipeline:
    """Streams page records into the site's crawl store."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.conn: storage.Connection | None = None
        self.crawl_id: int | None = None
        self.path = ""
        self.standalone = False  # started by a bare `scrapy crawl`, not by linkaudit
        self.site = Site(())

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        pipeline = cls(crawler)
        from scrapy import signals

        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        path = self.settings.get("LINKAUDIT_STORE") or str(
            storage.default_path("reports", site_key(spider.start_url)))
        self.conn = storage.connect(path)
        self.path = path
        crawl_id = self.settings.getint("LINKAUDIT_CRAWL_ID", 0)
        if crawl_id:
            storage.mark_running(self.conn, crawl_id)
        else:
            self.standalone = True
            crawl_id = storage.start_crawl(self.conn, site_key(spider.start_url),
                                           spider.start_url, {"source": "scrapy crawl"})
        self.crawl_id = crawl_id
        self.site = spider.site

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ExternalCheckItem):
            storage.write_external_check(self.conn, self.crawl_id, external_values(item))
            return item
        if not isinstance(item, PageItem):
            raise TypeError(f"unexpected item type {type(item).__name__}")
        write_item(self.conn, self.crawl_id, item, self.site)
        return item

    def spider_closed(self, reason: str) -> None:
        if self.conn is None:
            return
        # A time limit is a limit the user set, like max_pages: the crawl is complete.
        state = "complete" if reason in ("finished", "closespider_timeout") else "interrupted"
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        storage.finish_crawl(self.conn, self.crawl_id, state, reason, stats)
        self.conn.close()
        self.conn = None
        if self.standalone:
            print(next_step(self.crawl_id, state, self.path), flush=True)


def next_step(crawl_id: int, state: str, path: str) -> str:
    """What a bare ``scrapy crawl`` says at its end: where the crawl is, what reports it."""
    import shlex

    return (f"crawl {crawl_id} ({state}) stored in {path}\n"
            f"write its reports: linkaudit analyze {crawl_id} --store {shlex.quote(path)}")
