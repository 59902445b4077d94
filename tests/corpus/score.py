"""Score crawler.extract on the real-page corpus.

    .venv/bin/python -m tests.corpus.score [--pages]

Prints, per CMS and in all: pages whose main-content word count is within tolerance,
precision and recall of the links labelled ``content`` against the links of the
article body (page by page, and once the site's template links are set apart as the
audit does: ``linkaudit.analysis.templates``), and the share of sampled other links given the
labelled position. ``--pages`` lists every page that misses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from linkaudit.analysis.templates import template_links
from linkaudit.crawler.extract import extract_page
from linkaudit.crawler.items import PageExtract

CORPUS = Path(__file__).parent / "pages"
WORD_SHARE = 0.10  # a word count is right within 10%...
WORD_SLACK = 20  # ...or 20 words, whichever is larger


@dataclass(frozen=True)
class CorpusPage:
    site: str
    name: str
    cms: str
    lang: str
    truth: dict
    html: Path

    @property
    def id(self) -> str:
        return f"{self.site}/{self.name}"

    def extract(self) -> PageExtract:
        return extract_page(self.html.read_bytes(), self.truth["url"])


@dataclass
class PageScore:
    page: CorpusPage
    word_count: int
    words_ok: bool
    true_links: set[int]
    found_links: set[int]
    template: set[int] = field(default_factory=set)  # content links the site repeats
    sampled: int = 0
    sampled_right: int = 0
    wrong_positions: list[str] = field(default_factory=list)

    @property
    def false_positives(self) -> set[int]:
        return self.found_links - self.true_links

    @property
    def missed(self) -> set[int]:
        return self.true_links - self.found_links

    @property
    def found_without_template(self) -> set[int]:
        return self.found_links - self.template


def corpus_pages(root: Path = CORPUS) -> list[CorpusPage]:
    pages = []
    for site_file in sorted(root.glob("*/site.json")):
        site = json.loads(site_file.read_text("utf-8"))
        for truth_file in sorted(site_file.parent.glob("*.json")):
            if truth_file.name == "site.json":
                continue
            truth = json.loads(truth_file.read_text("utf-8"))
            if "word_count" not in truth:
                continue  # not labelled yet
            pages.append(
                CorpusPage(
                    site=site_file.parent.name,
                    name=truth_file.stem,
                    cms=site["cms"],
                    lang=truth.get("lang") or site.get("lang", ""),
                    truth=truth,
                    html=truth_file.with_suffix(".html"),
                )
            )
    return pages


def words_within_tolerance(found: int, expected: int) -> bool:
    return abs(found - expected) <= max(WORD_SHARE * expected, WORD_SLACK)


def score_page(page: CorpusPage, extract: PageExtract | None = None) -> PageScore:
    extract = extract or page.extract()
    truth = page.truth
    found = {link.order for link in extract.links if link.position == "content"}
    result = PageScore(
        page=page,
        word_count=extract.word_count,
        words_ok=words_within_tolerance(extract.word_count, truth["word_count"]),
        true_links=set(truth["body_links"]),
        found_links=found,
    )
    positions = {link.order: link.position for link in extract.links}
    for order, expected in (truth.get("other_positions") or {}).items():
        got = positions.get(int(order))
        result.sampled += 1
        if got == expected:
            result.sampled_right += 1
        else:
            result.wrong_positions.append(f"{order}:{expected}->{got}")
    return result


@dataclass
class Tally:
    pages: int = 0
    words_ok: int = 0
    true_positives: int = 0
    found: int = 0
    expected: int = 0
    site_true_positives: int = 0
    site_found: int = 0
    sampled: int = 0
    sampled_right: int = 0

    def add(self, score: PageScore) -> None:
        self.site_true_positives += len(score.found_without_template & score.true_links)
        self.site_found += len(score.found_without_template)
        self.pages += 1
        self.words_ok += score.words_ok
        self.true_positives += len(score.found_links & score.true_links)
        self.found += len(score.found_links)
        self.expected += len(score.true_links)
        self.sampled += score.sampled
        self.sampled_right += score.sampled_right

    @property
    def word_share(self) -> float:
        return self.words_ok / self.pages if self.pages else 1.0

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0

    @property
    def site_precision(self) -> float:
        return self.site_true_positives / self.site_found if self.site_found else 1.0

    @property
    def site_recall(self) -> float:
        return self.site_true_positives / self.expected if self.expected else 1.0

    @property
    def position_share(self) -> float:
        return self.sampled_right / self.sampled if self.sampled else 1.0


def score_corpus(pages: list[CorpusPage]) -> list[PageScore]:
    """Every page scored, with the template links of its site (its corpus pages) marked."""
    extracts = {page.id: page.extract() for page in pages}
    scores = [score_page(page, extracts[page.id]) for page in pages]
    rows = [
        (score.page.site, score.page.id, link.order, link.href, link.anchor, link.context,
         link.position)
        for score in scores for link in extracts[score.page.id].links
    ]
    links = pd.DataFrame(rows, columns=["site", "source", "order", "href", "anchor", "context",
                                        "position"])
    by_page = {score.page.id: score for score in scores}
    for _, site_links in links.groupby("site", sort=False):
        repeated = site_links[template_links(site_links)]
        for source, order in zip(repeated["source"], repeated["order"], strict=True):
            by_page[source].template.add(int(order))
    return scores


def tallies(scores: list[PageScore]) -> dict[str, Tally]:
    """One tally per CMS and one, ``all``, for the whole corpus."""
    result: dict[str, Tally] = defaultdict(Tally)
    for score in scores:
        result[score.page.cms].add(score)
        result["all"].add(score)
    return dict(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.score")
    parser.add_argument("--pages", action="store_true", help="list the pages that miss")
    args = parser.parse_args(argv)
    scores = score_corpus(corpus_pages())
    sites = {score.page.site for score in scores}
    print(f"{len(scores)} pages, {len(sites)} sites")
    print(f"{'cms':24} {'pages':>5} {'words ok':>9} {'links P':>8} {'links R':>8}"
          f" {'site P':>7} {'site R':>7} {'in-body':>8} {'positions':>9}")
    table = tallies(scores)
    for cms in sorted(table, key=lambda c: (c == "all", c)):
        t = table[cms]
        print(f"{cms:24} {t.pages:5d} {t.word_share:9.1%} {t.precision:8.3f} {t.recall:8.3f}"
              f" {t.site_precision:7.3f} {t.site_recall:7.3f} {t.expected:8d}"
              f" {t.position_share:9.1%}")
    if args.pages:
        for s in scores:
            if s.words_ok and not s.false_positives and not s.missed and not s.wrong_positions:
                continue
            print(f"- {s.page.id}: words {s.word_count} (truth {s.page.truth['word_count']})"
                  f" extra {sorted(s.false_positives)} missed {sorted(s.missed)}"
                  f" positions {s.wrong_positions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
