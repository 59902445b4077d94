"""The site spider: breadth-first over one site, one record per requested URL.

It only navigates. What a page says comes from :func:`linkaudit.crawler.extract.extract_page`;
what the crawl store keeps is written by :class:`linkaudit.crawler.pipelines.StorePipeline`.

    scrapy crawl site -a start_url=http://127.0.0.1:8000/article.html
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet.threads import deferToThread

from linkaudit import storage
from linkaudit.crawler.external import ExternalChecks
from linkaudit.crawler.extract import extract_page
from linkaudit.crawler.items import ExternalCheckItem, PageItem
from linkaudit.crawler.middlewares import AlreadyFetched, OffSite
from linkaudit.crawler.options import CrawlOptions, UrlFilter
from linkaudit.crawler.urls import Site, host_of, normalize_url, rehost

# Sitemap-only URLs wait until every page reachable by links has been requested, so the
# pages that links do reach get their real click depth.
SITEMAP_PRIORITY = -1_000_000
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _header_charset(response: Response) -> str | None:
    content_type = _header(response, "Content-Type") or ""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _is_html(response: Response) -> bool:
    ctype = (_header(response, "Content-Type") or "").split(";")[0].strip().lower()
    if ctype:
        return ctype in HTML_TYPES
    return isinstance(response, TextResponse) and b"<html" in response.body[:2048].lower()


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, start_url: str | None = None, resume_done: Iterable[str] = (),
                 resume_frontier: Iterable[tuple[str, int | None, str | None]] = (),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not start_url:
            raise ValueError("start_url is required (scrapy crawl site -a start_url=URL)")
        normalized = normalize_url(start_url)
        if normalized is None:
            raise ValueError(f"not an http(s) URL: {start_url}")
        self.start_url = normalized
        self.resume_done = set(resume_done)
        self.resume_frontier = list(resume_frontier)
        self.seen: set[str] = set(self.resume_done)
        # Scheduled from a sitemap and not reached by a link yet: a link that reaches one
        # schedules it again at its click depth (the fetch-once guard drops the other).
        self.sitemap_pending: set[str] = set()
        self.scheduled_pages = len(self.resume_done)
        self.previous: PreviousCrawl | None = None  # set by from_crawler when conditional
        self.cut_urls: dict[str, set[str]] = {}  # limit -> URLs it kept out
        self.excluded: set[str] = set()  # URLs the include / exclude patterns kept out
        self.external: ExternalChecks | None = None  # set by from_crawler: check_external

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        options = CrawlOptions.from_settings(settings)
        spider.max_pages = options.max_pages
        spider.max_depth = options.max_depth
        spider.max_url_length = options.max_url_length
        spider.strip_params = tuple(options.strip_params)
        # List mode: the listed URLs, their hosts the site's; no sitemap is read.
        spider.listed = list(dict.fromkeys(filter(None, (
            normalize_url(u, None, spider.strip_params) for u in options.urls))))
        spider.follow = options.follow
        spider.sitemap_only = options.sitemap_only
        spider.use_sitemaps = options.sitemap_only or (options.sitemaps and not spider.listed)
        spider.url_filter = UrlFilter(options.include, options.exclude)
        spider.site = Site({host_of(spider.start_url)} | {h.lower() for h in options.extra_hosts}
                           | {host_of(u) for u in spider.listed})
        spider.aliases = frozenset(
            host_of(a) if "://" in a else a.strip().strip("/").lower()
            for a in options.aliases if a.strip())
        parts = urlsplit(spider.start_url)
        spider.origin = f"{parts.scheme}://{parts.netloc}"
        spider.max_sitemap_size = settings.getint("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024)
        spider.previous = PreviousCrawl.open(settings.get("LINKAUDIT_STORE"),
                                             settings.getint("LINKAUDIT_PREVIOUS_CRAWL", 0))
        # A distributed crawl checks no external link (docs/distributed.md).
        if options.check_external and not options.frontier:
            spider.external = ExternalChecks(options.max_external, options.timeout)
            spider.external.skip(_checked_already(settings.get("LINKAUDIT_STORE"),
                                                  settings.getint("LINKAUDIT_CRAWL_ID", 0)))
            crawler.signals.connect(spider._headers_only, signal=signals.headers_received)
        return spider

    # -- scheduling -------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self._start_requests():
            yield request

    def _start_requests(self) -> Iterator[scrapy.Request]:
        if self.start_url not in self.resume_done:
            yield from self._schedule(self.start_url, 0, "start", None, force=True)
        for url in self.listed:
            if url not in self.resume_done:
                yield from self._schedule(url, 0, "list", None, force=True)
        for url, depth, referrer in self.resume_frontier:
            if self._internal(self._local(url)):  # the store also holds external targets
                yield from self._schedule(self._local(url), depth, "resume", referrer)
            else:
                yield from self._check_external([url])
        if self.use_sitemaps:
            root = urljoin(self.start_url, "/")
            yield scrapy.Request(urljoin(root, "/robots.txt"), callback=self.parse_robots,
                                 errback=self._ignore_failure, dont_filter=True,
                                 meta={"dont_obey_robotstxt": True}, priority=SITEMAP_PRIORITY)
            yield self._sitemap_request(urljoin(root, "/sitemap.xml"))

    def _schedule(self, url: str, depth: int | None, found_via: str, referrer: str | None,
                  force: bool = False) -> Iterator[scrapy.Request]:
        if self._declined(url, depth, found_via, force):
            return
        upgrade = depth is not None and url in self.sitemap_pending
        if url in self.seen and not upgrade:
            return
        if not upgrade and not force and self.scheduled_pages >= self.max_pages:
            self._cut("max_pages", url)
            return
        if depth is not None and depth > self.max_depth:
            self._cut("max_depth", url)
            return
        if len(url) > self.max_url_length:
            self._cut("max_url_length", url)
            return
        if upgrade:
            self.sitemap_pending.discard(url)
        else:
            self.seen.add(url)
            self.scheduled_pages += 1
            if depth is None:
                self.sitemap_pending.add(url)
        priority = SITEMAP_PRIORITY if depth is None else -depth
        yield scrapy.Request(
            url, callback=self.parse, errback=self.on_error, priority=priority, dont_filter=True,
            headers=self.previous.validators(url) if self.previous else None,
            meta={"la_page": True, "la_url": url, "la_depth": depth, "la_found_via": found_via,
                  "la_referrer": referrer},
        )

    def _declined(self, url: str, depth: int | None, found_via: str, force: bool) -> bool:
        """Kept out by the crawl's own choices, not by a limit: the links a list crawl or a
        sitemap-only crawl does not follow, and URLs the include / exclude patterns leave
        out (counted as ``linkaudit/excluded``; they stay recorded as links)."""
        if force:
            return False
        if found_via in ("link", "resume"):
            if self.sitemap_only:
                return True
            if self.listed and depth is not None and depth > self.follow:
                return True
        if self.url_filter and not self.url_filter.allows(url):
            if url not in self.excluded:
                self.excluded.add(url)
                stats = self.crawler.stats
                stats.inc_value("linkaudit/excluded")
                if len(self.excluded) == 1:
                    stats.set_value("linkaudit/excluded/example", url)
            return True
        return False

    def _cut(self, limit: str, url: str) -> None:
        """Count a URL a limit kept out of the crawl (stored with the crawl's statistics)."""
        cut = self.cut_urls.setdefault(limit, set())
        if url in cut:
            return
        cut.add(url)
        stats = self.crawler.stats
        stats.inc_value(f"linkaudit/cut/{limit}")
        if len(cut) == 1:
            stats.set_value(f"linkaudit/cut/{limit}/example", url)

    def _sitemap_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_sitemap, errback=self._ignore_failure,
                              priority=SITEMAP_PRIORITY)

    # -- pages ------------------------------------------------------------------

    async def parse(self, response: Response) -> AsyncIterator[Any]:
        self.sitemap_pending.discard(response.meta.get("la_url"))
        item = self._base_item(response)
        if self._needs_extract(response):
            await self._extract_into(item, response)
        for output in self._outputs(response, item):
            yield output

    def _needs_extract(self, response: Response) -> bool:
        if response.status == 304 and self.previous is not None:
            return False
        return not 300 <= response.status < 400 and _is_html(response)

    async def _extract_into(self, item: PageItem, response: Response) -> None:
        """Extract in a worker thread: a huge page never holds up the network thread (its
        other downloads would time out), and lxml parses without holding the GIL."""
        # The charset the server declares, not Scrapy's guess (response.encoding guesses
        # mac-latin2 for French text under an unknown label): extract_page decides the rest.
        encoding = _header_charset(response)
        try:
            item.extract = await maybe_deferred_to_future(deferToThread(
                extract_page, response.body, response.url, encoding, self.strip_params))
        except Exception as exc:  # noqa: BLE001 - a page that breaks the parser is still recorded
            item.error = f"could not parse the page: {type(exc).__name__}: {exc}"[:300]
            self.logger.warning("%s: %s", response.url, item.error)

    def _outputs(self, response: Response, item: PageItem) -> Iterator[Any]:
        depth = response.meta.get("la_depth")
        if response.status == 304 and self.previous is not None:
            item.carried_from = self.previous.crawl_id
            yield item
            next_depth = None if depth is None else depth + 1
            targets = self.previous.targets(item.url)
            for target in targets:
                if self._internal(target):
                    yield from self._schedule(target, next_depth, "link", item.url)
            yield from self._check_external(targets)
            return
        if 300 <= response.status < 400:
            location = _header(response, "Location")
            if location:
                target = normalize_url(location, response.url, self.strip_params)
                item.redirect_to = self._local(target) if target else None
            yield item
            if item.redirect_to and self._internal(item.redirect_to):
                yield from self._schedule(item.redirect_to, depth, "redirect", response.url)
            return
        if item.extract is None:  # not HTML, or the parser gave up on it
            yield item
            return
        if self.aliases:
            self._localise(item.extract)
        refresh = item.extract.refresh
        if refresh and refresh != item.url and response.status == 200:
            # A meta refresh is a redirect like any other: a hop, not a page to read.
            item.redirect_to = self._local(refresh)
            yield item
            if self._internal(item.redirect_to):
                yield from self._schedule(item.redirect_to, depth, "redirect", response.url)
            return
        yield item
        if response.status != 200:
            return
        next_depth = None if depth is None else depth + 1
        yield from self._follow(item, next_depth)

    def _follow(self, item: PageItem, depth: int | None) -> Iterator[scrapy.Request]:
        extract = item.extract
        targets = [link.target for link in extract.links if link.target]
        if extract.canonical:
            targets.append(extract.canonical)
        for target in targets:
            fresh = target not in self.seen or target in self.sitemap_pending
            if fresh and self._internal(target):
                yield from self._schedule(target, depth, "link", item.url)
        yield from self._check_external(link.target for link in extract.links if link.target)

    def _internal(self, url: str) -> bool:
        return url in self.site

    # -- external link checks (crawler/external.py) -------------------------------

    def _check_external(self, targets: Iterable[str]) -> Iterator[scrapy.Request]:
        """Queue the external ones of ``targets`` for a check (each once per crawl, outside
        the page budget, within ``max_external``) and send what may go now."""
        if self.external is None:
            return
        for target in targets:
            if not self._internal(target) and not self.external.add(target):
                self._cut("max_external", target)
        yield from self.external.release(self)

    def parse_external(self, response: Response) -> Iterator[Any]:
        item = self.external.answered(response.meta["la_external"], response.status,
                                      _header(response, "Location"),
                                      response.meta.get("download_latency"))
        yield from self._external_outputs(item)

    def external_failed(self, failure: Any) -> Iterator[Any]:
        item = self.external.failed(failure.request.meta["la_external"], _describe(failure))
        yield from self._external_outputs(item)

    def _external_outputs(self, item: ExternalCheckItem | None) -> Iterator[Any]:
        if item is not None:
            self.crawler.stats.inc_value("linkaudit/external/checked")
            yield item
        yield from self.external.release(self)

    def _headers_only(self, request: scrapy.Request, **_: Any) -> None:
        """An external check reads the status and headers only: the body is not downloaded
        (the response reaches ``parse_external`` without it)."""
        if request.meta.get("la_external"):
            raise StopDownload(fail=False)

    def _local(self, url: str) -> str:
        """An address on a production alias, read as the same path on the audited copy."""
        return rehost(url, self.aliases, self.origin)

    def _localise(self, extract: Any) -> None:
        for link in extract.links:
            if link.target:
                link.target = self._local(link.target)
        if extract.canonical:
            extract.canonical = self._local(extract.canonical)
        extract.hreflang = [(code, self._local(url)) for code, url in extract.hreflang]

    def _base_item(self, response: Response) -> PageItem:
        meta = response.meta
        return PageItem(
            url=meta.get("la_url", response.url),
            status=response.status,
            content_type=_header(response, "Content-Type"),
            response_time=meta.get("download_latency"),
            size=len(response.body),
            depth=meta.get("la_depth"),
            found_via=meta.get("la_found_via", "link"),
            referrer=meta.get("la_referrer"),
            x_robots_tag=_header(response, "X-Robots-Tag"),
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def on_error(self, failure: Any) -> Iterator[PageItem]:
        if failure.check(AlreadyFetched, OffSite):
            return
        request = failure.request
        self.sitemap_pending.discard(request.meta.get("la_url"))
        meta = request.meta
        blocked = failure.check(IgnoreRequest) is not None and "robots" in str(failure.value)
        error = "blocked by robots.txt" if blocked else _describe(failure)
        yield PageItem(
            url=meta.get("la_url", request.url), status=None, error=error,
            depth=meta.get("la_depth"),
            found_via=meta.get("la_found_via", "link"), referrer=meta.get("la_referrer"),
            blocked_by_robots=blocked,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    # -- sitemaps -----------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            url = self._local(url)
            if self._internal(url):
                yield self._sitemap_request(url)
            else:  # another site's sitemap: never fetched
                self.logger.warning("robots.txt names a sitemap on another host, not read: %s "
                                    "(if this site is a copy of that one, use --alias)", url)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status != 200:
            return
        body = self._sitemap_body(response)
        if not body:
            return
        try:
            sitemap = Sitemap(body)
        except Exception:  # noqa: BLE001 - lxml raises several types on garbage
            self.logger.warning("unreadable sitemap: %s", response.url)
            return
        entries = [normalize_url(e.get("loc", ""), response.url, self.strip_params)
                   for e in sitemap]
        for url in map(self._local, filter(None, entries)):
            if not self._internal(url):
                continue  # another site's page or sitemap: never fetched
            if sitemap.type == "sitemapindex":
                yield self._sitemap_request(url)
            else:
                yield from self._schedule(url, None, "sitemap", response.url)

    def _sitemap_body(self, response: Response) -> bytes | None:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                return gunzip(body, max_size=self.max_sitemap_size)
            except (OSError, ValueError):
                self.logger.warning("sitemap could not be decompressed: %s", response.url)
                return None
        return body

    def closed(self, reason: str) -> None:
        if self.previous is not None:
            self.previous.close()

    def _ignore_failure(self, failure: Any) -> None:
        self.logger.info("optional request failed: %s", failure.getErrorMessage())


class PreviousCrawl:
    """The last complete crawl of the site, for conditional requests.

    Pages it fetched with an ETag or Last-Modified are requested with If-None-Match /
    If-Modified-Since; a 304 answer means its records still hold, and its links are
    followed from the store instead of from a body that was not sent.
    """

    def __init__(self, store_path: str, crawl_id: int) -> None:
        self.crawl_id = crawl_id
        self.conn = storage.readonly(store_path, threads=True)
        self._validators = storage.validators(self.conn, crawl_id)

    @classmethod
    def open(cls, store_path: str | None, crawl_id: int) -> PreviousCrawl | None:
        if not store_path or not crawl_id:
            return None
        return cls(store_path, crawl_id)

    def validators(self, url: str) -> dict[str, str] | None:
        found = self._validators.get(url)
        if found is None:
            return None
        etag, modified = found
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def close(self) -> None:
        self.conn.close()

    def targets(self, url: str) -> list[str]:
        return storage.followed_targets(self.conn, self.crawl_id, url)


def _checked_already(store_path: str | None, crawl_id: int) -> set[str]:
    """External URLs the crawl being resumed has checked (none for a new crawl)."""
    if not store_path or not crawl_id:
        return set()
    conn = storage.readonly(store_path)
    try:
        return storage.checked_external(conn, crawl_id)
    finally:
        conn.close()


def _describe(failure: Any) -> str:
    value = failure.value
    name = type(value).__name__
    message = str(value).strip().splitlines()[0] if str(value).strip() else ""
    return f"{name}: {message}"[:300] if message else name
