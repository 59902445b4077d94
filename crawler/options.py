"""What a crawl is asked to do: the ``[crawl]`` settings, with their one set of defaults.

``config/defaults.toml`` documents the same values (a test holds the two equal); the
command line's configuration uses this class as its ``[crawl]`` section.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from linkaudit.crawler.urls import DEFAULT_STRIP_PARAMS

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
    include: tuple[str, ...] = ()  # regular expressions: only URLs that match one are fetched
    exclude: tuple[str, ...] = ()  # regular expressions: matching URLs are recorded, not fetched
    urls: tuple[str, ...] = ()  # list mode: crawl these URLs (the first is the start URL)
    follow: int = 0  # list mode: link levels followed from the listed URLs (0 or 1)
    sitemap_only: bool = False  # crawl the URLs the sitemaps list, follow no links
    headers: dict[str, str] = field(default_factory=dict)  # sent to the site ("${ENV}" filled)
    cookies: dict[str, str] = field(default_factory=dict)  # sent to the site ("${ENV}" filled)
    auth_user: str = ""  # HTTP basic auth user, sent to the site's own hosts only
    auth_password_env: str = ""  # the environment variable that holds its password
    check_external: bool = False  # request each external link target once (HEAD, then GET)
    max_external: int = 2000  # distinct external URLs checked at most per crawl
    external_delay: float = 1.0  # seconds between two requests to one external host

    def as_setting(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def as_record(self) -> dict[str, Any]:
        """The options as the crawl store records them: header and cookie values written
        in clear are hidden (``${ENV}`` references are kept as written; the password is
        never among the options, only the name of its variable)."""
        data = self.as_setting()
        for name in SECRET_TABLES:
            data[name] = {key: value if ENV_REFERENCE.search(value) else HIDDEN
                          for key, value in data[name].items()}
        return data

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


# -- what a crawl sends: headers, cookies, basic auth --------------------------------------

SECRET_TABLES = ("headers", "cookies")  # their values are never recorded in clear
HIDDEN = "(hidden)"
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, environ: Mapping[str, str], where: str) -> str:
    """``text`` with each ``${NAME}`` replaced by that environment variable; a ValueError
    names a variable that is not set."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ValueError(f"{where} names the environment variable {name}, which is not set")
        return environ[name]

    return ENV_REFERENCE.sub(value, text)


def site_headers(options: CrawlOptions, environ: Mapping[str, str] | None = None
                 ) -> dict[str, str]:
    """The headers sent with every request to the site's own hosts: ``headers``,
    ``cookies`` (one Cookie header) and basic auth (its password read from the variable
    ``auth_password_env`` names). A ValueError says what is missing."""
    env = os.environ if environ is None else environ
    headers = {name: expand_env(value, env, f"[crawl] headers {name}")
               for name, value in options.headers.items()}
    if options.cookies:
        headers["Cookie"] = "; ".join(
            f"{name}={expand_env(value, env, f'[crawl] cookies {name}')}"
            for name, value in options.cookies.items())
    if options.auth_user or options.auth_password_env:
        if not options.auth_user or not options.auth_password_env:
            raise ValueError("[crawl] auth_user and auth_password_env go together (basic auth "
                             "needs a user and the environment variable of its password)")
        if options.auth_password_env not in env:
            raise ValueError(f"[crawl] auth_password_env names the environment variable "
                             f"{options.auth_password_env}, which is not set")
        pair = f"{options.auth_user}:{env[options.auth_password_env]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def check_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Regular expressions for include / exclude; a ValueError names the bad one."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
    return patterns


class UrlFilter:
    """``include`` and ``exclude``: a URL is fetched when it matches an include pattern (or
    there is none) and no exclude pattern; each pattern is searched in the full URL."""

    def __init__(self, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> None:
        self.include = [re.compile(p) for p in include]
        self.exclude = [re.compile(p) for p in exclude]

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def allows(self, url: str) -> bool:
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)
