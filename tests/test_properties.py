"""Property-based tests: URL normalisation, page extraction and near-duplicate
signatures hold for any input hypothesis can think of, not only the ones we wrote."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linkaudit.analysis.duplicates as duplicates
from linkaudit.crawler.extract import extract_page
from linkaudit.crawler.positions import POSITIONS
from linkaudit.crawler.urls import normalize_url

BASE = "https://www.site.example/dossier/page.html"
URL_ALPHABET = st.characters(blacklist_categories=("Cs",))
urls = st.one_of(
    st.text(URL_ALPHABET, max_size=60),
    st.builds(
        lambda scheme, host, path, query: f"{scheme}://{host}/{path}?{query}",
        st.sampled_from(["http", "https", "HTTP", "ftp", "mailto"]),
        st.sampled_from(["site.example", "WWW.Site.Example:443", "xn--bcher-kva.example",
                         "bücher.example", "[::1]:8080", "127.0.0.1:99999", ""]),
        st.text(URL_ALPHABET, max_size=30),
        st.text(URL_ALPHABET, max_size=20),
    ),
)


@settings(max_examples=400, deadline=None)
@given(urls)
def test_normalize_url_never_raises_and_is_idempotent(url: str) -> None:
    once = normalize_url(url, BASE)
    assert once is None or once.startswith(("http://", "https://"))
    if once is not None:
        assert normalize_url(once) == once


@settings(max_examples=200, deadline=None)
@given(urls)
def test_the_same_url_gets_the_same_key(url: str) -> None:
    assert normalize_url(url, BASE) == normalize_url(url, BASE)


html_fragments = st.lists(
    st.one_of(
        st.sampled_from(["<main>", "</main>", "<nav>", "</nav>", "<article>", "<header>",
                         "<footer>", "<aside>", "<div class='sidebar widget'>",
                         "<div class='comments'>", "<p>", "</p>", "<h1>", "</h2>",
                         "<a href='/x'>", "<a href='#'>", "</a>", "<br>", "<table><tr><td>",
                         "<script>", "</script>", "<div hidden>", "<!--", "-->",
                         "<meta charset='utf-16'>", "<base href='//x'>", "</div>"]),
        st.text(max_size=20),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_extraction_never_raises_on_arbitrary_bytes(body: bytes) -> None:
    extract = extract_page(body, BASE)
    assert all(link.position in POSITIONS for link in extract.links)
    assert extract.word_count >= 0


@settings(max_examples=300, deadline=None)
@given(html_fragments)
def test_extraction_of_any_tag_soup_gives_one_of_the_five_positions(parts: list[str]) -> None:
    extract = extract_page("".join(parts).encode("utf-8"), BASE)
    assert all(link.position in POSITIONS for link in extract.links)
    assert [link.order for link in extract.links] == list(range(len(extract.links)))


words = st.lists(st.sampled_from([f"w{i}" for i in range(40)]), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(st.lists(words, min_size=1, max_size=12), st.integers(min_value=1, max_value=700))
def test_signatures_do_not_depend_on_the_batch_split(documents, batch: int) -> None:
    whole = duplicates.minhash_signatures(documents, num_perm=16)
    original = duplicates._BATCH_SHINGLES
    duplicates._BATCH_SHINGLES = batch
    try:
        split = duplicates.minhash_signatures(documents, num_perm=16)
    finally:
        duplicates._BATCH_SHINGLES = original
    assert np.array_equal(whole, split)
    # And a document's signature is its own, whatever else is in the batch.
    alone = duplicates.minhash_signatures(documents[-1:], num_perm=16)
    assert np.array_equal(alone[0], whole[-1])


def test_a_document_longer_than_the_batch_buffer() -> None:
    long = [f"mot{i % 5000}" for i in range(100_000)]
    signatures = duplicates.minhash_signatures([long, long[:50], long], num_perm=32)
    assert np.array_equal(signatures[0], signatures[2])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" \t\nab\xa0", max_size=6), max_size=25))
def test_collapsed_prefix_length_matches_collapsing_the_prefix(parts: list[str]) -> None:
    from linkaudit.crawler.extract import _CollapsedPrefix
    from linkaudit.crawler.sentences import collapse_whitespace

    prefix = _CollapsedPrefix(parts)
    for k in range(len(parts) + 1):
        assert prefix.length_before(k) == len(collapse_whitespace("".join(parts[:k])))
