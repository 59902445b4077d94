"""Crawl benchmark: the demo site crawled twice (full, then conditional) and analysed.

Prints pages, link occurrences, crawl and analysis times, store size and the bytes the
second (unchanged) crawl transferred against the first; appends a line to results.md.

    .venv/bin/python benchmarks/bench_crawl.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO, record, served

START = "articles/baclofene-systeme-nerveux-central.html"


def linkaudit(*args: str, cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "linkaudit", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    config = str(REPO / "config" / "sites" / "demo.toml")
    with served(REPO / "demo" / "site") as base, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        crawl_args = ("crawl", base + START, "--config", config, "--store", "s.sqlite",
                      "--quiet")
        first = linkaudit(*crawl_args, cwd=work)
        second = linkaudit(*crawl_args, cwd=work)
        analysis = linkaudit("analyze", "1", "--store", "s.sqlite", "--out", "out", cwd=work)
        conn = sqlite3.connect(work / "s.sqlite")
        pages = conn.execute("SELECT COUNT(*) FROM pages WHERE crawl_id = 1").fetchone()[0]
        links = conn.execute("SELECT COUNT(*) FROM links WHERE crawl_id = 1").fetchone()[0]
        stats = [json.loads(r[0]) for r in conn.execute(
            "SELECT stats_json FROM crawls ORDER BY crawl_id")]
        conn.close()
        size = (work / "s.sqlite").stat().st_size
    bytes_first = stats[0].get("downloader/response_bytes", 0)
    bytes_second = stats[1].get("downloader/response_bytes", 0)
    record(f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC bench_crawl (demo site, {os.cpu_count()} "
           f"CPU, load {os.getloadavg()[0]:.1f}): {pages} pages, {links} link occurrences; "
           f"crawl {first:.1f} s (process included), conditional re-crawl {second:.1f} s; "
           f"analysis + reports {analysis:.1f} s; store {size / 1024:.0f} KiB after 2 crawls; "
           f"bytes received {bytes_first:,} then {bytes_second:,} "
           f"({bytes_second / max(bytes_first, 1):.1%})")


if __name__ == "__main__":
    main()
