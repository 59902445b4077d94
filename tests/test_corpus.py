"""Extraction gate on the real-page corpus (tests/corpus): pages of real sites nobody on
this project wrote, with the truth checked by a person (tests/corpus/README.md).

Each page is its own test, so one failing page hides no other. Pages listed in
tests/corpus/gate.json under ``known_misses`` are expected to fail (strict: a page that
starts passing must leave the list). The corpus-wide minimums there only go up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkaudit.crawler.positions import POSITIONS
from tests.corpus.score import CorpusPage, corpus_pages, score_corpus, tallies

GATE = json.loads((Path(__file__).parent / "corpus" / "gate.json").read_text("utf-8"))
PAGES = corpus_pages()
SCORES = {score.page.id: score for score in score_corpus(PAGES)}


def _param(page: CorpusPage, check: str):
    reason = GATE["known_misses"].get(check, {}).get(page.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(page, id=page.id, marks=marks)


def test_corpus_is_large_and_varied() -> None:
    sites = {page.site for page in PAGES}
    cms = {page.cms for page in PAGES}
    languages = {page.lang for page in PAGES}
    assert len(PAGES) >= GATE["minimum"]["pages"]
    assert len(sites) >= GATE["minimum"]["sites"]
    assert len(cms) >= GATE["minimum"]["cms"]
    assert {"fr", "en"} <= languages


@pytest.mark.parametrize("page", [_param(p, "word_count") for p in PAGES])
def test_main_content_word_count_is_within_tolerance(page: CorpusPage) -> None:
    score = SCORES[page.id]
    assert score.words_ok, f"{score.word_count} words, truth {page.truth['word_count']}"


@pytest.mark.parametrize("page", [_param(p, "links") for p in PAGES])
def test_links_labelled_content_are_the_article_body_links(page: CorpusPage) -> None:
    score = SCORES[page.id]
    assert not score.false_positives and not score.missed, (
        f"labelled content but outside the body: {sorted(score.false_positives)}; "
        f"in the body but not content: {sorted(score.missed)}"
    )


@pytest.mark.parametrize("page", PAGES, ids=[p.id for p in PAGES])
def test_truth_still_matches_the_saved_page(page: CorpusPage) -> None:
    links = page.extract().links
    for order, href in zip(page.truth["body_links"], page.truth["body_hrefs"], strict=True):
        assert links[order].href == href
    sampled = (page.truth.get("other_positions") or {}).values()
    assert all(position in POSITIONS for position in sampled)


def test_word_counts_within_tolerance_on_enough_pages() -> None:
    share = tallies(list(SCORES.values()))["all"].word_share
    print(f"word count within tolerance on {share:.1%} of {len(PAGES)} pages")
    assert share >= GATE["minimum"]["word_share"]


@pytest.mark.parametrize("metric", ["precision", "recall"])
def test_body_links_labelled_content_over_the_corpus(metric: str) -> None:
    measured = getattr(tallies(list(SCORES.values()))["all"], metric)
    print(f"in-body links labelled content: {metric} {measured:.3f}")
    assert measured >= GATE["minimum"][f"links_{metric}"]


@pytest.mark.parametrize("metric", ["precision", "recall"])
def test_body_links_once_site_templates_are_set_apart(metric: str) -> None:
    measured = getattr(tallies(list(SCORES.values()))["all"], f"site_{metric}")
    print(f"in-body links labelled content, not template: {metric} {measured:.3f}")
    assert measured >= GATE["minimum"][f"site_links_{metric}"]


def test_sampled_positions_of_other_links() -> None:
    share = tallies(list(SCORES.values()))["all"].position_share
    print(f"sampled positions right: {share:.1%}")
    assert share >= GATE["minimum"]["position_share"]


def test_every_page_is_small() -> None:
    sizes = {page.id: page.html.stat().st_size for page in PAGES}
    assert max(sizes.values()) <= 400_000
    assert sum(sizes.values()) <= 20_000_000
