"""Running a crawl: the one place that turns a Config into a Scrapy run.

Scrapy's reactor cannot be restarted, so one process runs at most one crawl.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from crawler.settings import scrapy_settings
from crawler.urls import normalize_url, site_key
from linkaudit import store
from linkaudit.config import Config


class CrawlError(Exception):
    """The crawl could not run or reached nothing; the message is one line."""


@dataclass(frozen=True, slots=True)
class CrawlResult:
    store_path: Path
    crawl_id: int
    state: str
    pages: int
    links: int
    start_status: int | None
    start_error: str | None


def site_name(config: Config, start_url: str) -> str:
    return config.site.name or site_key(start_url)


def default_store(config: Config, start_url: str, reports_dir: Path = Path("reports")) -> Path:
    return reports_dir / site_name(config, start_url) / "crawls.sqlite"


def check_start_url(url: str) -> str:
    normalized = normalize_url(url.strip()) if url else None
    if normalized is None or "://" not in url:
        raise CrawlError(f"not a usable start URL (need http:// or https://): {url!r}")
    return normalized


def resume_state(conn: sqlite3.Connection, crawl_id: int
                 ) -> tuple[set[str], list[tuple[str, int | None, str | None]]]:
    """URLs the crawl has recorded, and the pending targets its recorded pages point to."""
    done = {row[0] for row in conn.execute("SELECT url FROM pages WHERE crawl_id = ?",
                                           (crawl_id,))}
    rows = conn.execute(
        """
        SELECT l.target, MIN(p.depth) + 1, MIN(l.source)
        FROM links l JOIN pages p ON p.crawl_id = l.crawl_id AND p.url = l.source
        WHERE l.crawl_id = ? AND l.target IS NOT NULL AND p.status = 200
        GROUP BY l.target
        UNION ALL
        SELECT r.location, p.depth, r.url
        FROM redirects r JOIN pages p ON p.crawl_id = r.crawl_id AND p.url = r.url
        WHERE r.crawl_id = ?
        """, (crawl_id, crawl_id)).fetchall()
    frontier = [(url, depth, ref) for url, depth, ref in rows if url not in done]
    frontier.sort(key=lambda row: (row[1] is None, row[1] or 0, row[0]))
    return done, frontier


def run_crawl(config: Config, start_url: str, store_path: Path, *, resume: bool = False,
              progress: bool = True) -> CrawlResult:
    """Crawl the site into the store; returns what was recorded."""
    from scrapy.crawler import CrawlerProcess

    start_url = check_start_url(start_url)
    conn = store.connect(store_path)
    done: set[str] = set()
    frontier: list[tuple[str, int | None, str | None]] = []
    previous = store.last_unfinished_crawl(conn, start_url) if resume else None
    # The caller holds the site's lock: a crawl still marked running was killed.
    store.mark_abandoned(conn, keep=previous.crawl_id if previous else None)
    if previous is not None:
        crawl_id, job_dir = previous.crawl_id, previous.job_dir
        done, frontier = resume_state(conn, crawl_id)
        if previous.state == "running" and job_dir:
            # Killed without a chance to save its queue: Scrapy's JOBDIR cannot be trusted,
            # the frontier rebuilt from the store is complete on its own.
            shutil.rmtree(job_dir, ignore_errors=True)
    else:
        crawl_id = store.start_crawl(conn, site_name(config, start_url), start_url,
                                     config.as_dict())
        job_dir = str(store_path.parent / "jobs" / str(crawl_id))
        conn.execute("UPDATE crawls SET job_dir = ? WHERE crawl_id = ?", (job_dir, crawl_id))
        conn.commit()
    conn.close()

    settings = scrapy_settings(config.crawl, store=str(store_path), crawl_id=crawl_id,
                               job_dir=job_dir)
    if config.crawl.conditional:
        with store.opened(store_path) as conn:
            settings["LINKAUDIT_PREVIOUS_CRAWL"] = store.previous_complete_crawl(
                conn, start_url, before=crawl_id) or 0
    settings["LINKAUDIT_PROGRESS"] = progress
    process = CrawlerProcess(settings)
    quiet_failure_logs()
    process.crawl("site", start_url=start_url, resume_done=done, resume_frontier=frontier)
    process.start()
    result = summarize(store_path, crawl_id, start_url)
    if result.state == "complete" and job_dir:
        shutil.rmtree(job_dir, ignore_errors=True)  # kept only to resume an unfinished crawl
    return result


def quiet_failure_logs() -> None:
    """Failed requests are recorded in the store, so Scrapy need not log each one."""
    for name in ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def summarize(store_path: Path, crawl_id: int, start_url: str) -> CrawlResult:
    with store.opened(store_path) as conn:
        info = store.get_crawl(conn, crawl_id)
        numbers = store.counts(conn, crawl_id)
        row = conn.execute("SELECT status, error FROM pages WHERE crawl_id = ? AND url = ?",
                           (crawl_id, start_url)).fetchone()
    return CrawlResult(
        store_path=store_path, crawl_id=crawl_id, state=info.state, pages=numbers["pages"],
        links=numbers["links"], start_status=row[0] if row else None,
        start_error=row[1] if row else "the start URL was not requested",
    )
