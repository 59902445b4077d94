"""Crawl progress: a live bar on a terminal, plain periodic lines otherwise (cron, CI).

On a terminal the bar (tqdm) is cut to the terminal's width, so it never wraps, and shows
pages done out of the pages known so far (done + queued, at most ``max_pages``) with an
estimate of the time left from the rate so far; the estimate grows as links reveal pages.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from scrapy import signals
from twisted.internet import task

from linkaudit.crawler.items import PageItem

# Sent by the coordinator of a distributed crawl for each record it writes to the store
# (its own and its workers'): what its progress counts.
PAGE_STORED = object()


def progress_line(done: int, queued: int, errors: int, elapsed: float) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    return (f"crawled {done} pages, {queued} queued, {errors} errors, "
            f"{rate:.1f} pages/s, {elapsed:.0f}s")


class Progress:
    """Counts page records and reports them every ``LINKAUDIT_PROGRESS_INTERVAL`` seconds."""

    def __init__(self, crawler: Any, stream: TextIO | None = None) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("LINKAUDIT_PROGRESS", False)
        self.stream = stream or (sys.stdout if sys.stdout.isatty() else sys.stderr)
        self.live = self.stream.isatty()
        default_interval = 0.5 if self.live else 10.0
        self.interval = crawler.settings.getfloat("LINKAUDIT_PROGRESS_INTERVAL", default_interval)
        self.done = 0
        self.errors = 0
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        self.bar: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        ext = cls(crawler)
        distributed = crawler.settings.get("LINKAUDIT_FRONTIER_ROLE") == "coordinator"
        crawler.signals.connect(ext.item_scraped,
                                signal=PAGE_STORED if distributed else signals.item_scraped)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, PageItem):
            self.done += 1
            failed = item.status is None and not item.blocked_by_robots
            if failed or (item.status or 0) >= 400:
                self.errors += 1

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        if self.enabled:
            if self.live:
                from tqdm import tqdm

                self.bar = tqdm(total=1, file=self.stream, dynamic_ncols=True, mininterval=0,
                                smoothing=0.1, leave=False,
                                # What counts first: on a narrow terminal the end is cut.
                                bar_format="crawling {n_fmt}/{total_fmt} pages, {remaining} "
                                           "left{postfix} |{bar}|")
            self.loop = task.LoopingCall(self.report)
            self.loop.start(self.interval, now=self.live)

    def report(self, final: bool = False) -> None:
        spider = self.crawler.spider
        queued = max(getattr(spider, "scheduled_pages", 0) - self.done, 0) if not final else 0
        elapsed = time.monotonic() - self.started
        if self.bar is not None:
            limit = getattr(spider, "max_pages", 0) or 0
            known = self.done + queued
            self.bar.total = max(min(known, limit) if limit else known, self.done, 1)
            self.bar.update(self.done - self.bar.n)  # update(), not n =: the estimate needs it
            rate = self.done / elapsed if elapsed > 0 else 0.0
            self.bar.set_postfix_str(f"{self.errors} errors, {rate:.1f} pages/s",
                                     refresh=False)
            self.bar.refresh()
            if final:
                self.bar.close()
                self.bar = None
                line = progress_line(self.done, queued, self.errors, elapsed)
                self.stream.write(line + "\n")
        else:
            line = progress_line(self.done, queued, self.errors, elapsed)
            self.stream.write(line + "\n")
        self.stream.flush()

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.enabled:
            self.report(final=True)
