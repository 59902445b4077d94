"""Downloader middlewares."""

from __future__ import annotations

import time
from typing import Any

from scrapy.exceptions import IgnoreRequest

from linkaudit.crawler.external import SLOT_PREFIX
from linkaudit.crawler.options import CrawlOptions, site_headers


class AlreadyFetched(IgnoreRequest):
    """The page was fetched already in this crawl (the spider's errback ignores it)."""


class OffSite(IgnoreRequest):
    """The request would leave the audited site (the spider's errback ignores it)."""


class OnSiteOnlyMiddleware:
    """The one place that keeps every request on the site: pages, redirects, sitemaps
    (from robots.txt or an index), resumed frontiers and robots.txt itself. The one
    exception is an external link check (``check_external``), which the spider marks.

    Runs before Scrapy's robots.txt middleware, so no other host's robots.txt is asked
    for either. The hosts are the spider's: the start URL's host (``www.`` or not) and
    the configured extra hosts.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> OnSiteOnlyMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        spider = self.crawler.spider
        if request.url in spider.site or request.meta.get("la_external"):
            return None  # an external link check (crawler/external.py) is the exception
        if self.crawler.stats:
            self.crawler.stats.inc_value("linkaudit/offsite_dropped")
        spider.logger.info("not requested, another site: %s", request.url)
        raise OffSite(f"another site: {request.url}")


class SiteHeadersMiddleware:
    """The ``[crawl]`` headers, cookies and basic auth, on requests to the site's own hosts
    only (its start URL's host, ``extra_hosts``, the hosts of a list crawl).

    ``${ENV}`` references and the password are read from this process's environment when
    the crawl starts: they are never among the options that are recorded or shared.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.headers = site_headers(CrawlOptions.from_settings(crawler.settings))

    @classmethod
    def from_crawler(cls, crawler: Any) -> SiteHeadersMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        if self.headers and request.url in self.crawler.spider.site:
            for name, value in self.headers.items():
                request.headers[name] = value
        return None


class FetchOnceMiddleware:
    """The last guard against fetching a page twice in one crawl.

    A resumed crawl has two sources of pending requests, Scrapy's JOBDIR queue and the
    frontier rebuilt from the store, and they overlap; so do redirects and canonicals.
    Every page request passes here, seeded with the URLs the store already holds.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fetched: set[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FetchOnceMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        if not request.meta.get("la_page"):
            return None
        url = request.meta.get("la_url", request.url)
        if self.fetched is None:
            self.fetched = set(getattr(self.crawler.spider, "resume_done", ()) or ())
        if url in self.fetched and not request.meta.get("retry_times"):
            raise AlreadyFetched(f"already fetched: {url}")
        self.fetched.add(url)
        return None


class ExternalSlotMiddleware:
    """Each external host's politeness: its checks go through a downloader slot of their
    own, one request at a time, each sent at least ``external_delay`` seconds after the
    previous one was answered (no jitter, and AutoThrottle leaves it alone), whatever the
    site's own concurrency and delay are.

    The downloader makes a slot with the site's settings for any key it does not know, so
    the slot is put in place before the request reaches it (again after the downloader
    drops an idle slot). Scrapy counts a slot's delay from when the last request was sent;
    the time of its answer is put in its place, so that a slow answer, or a request sent
    late by a busy process, never brings two requests closer together at the host.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.delay = CrawlOptions.from_settings(crawler.settings).external_delay

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExternalSlotMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        key = request.meta.get("download_slot")
        if request.meta.get("la_external") and key and key.startswith(SLOT_PREFIX):
            from scrapy.core.downloader import Slot

            slots = self.crawler.engine.downloader.slots
            if key not in slots:
                slots[key] = Slot(1, self.delay, 0.0)
        return None

    def process_response(self, request: Any, response: Any) -> Any:
        self._answered(request)
        return response

    def process_exception(self, request: Any, exception: Exception) -> None:
        self._answered(request)
        return None

    def _answered(self, request: Any) -> None:
        if request.meta.get("la_external"):
            slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot"))
            if slot is not None:
                slot.lastseen = time.monotonic()
