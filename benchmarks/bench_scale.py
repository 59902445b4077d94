"""A bare Scrapy spider, `linkaudit crawl` and `linkaudit run` on one local site, side by
side in one run: wall time and peak RSS of each, and their ratios.

    .venv/bin/python benchmarks/bench_scale.py SITE_DIR START_PATH [--max-pages 3500]
        [--concurrency 16] [--label NAME] [--alias HOST] [--keep DIR]

SITE_DIR is a folder of static pages (a mirror or export of a real site), served on
127.0.0.1 by linkaudit's site server. The bare spider follows every on-site ``<a href>``
and does nothing else (the floor any crawler stands on); all three get the same page
limit, concurrency and no delay. `run` prints the audit's per-stage profile through
``LINKAUDIT_PROFILE`` (seconds and peak RSS of each stage). Appends a line to results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import record, served

BARE_SPIDER = '''
import sys
from urllib.parse import urlsplit
import scrapy
from scrapy.crawler import CrawlerProcess

start, limit, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
aliases = set(sys.argv[4].split(",")) - {""}
origin = start.split("/")[0] + "//" + urlsplit(start).netloc
host = urlsplit(start).netloc

class Bare(scrapy.Spider):
    name = "bare"
    start_urls = [start]
    def parse(self, response):
        if not hasattr(response, "css"):
            return
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href).split("#")[0]
            parts = urlsplit(url)
            if parts.netloc in aliases:  # a copy of a production site: its links are ours
                url = origin + url[len(parts.scheme) + 3 + len(parts.netloc):]
            if urlsplit(url).netloc == host:
                yield scrapy.Request(url, callback=self.parse)

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": concurrency,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "DOWNLOAD_DELAY": 0,
                          "CLOSESPIDER_PAGECOUNT": limit, "ROBOTSTXT_OBEY": True,
                          "TELNETCONSOLE_ENABLED": False})
crawler = process.create_crawler(Bare)
process.crawl(crawler)
process.start()
print("PAGES", crawler.stats.get_value("response_received_count", 0), file=sys.stderr)
'''

# Runs a command and prints its peak RSS (MiB) on the last line of stderr.
MEASURE = '''
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"PEAK_RSS {peak:.0f}", file=sys.stderr)
sys.exit(code)
'''


def measured(command: list[str], cwd: Path, env: dict | None = None
             ) -> tuple[float, float, int | None]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: the audit's alerts; not a failure here
        sys.exit(f"{command[:4]} failed ({done.returncode}): {done.stderr[-800:]}")
    lines = done.stderr.strip().splitlines()
    peak = float(lines[-1].split()[1])
    pages = next((int(line.split()[1]) for line in lines if line.startswith("PAGES ")), None)
    return seconds, peak, pages


def stored_pages(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT COUNT(*) FROM pages WHERE status IS NOT NULL").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("site", type=Path)
    parser.add_argument("start")
    parser.add_argument("--max-pages", type=int, default=3500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--label", default="")
    parser.add_argument("--alias", default="", help="production host the copy's links name")
    parser.add_argument("--keep", type=Path, default=None,
                        help="an empty folder to keep the stores, reports and profile in")
    args = parser.parse_args()
    linkaudit = [sys.executable, "-m", "linkaudit"]
    with served(args.site) as base, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            work = args.keep.resolve()
        url = base.rstrip("/") + "/" + args.start.lstrip("/")
        flags = ["--delay", "0", "--concurrency", str(args.concurrency), "--max-pages",
                 str(args.max_pages), "--quiet", *(["--alias", args.alias] if args.alias else [])]
        # A file, not -c: Scrapy reads a callback's source (and drops its output if it can't).
        (work / "bare.py").write_text(BARE_SPIDER, encoding="utf-8")
        bare = measured([sys.executable, "bare.py", url, str(args.max_pages),
                         str(args.concurrency), args.alias], work)
        crawl = measured([*linkaudit, "crawl", url, "--store", "c.sqlite", *flags], work)
        profile = work / "profile.json"
        env = {**os.environ, "LINKAUDIT_PROFILE": str(profile)}
        run = measured([*linkaudit, "run", url, "--store", "r.sqlite", "--out", "out", *flags],
                       work, env)
        stages = json.loads(profile.read_text()) if profile.exists() else {}
        crawled = stored_pages(work / "c.sqlite"), stored_pages(work / "r.sqlite")
        links_mb = sum(p.stat().st_size for p in (work / "out").glob("links.*")) / 2**20
        xlsx_mb = (work / "out" / "report.xlsx").stat().st_size / 2**20 \
            if (work / "out" / "report.xlsx").exists() else 0.0
    stage_text = "; ".join(f"{name} {seconds:.1f} s ({rss:.0f} MiB)"
                           for name, (seconds, rss) in stages.items() if seconds >= 0.1)
    label = args.label or args.site.name
    line = (f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC bench_scale ({label}, "
            f"max {args.max_pages:,} pages, concurrency {args.concurrency}, load "
            f"{os.getloadavg()[0]:.1f}): bare Scrapy spider {bare[2]:,} responses in "
            f"{bare[0]:.1f} s / {bare[1]:.0f} MiB; linkaudit crawl {crawled[0]:,} responses in "
            f"{crawl[0]:.1f} s / {crawl[1]:.0f} MiB "
            f"({crawl[0] / bare[0]:.2f}x the bare spider); linkaudit run {crawled[1]:,} "
            f"responses in {run[0]:.1f} s / "
            f"{run[1]:.0f} MiB ({run[0] / bare[0]:.2f}x); links file {links_mb:.1f} MB, "
            f"report.xlsx {xlsx_mb:.1f} MB. Audit stages: {stage_text}")
    record(line)


if __name__ == "__main__":
    main()
