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
    frontier: str = ""  # redis://host:port/db: a crawl shared with workers ("": in-process)

    def as_setting(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_settings(cls, settings: Any) -> CrawlOptions:
        """The options a Scrapy run was given (the defaults for a bare ``scrapy crawl``)."""
        return cls(**settings.getdict(SETTING))


FRONTIER_SCHEMES = ("redis", "rediss", "unix")


def check_frontier_url(url: str) -> str:
    """A frontier URL (``redis://host:port/db``); a ValueError says what is wrong with it."""
    from urllib.parse import parse_qs, urlsplit

    text = url.strip()
    scheme, sep, _ = text.partition("://")
    if not sep or scheme.lower() not in FRONTIER_SCHEMES:
        raise ValueError(f"frontier {text!r} must be a Redis URL, e.g. redis://127.0.0.1:6379/0")
    try:
        parts = urlsplit(text)
        port = parts.port
        query = parse_qs(parts.query, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise ValueError(f"frontier {text!r} cannot be read: {exc}") from exc
    if scheme.lower() == "unix":
        if not parts.path:
            raise ValueError(f"frontier {text!r} names no socket path")
        return text
    if not parts.hostname:
        raise ValueError(f"frontier {text!r} has no host name")
    if port == 0:
        raise ValueError(f"frontier {text!r} has an impossible port (1 to 65535)")
    database = parts.path.strip("/")
    if database and not (database.isdigit() and int(database) < 1_000_000):
        raise ValueError(f"frontier {text!r}: the database must be a number, "
                         f"not {database!r}")
    for value in query.get("lease", []):
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not 0.5 <= seconds <= 3600:
            raise ValueError(f"frontier {text!r}: lease must be 0.5 to 3600 seconds, "
                             f"not {value!r}")
    return text
