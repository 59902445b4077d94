"""Time and memory of the link-graph and near-duplicate analysis on synthetic sites.

    .venv/bin/python benchmarks/bench_graph.py                  # 100,000 pages, 20,000 docs
    .venv/bin/python benchmarks/bench_graph.py --pages 10000 --docs 2000 --no-record

Each measured function runs twice: once for wall time, once under tracemalloc for the
peak of memory it allocates (numpy and pandas buffers included). One line per run is
appended to benchmarks/results.md unless --no-record is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402

from linkaudit.analysis import duplicates, graph  # noqa: E402

SITE = "https://bench.test"


# --------------------------------------------------------------------------- synthetic site


def synthetic_site(n_pages: int, links_per_page: int, seed: int) -> tuple:
    """Pages and links frames shaped like analysis/load.py output.

    A third of each page's links go to 50 hub pages (navigation), the rest anywhere;
    2% of pages redirect, 1% answer 404, 1% are canonicalised to another page.
    """
    rng = np.random.default_rng(seed)
    urls = np.array([f"{SITE}/p{i}" for i in range(n_pages)], dtype=object)
    kind = rng.choice(
        ["ok", "redirect", "missing", "canonical"], n_pages, p=[0.96, 0.02, 0.01, 0.01]
    )
    kind[0] = "ok"
    status = np.select([kind == "redirect", kind == "missing"], [301, 404], 200)
    other = urls[rng.integers(0, n_pages, n_pages)]
    pages = pd.DataFrame(
        {
            "url": urls,
            "status": pd.array(status, dtype="Int64"),
            "redirect_to": np.where(kind == "redirect", other, None),
            "canonical": np.where(kind == "canonical", other, None),
            "found_via": np.where(np.arange(n_pages) == 0, "start", "link"),
            "title": urls,
            "error": None,
            "is_html": kind != "redirect",
            "blocked_by_robots": False,
            "internal": True,
            "indexable": kind == "ok",
        }
    )
    n_links = n_pages * links_per_page
    hubs = rng.random(n_links) < 1 / 3
    targets = np.where(hubs, rng.integers(0, 50, n_links), rng.integers(0, n_pages, n_links))
    links = pd.DataFrame(
        {
            "source": np.repeat(urls, links_per_page),
            "ord": np.tile(np.arange(links_per_page), n_pages),
            "target": urls[targets],
            "anchor": "anchor",
            "rel": "",
            "position": np.where(hubs, "nav", "content"),
            "internal": True,
        }
    )
    return pages, links


# --------------------------------------------------------------------------- synthetic docs


def synthetic_docs(n_docs: int, n_words: int, n_planted: int, edits: int, seed: int) -> tuple:
    """Random Zipf-distributed texts; the last ``n_planted`` are edited copies of others.

    Returns the docs frame and the planted (copy url, original url) pairs.
    """
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"mot{i}é" for i in range(20_000)], dtype=object)
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    words = rng.choice(vocabulary, size=(n_docs, n_words), p=weights / weights.sum())
    originals = rng.choice(n_docs - n_planted, n_planted, replace=False)
    copies = np.arange(n_docs - n_planted, n_docs)
    words[copies] = words[originals]
    for copy in copies:
        words[copy, rng.choice(n_words, edits, replace=False)] = "édité"
    urls = np.array([f"{SITE}/doc{i}" for i in range(n_docs)], dtype=object)
    docs = pd.DataFrame({"url": urls, "text": [" ".join(row) for row in words]})
    return docs, list(zip(urls[copies], urls[originals], strict=True))


def exact_jaccard(a: str, b: str, shingle: int = 5) -> float:
    sets = []
    for text in (a, b):
        words = duplicates.text_words(text)
        sets.append({tuple(words[i : i + shingle]) for i in range(len(words) - shingle + 1)})
    return len(sets[0] & sets[1]) / len(sets[0] | sets[1])


# --------------------------------------------------------------------------- measuring


def measure(label: str, function: Callable[[], object]) -> tuple[object, str, float]:
    """Run ``function`` for wall time, then again under tracemalloc for peak memory (MB).

    CPU time is printed too: on a busy machine it is the steadier of the two.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<22} {seconds:8.2f} s (cpu {cpu:6.2f} s)   peak {peak / 2**20:8.1f} MB")
    return result, f"{seconds:.2f} s (cpu {cpu:.2f} s)", peak / 2**20


def bench_graph(n_pages: int, links_per_page: int, seed: int) -> str:
    started = time.perf_counter()
    pages, links = synthetic_site(n_pages, links_per_page, seed)
    print(f"site: {n_pages:,} pages, {len(links):,} links ({time.perf_counter() - started:.1f} s)")
    resolved, t_redirects, _ = measure("resolve_redirects", lambda: graph.resolve_redirects(pages))
    scores, t_score, m_score = measure(
        "link_score", lambda: graph.link_score(pages, links, resolved)
    )
    _, t_counts, m_counts = measure("link_counts", lambda: graph.link_counts(pages, links))
    _, t_depth, _ = measure(
        "click_depth", lambda: graph.click_depth(pages, links, pages["url"][0], resolved)
    )
    _, t_broken, _ = measure("broken_links", lambda: graph.broken_links(pages, links))
    print(f"  scored pages: {int(scores.notna().sum()):,}, median score {scores.median():.1f}")
    return (
        f"graph {n_pages:,} pages / {len(links):,} links: link_score {t_score} "
        f"peak {m_score:.0f} MB, link_counts {t_counts} peak {m_counts:.0f} MB, "
        f"resolve_redirects {t_redirects}, click_depth {t_depth}, broken_links {t_broken}"
    )


def bench_duplicates(n_docs: int, seed: int, compare_datasketch: bool) -> str:
    n_planted, edits = n_docs // 20, 4
    docs, planted = synthetic_docs(n_docs, 400, n_planted, edits, seed)
    print(f"docs: {n_docs:,} x 400 words, {n_planted:,} planted copies with {edits} edited words")
    found, seconds, peak = measure("near_duplicates", lambda: duplicates.near_duplicates(docs))
    match = dict(zip(found["url"], found["duplicate_of"], strict=True))
    recall = np.mean([match.get(copy) == original for copy, original in planted])
    planted_urls = {u for pair in planted for u in pair}
    strays = int((~found["url"].isin(planted_urls)).sum())
    text = dict(zip(docs["url"], docs["text"], strict=True))
    jaccards = [exact_jaccard(text[c], text[o]) for c, o in planted[:200]]
    print(
        f"  recall of planted pairs {recall:.3f} (exact Jaccard of planted pairs: "
        f"min {min(jaccards):.2f}, median {np.median(jaccards):.2f}); "
        f"unplanted pages reported: {strays}"
    )
    if compare_datasketch:
        compare_minhash(docs["text"].head(2000).tolist())
    return (
        f"near_duplicates {n_docs:,} docs x 400 words: {seconds} peak {peak:.0f} MB, "
        f"recall {recall:.3f} of {n_planted:,} planted pairs "
        f"(median exact Jaccard {np.median(jaccards):.2f}), {strays} unplanted pages reported"
    )


def compare_minhash(texts: list[str]) -> None:
    """Signature time of the numpy MinHash against datasketch on the same shingles."""
    from datasketch import MinHash

    words = [duplicates.text_words(t) for t in texts]
    started = time.perf_counter()
    duplicates.minhash_signatures(words)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for doc in words:
        shingles = [" ".join(doc[i : i + 5]).encode() for i in range(len(doc) - 4)]
        MinHash(num_perm=128).update_batch(shingles)
    theirs = time.perf_counter() - started
    print(f"  signatures of {len(texts):,} docs: numpy {ours:.2f} s, datasketch {theirs:.2f} s")


def record(lines: list[str]) -> None:
    load = os.getloadavg()[0]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPU, load {load:.1f}, "
        f"Python {platform.python_version()}"
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for line in lines:
        common.record(f"- {stamp} bench_graph ({machine}): {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--links-per-page", type=int, default=30)
    parser.add_argument("--docs", type=int, default=20_000, help="0 skips near-duplicates")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--compare-datasketch", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    args = parser.parse_args(argv)

    lines = []
    if args.pages:
        lines.append(bench_graph(args.pages, args.links_per_page, args.seed))
    if args.docs:
        lines.append(bench_duplicates(args.docs, args.seed, args.compare_datasketch))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {max_rss:.0f} MB")
    lines.append(f"process peak RSS {max_rss:.0f} MB")
    if not args.no_record:
        record(["; ".join(lines)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
