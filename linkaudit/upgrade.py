"""Bringing a store recorded by an older linkaudit up to what the analysis reads.

Crawls recorded before the crawler stored its verdicts (``internal`` on pages and links,
``noindex`` on pages) get them now, decided by the crawler's own rules, so the analysis
never decides them a second way.
"""

from __future__ import annotations

from pathlib import Path

from linkaudit import storage
from linkaudit.crawler.robots import noindex_source
from linkaudit.crawler.urls import Site, host_of


def decide_missing(store_path: str | Path) -> int:
    """Fill in the missing verdicts of every crawl in the store; returns how many crawls."""
    with storage.opened(store_path) as conn:
        crawl_ids = storage.undecided_crawls(conn)
        for crawl_id in crawl_ids:
            info = storage.get_crawl(conn, crawl_id)
            extra = (info.settings.get("crawl") or {}).get("extra_hosts") or []
            site = Site({host_of(info.start_url), *(str(h).lower() for h in extra)})
            pages = [(url, int(url in site), noindex_source(meta, header))
                     for url, meta, header in storage.undecided_pages(conn, crawl_id)]
            links = [(source, order, int(bool(target) and target in site))
                     for source, order, target in storage.undecided_links(conn, crawl_id)]
            storage.record_decisions(conn, crawl_id, pages, links)
    return len(crawl_ids)
