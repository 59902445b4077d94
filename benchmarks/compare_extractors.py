"""Main-content libraries against linkaudit's extraction, on the real-page corpus.

    pip install trafilatura readability-lxml   # not linkaudit dependencies
    .venv/bin/python benchmarks/compare_extractors.py

For every page of tests/corpus: is the article's word count within tolerance, which of
the article body's link targets are found (precision, recall by target), and the CPU
time per page; for trafilatura 2 (XML output with links), readability-lxml and
crawler.extract. Appends one line to results.md. A library that is not installed is
left out.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from common import REPO, record

sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from linkaudit.crawler.extract import extract_page  # noqa: E402
from linkaudit.crawler.sentences import count_words  # noqa: E402
from linkaudit.crawler.urls import normalize_url  # noqa: E402
from tests.corpus.score import corpus_pages, words_within_tolerance  # noqa: E402

Extractor = Callable[[bytes, str], tuple[int, set[str]]]


def with_linkaudit(raw: bytes, url: str) -> tuple[int, set[str]]:
    extract = extract_page(raw, url)
    return extract.word_count, {
        link.target for link in extract.links if link.position == "content" and link.target}


def with_trafilatura(raw: bytes, url: str) -> tuple[int, set[str]]:
    import trafilatura

    xml = trafilatura.extract(raw.decode("utf-8", "replace"), url=url, output_format="xml",
                              include_links=True, include_comments=False, include_tables=True)
    if not xml:
        return 0, set()
    root = etree.fromstring(xml.encode("utf-8"))
    body = root.find(".//main")
    body = root if body is None else body
    targets = {normalize_url(ref.get("target") or "", url) for ref in body.iter("ref")}
    return count_words(" ".join(body.itertext())), targets - {None}


def with_readability(raw: bytes, url: str) -> tuple[int, set[str]]:
    from readability import Document

    summary = Document(raw.decode("utf-8", "replace")).summary(html_partial=True)
    if not summary.strip():
        return 0, set()
    tree = lxml_html.fromstring(summary)
    targets = {normalize_url(a.get("href") or "", url) for a in tree.iter("a")}
    return count_words(" ".join(tree.itertext())), targets - {None}


@dataclass
class Score:
    words_ok: int = 0
    pages: int = 0
    found_right: int = 0
    found: int = 0
    expected: int = 0
    seconds: float = 0.0

    def line(self, name: str) -> str:
        return (f"{name} words {self.words_ok / self.pages:.1%}, body links P "
                f"{self.found_right / max(self.found, 1):.3f} R "
                f"{self.found_right / max(self.expected, 1):.3f}, "
                f"{self.seconds / self.pages * 1000:.1f} ms/page")


def main() -> int:
    extractors: dict[str, Extractor] = {"linkaudit": with_linkaudit}
    if importlib.util.find_spec("trafilatura"):
        extractors["trafilatura"] = with_trafilatura
    if importlib.util.find_spec("readability"):
        extractors["readability-lxml"] = with_readability
    scores = {name: Score() for name in extractors}
    pages = corpus_pages()
    for page in pages:
        raw, url = page.html.read_bytes(), page.truth["url"]
        truth = {normalize_url(href, url) for href in page.truth["body_hrefs"]} - {None}
        for name, extractor in extractors.items():
            started = time.process_time()
            words, targets = extractor(raw, url)
            score = scores[name]
            score.seconds += time.process_time() - started
            score.pages += 1
            score.words_ok += words_within_tolerance(words, page.truth["word_count"])
            score.found_right += len(targets & truth)
            score.found += len(targets)
            score.expected += len(truth)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    record(f"- {stamp} compare_extractors ({len(pages)} corpus pages, CPU time): "
           + "; ".join(score.line(name) for name, score in scores.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
