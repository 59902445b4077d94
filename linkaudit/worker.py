"""`linkaudit worker`: join the crawl running on a Redis frontier (docs/distributed.md).

A worker fetches and extracts with the crawl's own settings, read from the frontier; its
records go back through Redis to the coordinator, the one process that has the store.
Scrapy's reactor cannot be restarted, so one process works on one crawl.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from linkaudit.crawler.options import site_headers
from linkaudit.crawler.settings import scrapy_settings
from linkaudit.crawling import CrawlError, frontier_module, quiet_failure_logs, start_process

POLL = 0.2  # seconds between two looks for a crawl to join


@dataclass(frozen=True, slots=True)
class WorkerResult:
    worker_id: str
    pages: int  # records this worker sent
    reason: str  # why it stopped: finished, or what the coordinator ended the crawl with
    problem: str | None  # the frontier was lost, or the coordinator went away


def wait_for_crawl(url: str, wait: float) -> object:
    """The crawl on the frontier, once there is one; CrawlError after ``wait`` seconds."""
    frontier = frontier_module()

    try:
        client = frontier.connect(url)
    except frontier.FrontierError as exc:
        raise CrawlError(str(exc)) from exc
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                crawl = frontier.read_crawl(client)
            except frontier.redis.RedisError as exc:
                raise CrawlError(f"lost the frontier {frontier.describe(url)}: "
                                 f"{frontier._reason(exc)}") from exc
            if crawl is not None:
                return crawl
            if time.monotonic() >= deadline:
                raise CrawlError(f"no crawl is running on the frontier {frontier.describe(url)} "
                                 f"(waited {wait:g} s); start one with "
                                 f"`linkaudit crawl URL --frontier {frontier.describe(url)}`")
            time.sleep(POLL)
    finally:
        client.close()


def run_worker(url: str, *, wait: float = 60.0) -> WorkerResult:
    """Work on the frontier's crawl until it is over."""
    from scrapy.crawler import CrawlerProcess

    frontier = frontier_module()
    crawl = wait_for_crawl(url, wait)
    try:
        site_headers(crawl.options)  # ${NAME} and the password, from this machine's environment
    except ValueError as exc:
        raise CrawlError(f"cannot join the crawl on {frontier.describe(url)}: {exc}") from exc
    wid = frontier.worker_id()
    options = crawl.options.__class__(**{**crawl.options.as_setting(), "frontier": url})
    settings = scrapy_settings(options, role="worker", worker_id=wid, lease=crawl.lease)
    process = CrawlerProcess(settings)
    quiet_failure_logs()
    process.crawl(frontier.DistributedSiteSpider, start_url=crawl.start_url)
    crawlers = list(process.crawlers)
    start_process(process)
    state = next((c._linkaudit_frontier for c in crawlers
                  if getattr(c, "_linkaudit_frontier", None) is not None), None)
    stats = crawlers[0].stats.get_stats() if crawlers and crawlers[0].stats else {}
    reason = str(stats.get("finish_reason", "finished"))
    if state is None:
        return WorkerResult(wid, 0, reason, None)
    return WorkerResult(wid, state.pages_sent, reason, state.lost)
