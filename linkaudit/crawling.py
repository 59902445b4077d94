"""Running a crawl: the one place that turns a Config into a Scrapy run.

Scrapy's reactor cannot be restarted, so one process runs at most one crawl.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkaudit import storage
from linkaudit.config import Config, ConfigError, apply_tables, field_names
from linkaudit.crawler.options import SECRET_TABLES
from linkaudit.crawler.settings import scrapy_settings
from linkaudit.crawler.urls import normalize_url, site_key

MAX_START_HOPS = 10  # redirects followed from the start URL to its page


class CrawlError(Exception):
    """The crawl could not run or reached nothing; the message is one line."""


class FrontierBusyError(CrawlError):
    """Another crawl is running on the Redis frontier that was given."""


def frontier_module() -> Any:
    """linkaudit.crawler.frontier, or a CrawlError when the optional Redis packages are missing."""
    try:
        from linkaudit.crawler import frontier
    except ImportError as exc:
        raise CrawlError(f"a crawl on a frontier needs scrapy-redis and redis ({exc.name} is "
                         "missing): pip install 'linkaudit[distributed]'") from exc
    return frontier


def check_frontier(url: str, start_url: str, resume: bool) -> None:
    """Before any work: the frontier's Redis answers and runs no other crawl.

    The crawl of a killed coordinator still looks alive for a moment (two leases); a
    resumed crawl of the same site takes it over: the store's lock, which the caller
    holds, says that its coordinator is gone."""
    frontier = frontier_module()

    try:
        client = frontier.connect(url)
    except frontier.FrontierError as exc:
        raise CrawlError(str(exc)) from exc
    try:
        busy = client.exists(frontier.K_COORDINATOR) and not client.exists(frontier.K_DONE)
        running = client.hget(frontier.K_META, "start_url") if busy else None
        if resume and running == start_url.encode():
            busy = False
    except frontier.redis.RedisError as exc:
        raise CrawlError(f"the frontier {frontier.describe(url)} failed: "
                         f"{frontier._reason(exc)}") from exc
    finally:
        client.close()
    if busy:
        site = running.decode() if running else "?"
        raise FrontierBusyError(f"another crawl ({site}) is running on the frontier "
                                f"{frontier.describe(url)}; nothing done")


@dataclass(frozen=True, slots=True)
class CrawlResult:
    store_path: Path
    crawl_id: int
    state: str
    finish_reason: str | None
    pages: int
    links: int
    problem: str | None  # why the start URL reached no HTML page (the crawl is 'failed')
    frontier_problem: str | None = None  # why a distributed crawl lost its Redis frontier


def site_name(config: Config, start_url: str) -> str:
    return config.site.name or site_key(start_url)


def default_store(config: Config, start_url: str, reports_dir: Path = Path("reports")) -> Path:
    return storage.default_path(reports_dir, site_name(config, start_url))


def check_start_url(url: str) -> str:
    """The normal form of a start URL; a CrawlError says what is wrong with it."""
    text = (url or "").strip()
    scheme, sep, _ = text.partition("://")
    if not sep:
        hint = f" (e.g. http://{text})" if text and not any(c.isspace() for c in text) else ""
        raise CrawlError(f"start URL {text!r} must begin with http:// or https://{hint}")
    if scheme.lower() not in ("http", "https"):
        raise CrawlError(f"start URL {text!r}: only http:// and https:// sites are crawled, "
                         f"not {scheme}://")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise CrawlError(f"start URL {text!r} cannot be read: {exc}") from exc
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raw = parts.netloc.rsplit(":", 1)[-1]
        raise CrawlError(f"start URL {text!r} has an impossible port {raw!r} "
                         "(a port is a number from 1 to 65535)")
    if not parts.hostname:
        raise CrawlError(f"start URL {text!r} has no host name")
    normalized = normalize_url(text)
    if normalized is None:
        raise CrawlError(f"start URL {text!r} is not a usable http(s) address")
    return normalized


def read_url_list(path: str | Path) -> tuple[str, ...]:
    """The URLs of a list crawl: one a line, blank lines and ``#`` comments ignored, each
    in its normal form; a CrawlError names the file and the line that is not a URL."""
    try:
        text = Path(path).read_text("utf-8-sig")
    except OSError as exc:
        raise CrawlError(f"cannot read the URL list {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CrawlError(f"the URL list {path} is not UTF-8 text") from exc
    urls: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            urls.append(check_start_url(line))
        except CrawlError as exc:
            message = str(exc).removeprefix("start URL ")
            raise CrawlError(f"{path} line {number}: URL {message}") from exc
    if not urls:
        raise CrawlError(f"the URL list {path} holds no URL")
    return tuple(dict.fromkeys(urls))


def resumed_config(config: Config, recorded: Mapping[str, Any],
                   flags: Mapping[str, Any]) -> Config:
    """A resumed crawl keeps the [crawl] settings it started with; flags given now win.

    Without this, `crawl URL --max-pages 50`, interrupted, then `crawl URL --resume` would
    continue under the default limit of 10,000 pages. Headers and cookies are the current
    settings' (the store does not hold their values).
    """
    crawl = recorded.get("crawl")
    if isinstance(crawl, dict):
        known = set(field_names("crawl")) - set(SECRET_TABLES)
        try:
            config = apply_tables(config, {"crawl": {k: v for k, v in crawl.items()
                                                     if k in known}})
        except ConfigError:
            pass  # recorded by another version of linkaudit: keep the current settings
    return config.with_crawl(**flags)


def run_crawl(config: Config, start_url: str, store_path: Path, *, resume: bool = False,
              progress: bool = True, flags: Mapping[str, Any] | None = None) -> CrawlResult:
    """Crawl the site into the store; returns what was recorded.

    ``flags`` are the crawl settings given on the command line (already in ``config``); a
    resumed crawl applies them on top of the settings it was started with.
    """
    from scrapy.crawler import CrawlerProcess

    start_url = check_start_url(start_url)
    if config.crawl.frontier:
        check_frontier(config.crawl.frontier, start_url, resume)
    conn = storage.connect(store_path)
    done: set[str] = set()
    frontier: list[tuple[str, int | None, str | None]] = []
    previous = storage.last_unfinished_crawl(conn, start_url) if resume else None
    if previous is not None:
        recorded = resumed_config(config, previous.settings, flags or {}).crawl.frontier
        if recorded and recorded != config.crawl.frontier:  # it was started on a frontier
            try:
                check_frontier(recorded, start_url, resume)
            except CrawlError:
                conn.close()
                raise
    # The caller holds the site's lock: a crawl still marked running was killed.
    storage.mark_abandoned(conn, keep=previous.crawl_id if previous else None)
    if previous is not None:
        crawl_id, job_dir = previous.crawl_id, previous.job_dir
        config = resumed_config(config, previous.settings, flags or {})
        storage.set_settings(conn, crawl_id, config.as_dict())
        done, frontier = storage.resume_state(conn, crawl_id)
        if job_dir:
            # The frontier rebuilt from the store is complete on its own, and the spider
            # counts each of its requests against max_pages. Requests left in Scrapy's JOBDIR
            # queue were let in under the old run's count and would be fetched past the limit
            # (and after a kill the queue cannot be trusted at all): start it empty.
            shutil.rmtree(job_dir, ignore_errors=True)
    else:
        crawl_id = storage.start_crawl(conn, site_name(config, start_url), start_url,
                                     config.as_dict())
        job_dir = str(store_path.parent / "jobs" / str(crawl_id))
        storage.set_job_dir(conn, crawl_id, job_dir)
    conn.close()

    previous_crawl = None
    if config.crawl.frontier:
        return _run_distributed(config, start_url, store_path, crawl_id, done, frontier,
                                progress, resume)
    if config.crawl.conditional:
        with storage.opened(store_path) as conn:
            previous_crawl = storage.previous_complete_crawl(conn, start_url, before=crawl_id)
    settings = scrapy_settings(config.crawl, store=str(store_path), crawl_id=crawl_id,
                               job_dir=job_dir, previous_crawl=previous_crawl,
                               progress=progress)
    process = CrawlerProcess(settings)
    quiet_failure_logs()
    process.crawl("site", start_url=start_url, resume_done=done, resume_frontier=frontier)
    start_process(process)
    result = summarize(store_path, crawl_id, start_url, config.crawl.urls)
    if result.state in ("complete", "failed") and job_dir:
        shutil.rmtree(job_dir, ignore_errors=True)  # kept only to resume an unfinished crawl
    return result


def _run_distributed(config: Config, start_url: str, store_path: Path, crawl_id: int,
                     done: set[str], pending: list[tuple[str, int | None, str | None]],
                     progress: bool, resume: bool) -> CrawlResult:
    """The coordinator of a crawl on a Redis frontier: it crawls too, and alone writes the
    store. A resumed crawl starts the frontier again from the store (the records still
    in Redis are fetched again)."""
    from scrapy.crawler import CrawlerProcess

    frontier = frontier_module()
    url = config.crawl.frontier
    try:
        frontier.begin_crawl(url, start_url, crawl_id, config.crawl, done,
                             takeover=resume)
    except frontier.FrontierBusy as exc:
        raise FrontierBusyError(str(exc)) from exc
    except frontier.FrontierError as exc:
        raise CrawlError(str(exc)) from exc
    settings = scrapy_settings(config.crawl, store=str(store_path), crawl_id=crawl_id,
                               progress=progress, role="coordinator",
                               lease=frontier.lease_from_url(url))
    process = CrawlerProcess(settings)
    quiet_failure_logs()
    process.crawl(frontier.DistributedSiteSpider, start_url=start_url, resume_done=done,
                  resume_frontier=pending)
    crawlers = list(process.crawlers)
    start_process(process)
    lost = next((c._linkaudit_frontier.lost for c in crawlers
                 if getattr(c, "_linkaudit_frontier", None) is not None), None)
    result = summarize(store_path, crawl_id, start_url, config.crawl.urls)
    return dataclasses.replace(result, frontier_problem=lost)


def start_process(process: Any) -> None:
    """Run a Scrapy process to its end, then give back the signal handlers it replaced
    (Scrapy's would swallow a Ctrl-C during the analysis that follows)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        process.start()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def quiet_failure_logs() -> None:
    """Failed requests are recorded in the store, so Scrapy need not log each one."""
    for name in ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def start_problem(conn: Any, crawl_id: int, start_url: str) -> str | None:
    """Why the start URL led to no HTML page answering 200 (redirects followed), or None."""
    url, seen = start_url, [start_url]
    while True:
        row = storage.page_outcome(conn, crawl_id, url)
        via = "" if url == start_url else f" (redirected to {url})"
        if row is None:
            if url == start_url:
                return f"the start URL {start_url} was not requested"
            return f"the start URL {start_url} redirects to {url}, which was not crawled " \
                   "(another host? see --alias)"
        status = row.status
        if status is None:
            return f"cannot reach the start URL {start_url}{via}: {row.error}"
        if 300 <= status < 400 and row.redirect_to:
            if row.redirect_to in seen or len(seen) > MAX_START_HOPS:
                return f"the start URL {start_url} redirects in a loop or too many times"
            url = row.redirect_to
            seen.append(url)
            continue
        if status != 200:
            return f"the start URL {start_url}{via} answered {status}, not 200"
        if not row.is_html:
            return f"the start URL {start_url}{via} is not an HTML page " \
                   f"({row.content_type or 'no Content-Type'})"
        return None


def summarize(store_path: Path, crawl_id: int, start_url: str,
              listed: tuple[str, ...] = ()) -> CrawlResult:
    """What the crawl recorded; a crawl that ended without a start page becomes 'failed'
    (a list crawl: without one listed URL that led to a page)."""
    with storage.opened(store_path) as conn:
        info = storage.get_crawl(conn, crawl_id)
        problem = start_problem(conn, crawl_id, start_url)
        for url in listed:
            if problem is None:
                break
            if start_problem(conn, crawl_id, normalize_url(url) or url) is None:
                problem = None
        state, reason = info.state, info.finish_reason
        if state == "complete" and problem is not None:
            state, reason = "failed", problem
            storage.mark_failed(conn, crawl_id, problem)
        numbers = storage.counts(conn, crawl_id)
    return CrawlResult(
        store_path=store_path, crawl_id=crawl_id, state=state, finish_reason=reason,
        pages=numbers["pages"], links=numbers["links"],
        problem=problem if state == "failed" else None,
    )
