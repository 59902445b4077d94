"""External link checks: each distinct link target on another host is asked for once.

A check is a HEAD request to the target, with its redirects followed one hop at a time
(every hop is a request of its own, so every hop is polite). A HEAD that answers an error
status is asked again with GET from the start, because many servers answer HEAD wrongly
(405 Method Not Allowed, 501, but also 403, 404 or 500 for a page a browser gets): only
the GET answer is recorded then. 429 (Too Many Requests) is not asked again: the server
asked us to slow down. The GET's body is never read: the download stops once the headers
have arrived (the spider's ``headers_received`` handler).

Politeness: at most one request is in flight per external host (the next one of that host
waits until it is answered), through a downloader slot of its own whose delay is
``external_delay`` (``ExternalSlotMiddleware``), and at most ``PARALLEL`` checks are in
flight over all hosts, so the site's own pages always keep their share of the downloader.
No external robots.txt is read (docs/configuration.md, ``check_external``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from linkaudit.crawler.items import ExternalCheckItem
from linkaudit.crawler.urls import host_of, normalize_url

if TYPE_CHECKING:  # Scrapy is loaded by the crawl, not by reading these settings
    import scrapy

PARALLEL = 8  # external checks in flight at once, over all hosts
MAX_HOPS = 10  # redirects followed from an external URL
# Above every page (pages get -depth): checks in flight are few (PARALLEL), and a check
# that waits behind the site's queue would keep the crawl running after its last page.
PRIORITY = 1_000
RATE_LIMITED = 429  # a HEAD answered this is not asked again with GET
SLOT_PREFIX = "external:"  # downloader slot of an external host: SLOT_PREFIX + host


@dataclass(slots=True)
class Check:
    """One external URL being checked: the method in use and the hops seen so far."""

    url: str
    method: str = "HEAD"
    hops: list[tuple[str, int]] = field(default_factory=list)  # (url, 3xx status) in order


@dataclass(slots=True)
class Job:
    """The next request of a check: ``url`` (the check's URL or a hop) with its method."""

    check: Check
    url: str


class ExternalChecks:
    """The queue of external checks of one crawl: which URLs were taken, what each host is
    waiting for, and the requests that may go now."""

    def __init__(self, cap: int, timeout: float, parallel: int = PARALLEL) -> None:
        self.cap = cap
        self.timeout = timeout
        self.parallel = parallel
        self.taken: set[str] = set()  # URLs checked or queued in this crawl
        self.waiting: dict[str, deque[Job]] = {}  # host -> its jobs not yet requested
        self.ready: deque[str] = deque()  # hosts with waiting jobs and nothing in flight
        self.busy: set[str] = set()  # hosts with a request in flight
        self.refused: set[str] = set()  # URLs the cap kept out

    def add(self, url: str) -> bool:
        """Queue ``url`` for a check unless it was taken already; False when the cap
        (``max_external``) keeps it out."""
        if url in self.taken:
            return True
        if len(self.taken) >= self.cap:
            self.refused.add(url)
            return False
        self.taken.add(url)
        self._queue(Job(Check(url), url))
        return True

    def skip(self, urls: set[str]) -> None:
        """URLs already checked (by the crawl being resumed): never asked for again."""
        self.taken |= urls

    def release(self, spider: scrapy.Spider) -> list[scrapy.Request]:
        """The requests that may go now: one per idle host, ``parallel`` in flight at most."""
        requests = []
        while self.ready and len(self.busy) < self.parallel:
            host = self.ready.popleft()
            jobs = self.waiting[host]
            job = jobs.popleft()
            if not jobs:
                del self.waiting[host]
            self.busy.add(host)
            requests.append(self._request(job, host, spider))
        return requests

    def answered(self, job: Job, status: int, location: str | None,
                 elapsed: float | None) -> ExternalCheckItem | None:
        """Take a response to ``job``: the finished check's record, or None when the check
        goes on (a redirect hop, or GET after a refused HEAD)."""
        self._done(job)
        check = job.check
        if 300 <= status < 400 and location:
            target = normalize_url(location, job.url, ())
            visited = {check.url, *(url for url, _ in check.hops)}
            if target is not None and target not in visited and len(check.hops) < MAX_HOPS:
                check.hops.append((job.url, status))
                self._queue(Job(check, target))
                return None
            if check.method == "HEAD":
                self._again_with_get(check)
                return None
            error = "redirect loop" if target in visited else f"more than {MAX_HOPS} redirects"
            return self._record(check, job.url, status, error if target else None, elapsed)
        if status >= 400 and status != RATE_LIMITED and check.method == "HEAD":
            self._again_with_get(check)
            return None
        return self._record(check, job.url, status, None, elapsed)

    def failed(self, job: Job, error: str) -> ExternalCheckItem:
        """Take a request that got no response (DNS, refused, timeout): the check ends."""
        self._done(job)
        return self._record(job.check, job.url, None, error, None)

    # -- inside ----------------------------------------------------------------------

    def _queue(self, job: Job) -> None:
        host = host_of(job.url)
        jobs = self.waiting.get(host)
        if jobs is None:
            jobs = self.waiting[host] = deque()
            if host not in self.busy:
                self.ready.append(host)
        jobs.append(job)

    def _done(self, job: Job) -> None:
        host = host_of(job.url)
        self.busy.discard(host)
        if host in self.waiting and host not in self.ready:
            self.ready.append(host)

    def _again_with_get(self, check: Check) -> None:
        check.method = "GET"
        check.hops.clear()
        self._queue(Job(check, check.url))

    def _record(self, check: Check, url: str, status: int | None, error: str | None,
                elapsed: float | None) -> ExternalCheckItem:
        first = check.hops[0][1] if check.hops else status
        return ExternalCheckItem(
            url=check.url, status=first, final_url=url if check.hops else None,
            final_status=status, error=error, method=check.method,
            redirects=len(check.hops), response_time=elapsed,
            checked_at=datetime.now(UTC).isoformat(timespec="seconds"))

    def _request(self, job: Job, host: str, spider: scrapy.Spider) -> scrapy.Request:
        from scrapy import Request

        return Request(
            job.url, method=job.check.method, callback=spider.parse_external,
            errback=spider.external_failed, priority=PRIORITY, dont_filter=True,
            meta={"la_external": job, "download_slot": SLOT_PREFIX + host,
                  "download_timeout": self.timeout, "dont_obey_robotstxt": True,
                  "dont_retry": True, "autothrottle_dont_adjust_delay": True,
                  "handle_httpstatus_all": True})
