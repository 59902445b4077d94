"""Scrapy settings for linkaudit.

``scrapy_settings`` is the one function that maps :class:`linkaudit.crawler.options.CrawlOptions`
to Scrapy settings. The module-level names are what ``scrapy crawl site -a start_url=URL``
reads (through scrapy.cfg): the settings of the default options. Nothing is read from a
file here.
"""

from __future__ import annotations

from typing import Any

from linkaudit.crawler.external import PARALLEL as EXTERNAL_PARALLEL
from linkaudit.crawler.options import SETTING, CrawlOptions

BOT_NAME = "linkaudit"
SPIDER_MODULES = ["linkaudit.crawler.spiders"]
NEWSPIDER_MODULE = "linkaudit.crawler.spiders"
# Before the robots.txt middleware (100): nothing off-site is ever asked for, and the
# site's headers, cookies and basic auth go with robots.txt too.
MIDDLEWARES = {"linkaudit.crawler.middlewares.OnSiteOnlyMiddleware": 10,
               "linkaudit.crawler.middlewares.SiteHeadersMiddleware": 20,
               "linkaudit.crawler.middlewares.FetchOnceMiddleware": 50,
               "linkaudit.crawler.middlewares.ExternalSlotMiddleware": 60}


def scrapy_settings(crawl: CrawlOptions, *, store: str | None = None,
                    crawl_id: int | None = None, job_dir: str | None = None,
                    previous_crawl: int | None = None, progress: bool = False,
                    role: str | None = None, worker_id: str | None = None,
                    lease: float | None = None) -> dict[str, Any]:
    """Scrapy settings for one crawl: its options, the store it writes (and the crawl in it
    it continues, or the earlier one to send conditional requests from).

    With ``crawl.frontier`` set, ``role`` is ``coordinator`` (the process that writes the
    store) or ``worker`` (docs/distributed.md)."""
    settings: dict[str, Any] = {
        "BOT_NAME": BOT_NAME,
        "SPIDER_MODULES": SPIDER_MODULES,
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "ROBOTSTXT_USER_AGENT": crawl.user_agent,
        # One site per crawl, so the per-domain slot is the whole crawl; external link
        # checks have room of their own beside it (one per external host).
        "CONCURRENT_REQUESTS": max(crawl.concurrency, 1)
        + (EXTERNAL_PARALLEL if crawl.check_external and not crawl.frontier else 0),
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(crawl.concurrency, 1),
        "DOWNLOAD_DELAY": crawl.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.delay, 0.5),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": max(crawl.concurrency / 2, 1.0),
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_download_size,
        "DOWNLOAD_WARNSIZE": 0,
        "URLLENGTH_LIMIT": crawl.max_url_length,
        "CLOSESPIDER_TIMEOUT": crawl.max_seconds,
        # The spider records every hop and every status itself.
        "REDIRECT_ENABLED": False,
        "METAREFRESH_ENABLED": False,  # a meta refresh is recorded as a redirect hop
        "HTTPERROR_ALLOW_ALL": True,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 1,
        "RETRY_HTTP_CODES": [502, 503, 504, 522, 524, 408, 429],
        # Breadth-first: the spider gives each request priority -depth; FIFO within a priority.
        "DEPTH_LIMIT": 0,
        "DEPTH_PRIORITY": 0,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # it would open a control port on the machine
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "%(levelname)s: %(message)s",
        "DOWNLOADER_MIDDLEWARES": MIDDLEWARES,
        "ITEM_PIPELINES": {"linkaudit.crawler.pipelines.StorePipeline": 300},
        "EXTENSIONS": {"linkaudit.crawler.extensions.Progress": 500},
        SETTING: crawl.as_setting(),
        "LINKAUDIT_PROGRESS": progress,
    }
    if crawl.frontier:
        settings.update(_frontier_settings(crawl, role or "coordinator", worker_id, lease))
        job_dir = previous_crawl = None  # the queue is in Redis; workers have no store
    if store:
        settings["LINKAUDIT_STORE"] = store
    if crawl_id is not None:
        settings["LINKAUDIT_CRAWL_ID"] = crawl_id
    if job_dir:
        settings["JOBDIR"] = job_dir
    if previous_crawl:
        settings["LINKAUDIT_PREVIOUS_CRAWL"] = previous_crawl
    return settings


def _frontier_settings(crawl: CrawlOptions, role: str, worker_id: str | None,
                       lease: float | None) -> dict[str, Any]:
    """A process of a distributed crawl: the Redis scheduler, the site's shared politeness
    slot (so the process's own delay is 0), records sent to Redis."""
    coordinator = role == "coordinator"
    pipeline = "CoordinatorPipeline" if coordinator else "FrontierPipeline"
    settings: dict[str, Any] = {
        "SCHEDULER": "linkaudit.crawler.frontier.FrontierScheduler",
        # The slot is taken just before the download: a delay of the process's own would
        # come after it (AutoThrottle paces one process; the crawl-wide slot has the say).
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOADER_MIDDLEWARES": {
            **MIDDLEWARES, "linkaudit.crawler.frontier.SharedSlotMiddleware": 990},
        "ITEM_PIPELINES": {f"linkaudit.crawler.frontier.{pipeline}": 300},
        "LINKAUDIT_FRONTIER": crawl.frontier,
        "LINKAUDIT_FRONTIER_ROLE": role,
    }
    if not coordinator:
        settings["CLOSESPIDER_TIMEOUT"] = 0  # the coordinator ends the crawl
    if worker_id:
        settings["LINKAUDIT_WORKER_ID"] = worker_id
    if lease:
        settings["LINKAUDIT_FRONTIER_LEASE"] = lease
    return settings


# `scrapy crawl` reads this module's upper-case names: the settings of the default options.
globals().update({k: v for k, v in scrapy_settings(CrawlOptions()).items() if k != "BOT_NAME"})
