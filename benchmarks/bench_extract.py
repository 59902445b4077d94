"""Time extract_page on a synthetic ~60 KB article page, beside the bare parsers.

    .venv/bin/python benchmarks/bench_extract.py [--iterations N] [--no-record]
    .venv/bin/python benchmarks/bench_extract.py --page saved.html [--page ...]
    .venv/bin/python benchmarks/bench_extract.py --corpus

With --page, times saved real pages instead (a real 400 KB page builder page, say);
with --corpus, every page of the real-page corpus (tests/corpus), as one total.

Prints CPU milliseconds per page for lxml.html.fromstring alone, BeautifulSoup(html,
"lxml") alone and crawler.extract.extract_page (parse + walk + link normalisation),
the latter also with the URL normalisation cache cleared before every page, and
appends one line to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402
import lxml.html  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402

from linkaudit.crawler.extract import extract_page  # noqa: E402
from linkaudit.crawler.urls import _normalize_absolute  # noqa: E402

TARGET_BYTES = 60_000
WORDS = (
    "le traitement agit sur les récepteurs du système nerveux central et réduit la "
    "spasticité musculaire chez les patients suivis en consultation spécialisée"
).split()


def sentence(seed: int, length: int = 14) -> str:
    words = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(length)]
    return " ".join(words).capitalize() + "."


def site_chrome(kind: str, links: int) -> str:
    items = "".join(
        f'<li class="menu-item"><a href="/{kind}/page-{i}/">{kind} {i}</a></li>'
        for i in range(links)
    )
    return f'<div class="{kind}"><ul class="menu">{items}</ul></div>'


def article_section(index: int) -> str:
    paragraphs = []
    for p in range(4):
        seed = index * 10 + p
        link = f'<a href="../article-{seed}.html?utm_source=x">{sentence(seed, 4)[:-1]}</a>'
        paragraphs.append(
            f"<p>{sentence(seed)} {sentence(seed + 1)} Voir {link} pour en savoir plus. "
            f"{sentence(seed + 2)} <strong>{sentence(seed + 3, 5)}</strong></p>"
        )
    items = "".join(f"<li>{sentence(index + i, 8)}</li>" for i in range(4))
    return f"<h2>Partie {index}</h2>{''.join(paragraphs)}<ul>{items}</ul>"


def synthetic_page(target_bytes: int = TARGET_BYTES) -> str:
    """An article page with header menu, sidebar, footer and many linked paragraphs."""
    head = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Article</title>'
        '<meta name="description" content="Une page de mesure">'
        '<link rel="canonical" href="https://example.org/article/"></head><body>'
    )
    chrome_top = f"<header>{site_chrome('navigation', 40)}</header>"
    sidebar = f"<aside>{site_chrome('sidebar', 30)}</aside>"
    footer = f"<footer>{site_chrome('footer', 30)}</footer>"
    sections: list[str] = []
    fixed = len(head) + len(chrome_top) + len(sidebar) + len(footer) + 60
    while fixed + sum(len(s) for s in sections) < target_bytes:
        sections.append(article_section(len(sections)))
    main = f"<main><article><h1>Titre</h1>{''.join(sections)}</article></main>"
    return f"{head}{chrome_top}{main}{sidebar}{footer}</body></html>"


def ms_per_call(function: Callable[[], object], iterations: int) -> float:
    """Best of three runs, in CPU milliseconds per call.

    CPU time (``process_time``) rather than wall time, so that other processes on a
    busy machine do not inflate the figures.
    """
    function()  # warm caches and imports
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(iterations):
            function()
        best = min(best, (time.process_time() - started) / iterations)
    return best * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument("--page", action="append", type=Path, default=[],
                        help="a saved HTML page to time (repeatable)")
    parser.add_argument("--corpus", action="store_true",
                        help="time every page of tests/corpus/pages together")
    args = parser.parse_args(argv)
    if args.page or args.corpus:
        return time_saved_pages(args)

    page = synthetic_page()
    body = page.encode("utf-8")
    url = "https://example.org/article/"
    extract = extract_page(body, url)
    timings = {
        "lxml.html.fromstring": ms_per_call(lambda: lxml.html.fromstring(body), args.iterations),
        "BeautifulSoup(lxml)": ms_per_call(
            lambda: BeautifulSoup(body, "lxml"), max(args.iterations // 10, 5)
        ),
        "extract_page": ms_per_call(lambda: extract_page(body, url), args.iterations),
        # Every target normalised from scratch, as for a page of links never seen before.
        "extract_page cold URLs": ms_per_call(lambda: cold_extract(body, url), args.iterations),
    }
    print(f"page: {len(body) / 1000:.1f} KB, {len(extract.links)} links, "
          f"{len(extract.headings)} headings, {extract.word_count} words")  # fmt: skip
    for name, ms in timings.items():
        print(f"{name:>22}: {ms:7.2f} ms/page (CPU)")
    if not args.no_record:
        record(len(body), len(extract.links), timings)
    return 0


def time_saved_pages(args: argparse.Namespace) -> int:
    pages = list(args.page)
    label = ", ".join(p.name for p in pages)
    if args.corpus:
        pages += sorted((ROOT / "tests" / "corpus" / "pages").glob("*/*.html"))
        label = f"the {len(pages)} corpus pages"
    bodies = [p.read_bytes() for p in pages]
    url = "https://example.org/article/"
    iterations = max(args.iterations // max(len(bodies), 1), 3)

    def parse_all() -> None:
        for body in bodies:
            lxml.html.fromstring(body)

    def extract_all() -> None:
        for body in bodies:
            extract_page(body, url)

    size = sum(map(len, bodies))
    parse_ms = ms_per_call(parse_all, iterations)
    extract_ms = ms_per_call(extract_all, iterations)
    ratio = extract_ms / parse_ms
    line = (
        f"- {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} bench_extract saved pages "
        f"({label}, {size / 1000:.0f} KB, Python {platform.python_version()}, CPU time, "
        f"code {ROOT.name}): lxml.html.fromstring {parse_ms:.2f} ms, extract_page "
        f"{extract_ms:.2f} ms ({ratio:.1f}x the bare parse)"
    )
    if args.no_record:
        print(line)
    else:
        common.record(line)
    return 0


def cold_extract(body: bytes, url: str) -> None:
    _normalize_absolute.cache_clear()
    extract_page(body, url)


def record(size: int, links: int, timings: dict[str, float]) -> None:
    figures = ", ".join(f"{name} {ms:.2f} ms" for name, ms in timings.items())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    line = (
        f"- {stamp} bench_extract ({size / 1000:.0f} KB page, {links} links, "
        f"Python {platform.python_version()}, CPU time): {figures}"
    )
    common.record(line)


if __name__ == "__main__":
    raise SystemExit(main())
