"""Distributed-crawl benchmark: pages per second with 1, 2 and 3 crawling processes on a
Redis frontier, against the embedded frontier, on a generated site whose parsing is the
bottleneck (large pages, many links, no delay); then Redis's memory per million URLs.

The processes are a coordinator (it crawls too, and writes the store) and 0, 1 or 2
`linkaudit worker` processes; the site server and redis-server run on the same machine.
Times run from the coordinator's spider start (Scrapy's ``start_time``) to the
coordinator's exit; the workers start with the coordinator. Appends a line to results.md.

    .venv/bin/python benchmarks/bench_distributed.py [PAGES]
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO, record, served

PAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
LINKS_PER_PAGE = 120
PARAGRAPHS = 60
MEMORY_URLS = 200_000  # pushed into the seen set and the queue, then scaled to a million


def generate_site(root: Path, pages: int) -> None:
    """Pages of ~50 KB with 120 links each: parsing, not fetching, is the cost."""
    rng = random.Random(7)
    vocabulary = [f"mot{i}" for i in range(3000)]
    root.mkdir(parents=True)
    for i in range(pages):
        targets = {(i + 1) % pages, (2 * i + 1) % pages, (2 * i + 2) % pages}
        targets |= {rng.randrange(pages) for _ in range(LINKS_PER_PAGE - len(targets))}
        links = [f'<a href="/p{t}.html">lien {t} {rng.choice(vocabulary)}</a>' for t in targets]
        paragraphs = []
        for p in range(PARAGRAPHS):
            text = " ".join(rng.choices(vocabulary, k=60))
            paragraphs.append(f"<p>{text} {links[p % len(links)]} {links[(p + 60) % len(links)]}"
                              "</p>")
            if p % 10 == 0:
                paragraphs.append(f"<h2>Section {p}</h2>")
        name = "index.html" if i == 0 else f"p{i}.html"
        (root / name).write_text(
            f"<!doctype html><html lang='fr'><head><title>Page {i}</title>"
            f"<meta name='description' content='page {i}'></head><body><nav>"
            f"<a href='/'>Accueil</a></nav><main><h1>Page {i}</h1>{''.join(paragraphs)}"
            "</main></body></html>", "utf-8")
    (root / "p0.html").write_text((root / "index.html").read_text("utf-8"), "utf-8")


class Redis:
    """redis-server on a free port of 127.0.0.1, no persistence."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
             str(directory)], stdout=subprocess.DEVNULL)
        import redis

        self.client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def linkaudit(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "linkaudit", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def crawl(base: str, work: Path, name: str, frontier: str | None, workers: int
          ) -> tuple[float, int]:
    """Seconds from the coordinator's spider start to the coordinator's exit, and pages."""
    store = work / f"{name}.sqlite"
    args = ["crawl", base, "--config", str(work / "bench.toml"), "--store", str(store),
            "--quiet"]
    helpers = []
    if frontier:
        args += ["--frontier", frontier]
        helpers = [linkaudit("worker", "--frontier", frontier, cwd=work) for _ in range(workers)]
    coordinator = linkaudit(*args, cwd=work)
    out, err = coordinator.communicate()
    ended = datetime.now(UTC)
    if coordinator.returncode != 0:
        raise RuntimeError(err.strip())
    for helper in helpers:
        helper.communicate(timeout=60)
    conn = sqlite3.connect(store)
    pages = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    stats = json.loads(conn.execute("SELECT stats_json FROM crawls").fetchone()[0])
    conn.close()
    elapsed = (ended - datetime.fromisoformat(stats["start_time"])).total_seconds()
    return elapsed, pages


def memory_per_million(server: Redis) -> tuple[float, float]:
    """MiB per million URLs in the seen set, and per million requests in the queue."""
    sys.path.insert(0, str(REPO))
    import scrapy

    from linkaudit.crawler import frontier

    client = server.client.__class__(port=server.port, db=15)
    spider = frontier.DistributedSiteSpider(start_url="https://www.example.com/")
    codec = frontier.RequestCodec(client, spider)

    def used() -> int:
        return int(client.info("memory")["used_memory"])

    def url(i: int) -> str:
        return f"https://www.example.com/articles/{i % 97}/un-article-de-blog-{i}.html"

    base = used()
    pipe = client.pipeline(transaction=False)
    for i in range(MEMORY_URLS):
        pipe.sadd(frontier.K_SEEN, url(i))
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    seen = used() - base
    base = used()
    for i in range(MEMORY_URLS):
        request = scrapy.Request(url(i), callback=spider.parse, errback=spider.on_error,
                                 priority=-3, dont_filter=True,
                                 meta={"la_page": True, "la_url": url(i), "la_depth": 3,
                                       "la_found_via": "link", "la_referrer": url(i - 1)})
        pipe.zadd(frontier.K_QUEUE, {codec.member(request): 3 * 10**9 + i})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    queue = used() - base
    client.flushdb()
    scale = 1_000_000 / MEMORY_URLS / 2**20
    return seen * scale, queue * scale


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate_site(work / "site", PAGES)
        (work / "bench.toml").write_text(
            "[crawl]\ndelay = 0\nconcurrency = 8\nautothrottle = false\nsitemaps = false\n"
            f"max_pages = {PAGES + 10}\nconditional = false\n", "utf-8")
        (work / "redis").mkdir()
        server = Redis(work / "redis")
        try:
            with served(work / "site") as base:
                embedded, pages = crawl(base, work, "embedded", None, 0)
                runs = {}
                for processes in (1, 2, 3):
                    runs[processes] = crawl(base, work, f"redis{processes}",
                                            server.url(processes), processes - 1)
            seen_mib, queue_mib = memory_per_million(server)
        finally:
            server.stop()
    rate = {n: p / s for n, (s, p) in runs.items()}
    record(
        f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC bench_distributed ({PAGES:,} generated pages "
        f"of {LINKS_PER_PAGE} links, concurrency 8, no delay, {os.cpu_count()} CPU, load "
        f"{os.getloadavg()[0]:.1f}; crawl time, process start not included): embedded frontier "
        f"{pages:,} pages in {embedded:.1f} s ({pages / embedded:.1f} pages/s); Redis frontier, "
        f"1 process {runs[1][1]:,} pages in {runs[1][0]:.1f} s ({rate[1]:.1f} pages/s, "
        f"{rate[1] / (pages / embedded) - 1:+.0%} against embedded); 2 processes (coordinator "
        f"+ 1 worker) {runs[2][1]:,} pages in {runs[2][0]:.1f} s ({rate[2]:.1f} pages/s, "
        f"{rate[2] / rate[1]:.2f}x); 3 processes (coordinator + 2 workers) {runs[3][1]:,} pages "
        f"in {runs[3][0]:.1f} s ({rate[3]:.1f} pages/s, {rate[3] / rate[1]:.2f}x); Redis memory "
        f"per million URLs: seen set {seen_mib:.0f} MiB, queue {queue_mib:.0f} MiB")


if __name__ == "__main__":
    main()
