"""Crawl a saved real site with two versions of linkaudit, side by side in one run.

    .venv/bin/python benchmarks/bench_real_site.py SITE_DIR START_PATH --baseline OTHER_CHECKOUT
        [--rounds 2] [--concurrency 8] [--max-pages N]

SITE_DIR is a folder of static pages (a mirror or export of a real site), served on
127.0.0.1 by linkaudit's site server. Each round crawls it once with this checkout and
once with OTHER_CHECKOUT (say a git worktree of the previous release), alternating, so
both see the same machine state. Prints wall time, pages and the ratio; appends a line
to results.md.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO, record, served


def crawl(code: Path, url: str, args: argparse.Namespace) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "PYTHONPATH": str(code)}
        command = [sys.executable, "-m", "linkaudit", "crawl", url, "--store", "s.sqlite",
                   "--delay", "0", "--concurrency", str(args.concurrency), "--quiet"]
        if args.max_pages:
            command += ["--max-pages", str(args.max_pages)]
        started = time.perf_counter()
        subprocess.run(command, cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        with sqlite3.connect(Path(work) / "s.sqlite") as conn:
            pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    return elapsed, pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("start", help="path of the start page inside the site")
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-pages", type=int, default=0)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"this": [], "baseline": []}
    pages: dict[str, int] = {}
    with served(args.site) as base_url:
        url = base_url.rstrip("/") + "/" + args.start.lstrip("/")
        for _ in range(args.rounds):
            for name, code in (("baseline", args.baseline.resolve()), ("this", REPO)):
                elapsed, count = crawl(code, url, args)
                times[name].append(elapsed)
                pages[name] = count
                print(f"{name:>8}: {count} pages in {elapsed:.1f} s")
    this, baseline = statistics.median(times["this"]), statistics.median(times["baseline"])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    record(
        f"- {stamp} bench_real_site ({args.site.name}, {pages['this']} URLs, concurrency "
        f"{args.concurrency}, median of {args.rounds}): this checkout {this:.1f} s, baseline "
        f"{args.baseline.name} {baseline:.1f} s ({pages['baseline']} URLs): ratio "
        f"{this / baseline:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
