"""What a crawl is asked to do: the ``[crawl]`` settings, with their one set of defaults.

``config/defaults.toml`` documents the same values (a test holds the two equal); the
command line's configuration uses this class as its ``[crawl]`` section.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from crawler.urls import DEFAULT_STRIP_PARAMS

USER_AGENT = "linkaudit/0.1 (SEO link audit; +https://github.com/linkaudit/linkaudit)"
SETTING = "LINKAUDIT_CRAWL"  # the Scrapy setting that carries the options to the spider


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    max_pages: int = 10000  # stop scheduling new pages after this many
    max_depth: int = 20  # clicks from the start URL
    max_seconds: float = 0.0  # stop the crawl after this long (0: no time limit)
    concurrency: int = 2  # parallel requests to the site
    delay: float = 0.5  # seconds between requests to the site (randomised 0.5x-1.5x)
    autothrottle: bool = True  # adapt the delay to the server's response times
    user_agent: str = USER_AGENT
    timeout: float = 30.0  # seconds per request
    max_url_length: int = 2048  # longer URLs are recorded as links, not fetched
    max_download_size: int = 10 * 1024 * 1024  # bytes; larger bodies are abandoned
    obey_robots: bool = True
    sitemaps: bool = True  # read robots.txt Sitemap: lines and /sitemap.xml
    extra_hosts: tuple[str, ...] = ()  # other hosts that belong to the site
    aliases: tuple[str, ...] = ()  # production hosts this site is a copy of
    strip_params: tuple[str, ...] = DEFAULT_STRIP_PARAMS  # query parameters removed
    conditional: bool = True  # If-None-Match / If-Modified-Since from the last crawl

    def as_setting(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_settings(cls, settings: Any) -> CrawlOptions:
        """The options a Scrapy run was given (the defaults for a bare ``scrapy crawl``)."""
        return cls(**settings.getdict(SETTING))
