"""Analysis benchmark: a synthetic crawl of N pages in 20 topics, written straight into a
crawl store, then loaded, analysed and written as reports, each step timed.

    .venv/bin/python benchmarks/bench_analysis.py [PAGES] [--links-per-page N] [--json FILE]
        [--store PATH]

``--json`` writes the figures to FILE instead of appending a line to results.md (the
growth benchmark, bench_growth.py, runs this script once per size).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common import record  # noqa: E402

from linkaudit import storage  # noqa: E402
from linkaudit.analysis.audit import build_audit  # noqa: E402
from linkaudit.analysis.load import load_crawl  # noqa: E402
from linkaudit.auditing import forked_job  # noqa: E402
from linkaudit.config import load_config, promo_rules  # noqa: E402
from linkaudit.crawler.items import Heading, Link, PageExtract, PageItem, Section  # noqa: E402
from linkaudit.crawler.pipelines import write_item  # noqa: E402
from linkaudit.crawler.urls import Site  # noqa: E402
from linkaudit.writers.report import write_reports  # noqa: E402

TOPICS = 20
VOCABULARY = 60  # words per topic


def topic_words(rng: random.Random) -> list[list[str]]:
    syllables = ["ba", "clo", "fen", "spa", "sti", "ci", "te", "gre", "ffe", "cal", "vi", "tie",
                 "ner", "vo", "lu", "mo", "ra", "pe", "di", "xo"]
    return [["".join(rng.choice(syllables) for _ in range(3)) for _ in range(VOCABULARY)]
            for _ in range(TOPICS)]


def page_item(i: int, pages: int, vocab: list[list[str]], rng: random.Random,
              base: str, links_per_page: int = 20) -> PageItem:
    topic = i % TOPICS
    sections, links = [], []
    for s in range(4):
        words = [rng.choice(vocab[topic]) for _ in range(120)]
        sections.append(Section(order=s, level=2, heading=f"Partie {s}", text=" ".join(words)))
    for n in range(links_per_page):
        same = rng.random() < 0.9
        target = (rng.randrange(pages // TOPICS) * TOPICS + topic) if same else \
            rng.randrange(pages)
        context = "Consultez notre article sur ce sujet." if n % 7 == 0 else "Voir aussi."
        links.append(Link(order=n, href=f"/p{target}.html", target=f"{base}/p{target % pages}"
                          f".html", anchor=f"lien {n}", position="content", context=context,
                          paragraph=context))
    extract = PageExtract(
        title=f"Page {i}", meta_description="Une page.", lang="fr",
        headings=[Heading(order=0, level=1, text=f"Page {i}")],
        sections=sections, links=links, word_count=480, content_hash=f"{i:040x}")
    return PageItem(url=f"{base}/p{i}.html", status=200, content_type="text/html", depth=1,
                    found_via="link", extract=extract)


def build_store(path: Path, pages: int, links_per_page: int = 20) -> None:
    rng = random.Random(7)
    vocab = topic_words(rng)
    base = "https://bench.example"
    conn = storage.connect(path)
    crawl_id = storage.start_crawl(conn, "bench", f"{base}/p0.html", {})
    site = Site({"bench.example"})
    for i in range(pages):
        write_item(conn, crawl_id, page_item(i, pages, vocab, rng, base, links_per_page),
                   site)
    storage.finish_crawl(conn, crawl_id, "complete", "finished")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", type=int, nargs="?", default=2000)
    parser.add_argument("--links-per-page", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write the figures here, not to results.md")
    parser.add_argument("--store", type=Path,
                        help="keep the generated store here and reuse it when it exists")
    args = parser.parse_args()
    pages = args.pages
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or Path(tmp) / "s.sqlite"
        started = time.perf_counter()
        if not path.exists():
            build_store(path, pages, args.links_per_page)
        build_seconds = time.perf_counter() - started
        build_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        timings = {}
        started = time.perf_counter()
        crawl = load_crawl(path)
        timings["load"] = time.perf_counter() - started
        load_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        # As linkaudit run and analyze do: the stages that need no topic model forked.
        audit = build_audit(crawl, config.analysis, promo_rules(config), beside=forked_job)
        timings["analysis"] = time.perf_counter() - started
        del crawl
        started = time.perf_counter()
        writers_profile: dict[str, tuple[float, float]] = {}
        write_reports(audit, Path(tmp) / "out", xlsx=True, profile=writers_profile)
        timings["reports"] = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profile = {"load": (timings["load"], load_peak), **audit.profile, **writers_profile}
    if args.json:
        args.json.write_text(json.dumps({
            "pages": pages, "links": len(audit.links), "build_seconds": build_seconds,
            "build_peak": build_peak, **timings, "peak": peak, "stages": profile,
            "off_topic": int(audit.links["off_topic"].sum()), "topics": len(audit.clusters)}))
        return
    stages = "; ".join(f"{name} {seconds:.1f} s ({rss:.0f} MiB)"
                       for name, (seconds, rss) in profile.items() if seconds >= 0.05)
    line = (f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC bench_analysis ({pages:,} pages, "
            f"{len(audit.links):,} links, load {os.getloadavg()[0]:.1f}): load "
            f"{timings['load']:.1f} s, analysis {timings['analysis']:.1f} s, reports "
            f"{timings['reports']:.1f} s, peak RSS {peak:.0f} MiB; "
            f"{int(audit.links['off_topic'].sum()):,} off-topic links, "
            f"{len(audit.clusters)} topics found (20 planted). Stages (seconds, peak RSS at "
            f"their end): {stages}")
    record(line)


if __name__ == "__main__":
    main()
