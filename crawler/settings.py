"""Scrapy settings for linkaudit.

``scrapy_settings`` is the one function that maps :class:`crawler.options.CrawlOptions`
to Scrapy settings. The module-level names are what ``scrapy crawl site -a start_url=URL``
reads (through scrapy.cfg): the settings of the default options. Nothing is read from a
file here.
"""

from __future__ import annotations

from typing import Any

from crawler.options import SETTING, CrawlOptions

BOT_NAME = "linkaudit"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"


def scrapy_settings(crawl: CrawlOptions, *, store: str | None = None,
                    crawl_id: int | None = None, job_dir: str | None = None,
                    previous_crawl: int | None = None, progress: bool = False
                    ) -> dict[str, Any]:
    """Scrapy settings for one crawl: its options, the store it writes (and the crawl in it
    it continues, or the earlier one to send conditional requests from)."""
    settings: dict[str, Any] = {
        "BOT_NAME": BOT_NAME,
        "SPIDER_MODULES": SPIDER_MODULES,
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "ROBOTSTXT_USER_AGENT": crawl.user_agent,
        # One site per crawl, so the per-domain slot is the whole crawl.
        "CONCURRENT_REQUESTS": max(crawl.concurrency, 1),
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
        # Before the robots.txt middleware (100): nothing off-site is ever asked for.
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.OnSiteOnlyMiddleware": 10,
                                   "crawler.middlewares.FetchOnceMiddleware": 50},
        "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": 300},
        "EXTENSIONS": {"crawler.extensions.Progress": 500},
        SETTING: crawl.as_setting(),
        "LINKAUDIT_PROGRESS": progress,
    }
    if store:
        settings["LINKAUDIT_STORE"] = store
    if crawl_id is not None:
        settings["LINKAUDIT_CRAWL_ID"] = crawl_id
    if job_dir:
        settings["JOBDIR"] = job_dir
    if previous_crawl:
        settings["LINKAUDIT_PREVIOUS_CRAWL"] = previous_crawl
    return settings


# `scrapy crawl` reads this module's upper-case names: the settings of the default options.
globals().update({k: v for k, v in scrapy_settings(CrawlOptions()).items() if k != "BOT_NAME"})
