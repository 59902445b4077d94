"""Does crawl memory grow with the site? Peak RSS of crawls of 300 and 3,000 generated pages.

Each page carries ~20 KB of text and 30 links, so a crawler that kept page content would
need ten times more memory for the larger site. Appends a line to results.md.

    .venv/bin/python benchmarks/bench_crawl_memory.py
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO, record, served

WORDS = ("spasticité baclofène récepteur moelle neurone douleur traitement patient dose "
         "sevrage alcool sommeil fatigue rééducation muscle injection peau prix").split()


def write_site(root: Path, pages: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    for i in range(pages):
        links = " ".join(f'<a href="p{rng.randrange(pages)}.html">lien {j}</a>' for j in range(30))
        text = " ".join(rng.choice(WORDS) for _ in range(2500))
        (root / f"p{i}.html").write_text(
            f"<html lang='fr'><head><title>Page {i}</title></head><body><nav>{links}</nav>"
            f"<main><h1>Page {i}</h1><p>{text}</p><p>Suite : "
            f"<a href='p{(i + 1) % pages}.html'>page suivante</a></p></main></body></html>")


def crawl(pages: int) -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        write_site(root, pages)
        # A small wrapper reports the crawl process's own peak RSS (ru_maxrss, KiB on Linux).
        rss_file = Path(tmp) / "peak_rss_kib"
        wrapper = ("import os, resource, runpy, sys; sys.argv = ['linkaudit'] + sys.argv[1:]\n"
                   "try:\n    runpy.run_module('linkaudit', run_name='__main__')\n"
                   "finally:\n    open(os.environ['PEAK_RSS_FILE'], 'w').write("
                   "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))")
        env = {**os.environ, "PYTHONPATH": str(REPO), "PEAK_RSS_FILE": str(rss_file)}
        with served(root) as base:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", wrapper, "crawl", base + "p0.html",
                            "--store", str(Path(tmp) / "s.sqlite"), "--delay", "0",
                            "--concurrency", "8", "--quiet"], env=env, check=True,
                           stdout=subprocess.DEVNULL, cwd=tmp)
            seconds = time.perf_counter() - started
        conn = sqlite3.connect(Path(tmp) / "s.sqlite")
        count = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
        conn.close()
        return seconds, count, int(rss_file.read_text()) / 1024


def main() -> None:
    small, large = crawl(300), crawl(3000)
    record(f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC bench_crawl_memory (2,500-word pages, "
           f"load {os.getloadavg()[0]:.1f}): {small[1]} pages in {small[0]:.1f} s, peak RSS "
           f"{small[2]:.0f} MiB; {large[1]} pages in {large[0]:.1f} s, peak RSS "
           f"{large[2]:.0f} MiB; ratio {large[2] / small[2]:.2f} for "
           f"{large[1] / small[1]:.0f}x the pages ({large[1] / large[0]:.0f} pages/s)")


if __name__ == "__main__":
    main()
