"""Near-duplicate detection (analysis/duplicates.py): generated texts, then real pages of the
corpus (tests/corpus) and lightly rewritten copies of them."""

from __future__ import annotations

import difflib
import random
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pytest

from linkaudit.analysis import duplicates

SYLLABLES = ["ka", "lo", "mi", "ré", "tu", "san", "vé", "po", "lin", "dor", "ça", "bé"]


def random_words(n_words: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        "".join(rng.choice(SYLLABLES, size=rng.integers(1, 4))) + str(rng.integers(0, 50))
        for _ in range(n_words)
    ]


def edited(words: list[str], positions: list[int]) -> list[str]:
    """Copy of ``words`` with the word at each position replaced by a new one."""
    copy = list(words)
    for position in positions:
        copy[position] = f"changed{position}"
    return copy


def make_docs(texts: dict[str, list[str] | str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "url": [f"https://site.test/{name}" for name in texts],
            "text": [t if isinstance(t, str) else " ".join(t) for t in texts.values()],
        }
    )


def by_url(result: pd.DataFrame) -> dict[str, tuple[str, float]]:
    return {
        row.url.rsplit("/", 1)[1]: (row.duplicate_of.rsplit("/", 1)[1], row.similarity)
        for row in result.itertuples()
    }


def test_planted_near_copy_is_paired_with_its_closest_match() -> None:
    base = random_words(200, seed=1)
    docs = make_docs(
        {
            "base": base,
            "close-copy": edited(base, [100]),
            "looser-copy": edited(base, [20, 90, 160]),
            "other": random_words(200, seed=2),
        }
    )
    found = by_url(duplicates.near_duplicates(docs))
    assert found["base"][0] == "close-copy"
    assert found["close-copy"][0] == "base"
    assert found["close-copy"][1] >= 0.9
    assert "other" not in found


def test_unrelated_pages_are_not_paired() -> None:
    docs = make_docs({f"page{i}": random_words(150, seed=10 + i) for i in range(30)})
    assert duplicates.near_duplicates(docs).empty


def test_identical_pages_have_similarity_one_and_point_at_each_other() -> None:
    text = random_words(80, seed=3)
    docs = make_docs({"a": text, "b": text, "c": random_words(80, seed=4)})
    found = by_url(duplicates.near_duplicates(docs))
    assert found == {"a": ("b", 1.0), "b": ("a", 1.0)}


def test_case_and_spacing_do_not_hide_an_exact_duplicate() -> None:
    text = " ".join(random_words(60, seed=5))
    docs = make_docs({"a": text, "b": "  " + text.upper().replace(" ", "\n  ")})
    assert by_url(duplicates.near_duplicates(docs))["a"] == ("b", 1.0)


def test_equal_content_hash_counts_as_identical() -> None:
    docs = make_docs({"a": random_words(60, seed=6), "b": random_words(60, seed=7)})
    docs["content_hash"] = ["same", "same"]
    assert by_url(duplicates.near_duplicates(docs)) == {"a": ("b", 1.0), "b": ("a", 1.0)}


@pytest.mark.parametrize("n_words", [5, 29])
def test_short_pages_are_skipped(n_words: int) -> None:
    text = random_words(n_words, seed=8)
    docs = make_docs({"a": text, "b": text})
    assert duplicates.near_duplicates(docs).empty


def test_missing_text_is_skipped() -> None:
    text = random_words(60, seed=9)
    docs = make_docs({"a": text, "b": text, "c": "x"})
    docs.loc[2, "text"] = None
    assert set(by_url(duplicates.near_duplicates(docs))) == {"a", "b"}


def test_output_columns_and_rounding() -> None:
    base = random_words(120, seed=11)
    docs = make_docs({"a": base, "b": edited(base, [60])})
    result = duplicates.near_duplicates(docs)
    assert list(result.columns) == duplicates.DUPLICATE_COLUMNS
    assert all(result["similarity"] == result["similarity"].round(2))


def test_many_copies_of_one_page_are_all_reported() -> None:
    """A hundred single-word edits of one page: far more than one LSH bucket window."""
    base = random_words(200, seed=12)
    texts = {f"copy{i}": edited(base, [i]) for i in range(100)}
    docs = make_docs({**texts, "base": base})
    found = by_url(duplicates.near_duplicates(docs))
    assert len(found) == 101
    assert found["base"][0].startswith("copy")
    assert min(similarity for _, similarity in found.values()) >= 0.85


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Le  Café\n\tnoir", ["le", "café", "noir"]),
        ("GABA-B, agoniste.", ["gaba", "b", "agoniste"]),
        ("cafe café", ["cafe", "café"]),
    ],
)
def test_text_words_lowercases_and_keeps_accents(text: str, words: list[str]) -> None:
    assert duplicates.text_words(text) == words


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.85, 0.95])
def test_lsh_bands_catch_pairs_at_the_threshold(threshold: float) -> None:
    bands = duplicates.lsh_bands(threshold, 128)
    assert bands.bands * bands.rows <= 128
    hit_probability = 1 - (1 - threshold**bands.rows) ** bands.bands
    assert hit_probability >= 0.95


def test_signatures_do_not_depend_on_the_other_documents() -> None:
    docs = [random_words(300, seed=s) for s in range(5)]
    together = duplicates.minhash_signatures(docs)
    alone = duplicates.minhash_signatures([docs[3]])
    assert together.shape == (5, 128)
    assert (together[3] == alone[0]).all()


def test_signature_agreement_estimates_jaccard() -> None:
    base = random_words(400, seed=13)
    copy = edited(base, [30, 130, 230, 330])
    shingles = [{tuple(w[i : i + 5]) for i in range(len(w) - 4)} for w in (base, copy)]
    exact = len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])
    signatures = duplicates.minhash_signatures([base, copy], num_perm=256)
    assert (signatures[0] == signatures[1]).mean() == pytest.approx(exact, abs=0.08)


# --------------------------------------------------------------------------- word order


def lcs_by_table(first: list[str], second: list[str]) -> int:
    """Longest common subsequence by the textbook dynamic programme."""
    previous = [0] * (len(second) + 1)
    for word in first:
        current = [0]
        for j, other in enumerate(second):
            current.append(previous[j] + 1 if word == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


@pytest.mark.parametrize("seed", range(20))
def test_word_order_share_is_twice_the_lcs_over_both_lengths(seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocabulary = ["le", "chat", "dort", "sur", "un", "tapis", "rouge", "et"]
    first = list(rng.choice(vocabulary, size=int(rng.integers(0, 90))))
    second = list(rng.choice(vocabulary, size=int(rng.integers(1, 90))))
    expected = 2 * lcs_by_table(first, second) / (len(first) + len(second))
    assert duplicates.word_order_share(first, second) == pytest.approx(expected)
    assert duplicates.word_order_share(second, first) == pytest.approx(expected)


def test_word_order_share_of_equal_and_disjoint_lists() -> None:
    words = random_words(70, seed=20)
    assert duplicates.word_order_share(words, list(words)) == 1.0
    assert duplicates.word_order_share(words, [f"x{i}" for i in range(70)]) == 0.0
    assert duplicates.word_order_share([], []) == 1.0


def test_moved_sentence_costs_its_words_but_nothing_else() -> None:
    first = "one two three four . five six seven . eight nine".split()
    second = "five six seven . one two three four . eight nine".split()
    # "one two three four ." keeps its place; the moved "five six seven ." does not.
    assert duplicates.word_order_share(first, second) == pytest.approx(2 * 7 / 22)


@pytest.mark.parametrize(("threshold", "expected"), [(0.85, 0.538), (0.9, 0.667), (0.6, 0.3)])
def test_candidate_jaccard_for_two_word_shingles(threshold: float, expected: float) -> None:
    assert duplicates.candidate_jaccard(threshold, 2) == pytest.approx(expected, abs=0.001)


# --------------------------------------------------------------------------- real pages

SYNONYMS = {
    "fr": {"très": "vraiment", "aussi": "également", "mais": "pourtant", "souvent": "fréquemment",
           "beaucoup": "énormément", "depuis": "dès", "donc": "ainsi", "encore": "toujours",
           "selon": "d'après", "comme": "tel que", "entre": "parmi", "grand": "important",
           "grande": "importante", "faire": "réaliser", "fait": "réalisé", "plus": "davantage"},
    "en": {"very": "really", "also": "too", "but": "yet", "often": "frequently",
           "many": "numerous", "big": "large", "make": "create", "made": "created",
           "because": "since", "about": "around", "use": "employ", "get": "obtain",
           "show": "display", "start": "begin", "help": "assist", "more": "further"},
}
FILLERS = {"fr": ["notamment", "d'ailleurs", "en effet", "justement"],
           "en": ["indeed", "in fact", "notably", "actually"]}
SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"“])")


def reworded(paragraph: str, lang: str, rng: random.Random) -> str:
    """The paragraph as a light rewrite leaves it: two neighbouring sentences swapped,
    synonyms swapped in, about one word in twelve dropped and one in twenty added."""
    sentences = SENTENCE_BREAK.split(paragraph)
    if len(sentences) >= 2:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    out = []
    for word in " ".join(sentences).split():
        if word.lower() in SYNONYMS[lang]:
            out.append(SYNONYMS[lang][word.lower()])
            continue
        draw = rng.random()
        if draw < 0.08:
            continue
        out.append(word)
        if draw > 0.95:
            out.append(rng.choice(FILLERS[lang]))
    return " ".join(out)


def rewritten(text: str, lang: str, seed: int = 0) -> str:
    """Every other paragraph of ``text`` reworded, the others kept."""
    rng = random.Random(seed)
    paragraphs = text.split("\n\n")
    return "\n\n".join(
        reworded(p, lang, rng) if i % 2 else p for i, p in enumerate(paragraphs)
    )


@dataclass(frozen=True)
class RealPage:
    url: str
    site: str
    kind: str
    lang: str
    main_text: str  # headings and paragraphs of the main content, as the audit joins them
    page_text: str  # every visible word of <body>, the site's template included


@cache
def real_pages() -> dict[str, RealPage]:
    """The pages of the real-page corpus (tests/corpus), by corpus id."""
    from lxml import html as lxml_html

    from tests.corpus.score import corpus_pages

    pages = {}
    for page in corpus_pages():
        extract = page.extract()
        main_text = "\n\n".join(
            part for s in extract.sections for part in (s.heading, s.text) if part.strip()
        )
        root = lxml_html.fromstring(page.html.read_bytes())
        for hidden in root.xpath("//script | //style | //noscript | //template"):
            hidden.drop_tree()
        body = root.find("body")
        pages[page.id] = RealPage(
            page.truth["url"], page.site, page.truth["kind"], page.lang, main_text,
            body.text_content() if body is not None else "",
        )
    return pages


def pair_urls(result: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset((row.url, row.duplicate_of)) for row in result.itertuples()}


ARTICLE = "epjt/disparition-de-louise-merzeau"


def test_lightly_rewritten_copy_of_a_real_article_is_found() -> None:
    page = real_pages()[ARTICLE]
    copy = rewritten(page.main_text, page.lang, seed=1)
    original_words = duplicates.text_words(page.main_text)
    copy_words = duplicates.text_words(copy)
    # The case the detector must catch: same length, half the paragraphs reworded, most
    # words still in order (difflib, independently of the detector's own measure)...
    assert abs(len(copy_words) - len(original_words)) < 0.02 * len(original_words)
    in_order = difflib.SequenceMatcher(None, original_words, copy_words, autojunk=False)
    assert 0.85 <= in_order.ratio() <= 0.90
    # ...but few 5-word shingles in common: below the old 0.85 Jaccard threshold by far.
    shingles = [{tuple(w[i : i + 5]) for i in range(len(w) - 4)}
                for w in (original_words, copy_words)]
    assert len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1]) < 0.6

    docs = pd.DataFrame({"url": [page.url, page.url + "?v=2"], "text": [page.main_text, copy]})
    found = duplicates.near_duplicates(docs)
    assert pair_urls(found) == {frozenset((page.url, page.url + "?v=2"))}
    share = duplicates.word_order_share(original_words, copy_words)
    assert list(found["similarity"]) == [round(share, 2)] * 2
    assert share >= in_order.ratio()  # difflib's matching blocks are a common subsequence


def test_articles_of_one_site_sharing_template_and_topic_are_not_paired() -> None:
    epjt = [p for p in real_pages().values() if p.site == "epjt"]
    assert sum(p.kind == "article" for p in epjt) >= 5  # a school of journalism's news
    for text_of in (lambda p: p.main_text, lambda p: p.page_text):
        docs = pd.DataFrame({"url": [p.url for p in epjt], "text": [text_of(p) for p in epjt]})
        assert duplicates.near_duplicates(docs).empty


def test_whole_corpus_with_rewritten_copies_pairs_each_copy_with_its_original_only() -> None:
    """Every corpus page, plus a rewritten copy of each article of 300 words or more: the
    pairs reported are exactly the copies whose word-order share reaches the threshold."""
    originals = list(real_pages().values())
    copies = {
        p.url + "?v=2": rewritten(p.main_text, p.lang, seed=i)
        for i, p in enumerate(originals)
        if p.kind == "article" and len(duplicates.text_words(p.main_text)) >= 300
    }
    docs = pd.DataFrame(
        {
            "url": [p.url for p in originals] + list(copies),
            "text": [p.main_text for p in originals] + list(copies.values()),
        }
    )
    texts = dict(zip(docs["url"], docs["text"], strict=True))
    shares = {
        url: duplicates.word_order_share(
            duplicates.text_words(texts[url.removesuffix("?v=2")]), duplicates.text_words(text)
        )
        for url, text in copies.items()
    }
    expected = {frozenset((url.removesuffix("?v=2"), url)) for url, s in shares.items()
                if s >= 0.85}
    assert len(copies) >= 60 and len(expected) >= 40
    assert pair_urls(duplicates.near_duplicates(docs, threshold=0.85)) == expected


def test_whole_pages_with_their_template_are_not_paired() -> None:
    """Menus, footers and sidebars left in: the site's template alone makes no pair."""
    pages = list(real_pages().values())
    docs = pd.DataFrame({"url": [p.url for p in pages], "text": [p.page_text for p in pages]})
    assert duplicates.near_duplicates(docs).empty


def test_texts_split_in_small_batches_give_the_same_pairs(monkeypatch) -> None:
    """Texts are split into words a bounded batch at a time (by count and characters):
    a real corpus with rewritten copies gives the same duplicates whatever the batches."""
    originals = list(real_pages().values())
    copies = {p.url + "?v=2": rewritten(p.main_text, p.lang, seed=i)
              for i, p in enumerate(originals) if p.kind == "article"}
    docs = pd.DataFrame({"url": [p.url for p in originals] + list(copies),
                         "text": [p.main_text for p in originals] + list(copies.values())})
    whole = duplicates.near_duplicates(docs, threshold=0.85)
    assert len(whole) >= 40
    monkeypatch.setattr(duplicates, "_BATCH_CHARS", 5_000)
    assert len(list(duplicates._batches(docs["text"].tolist()))) > len(docs) / 4
    pd.testing.assert_frame_equal(duplicates.near_duplicates(docs, threshold=0.85), whole)


def test_batches_are_bounded_and_cover_every_text_once(monkeypatch) -> None:
    monkeypatch.setattr(duplicates, "_BATCH_CHARS", 10)
    monkeypatch.setattr(duplicates, "_BATCH_DOCS", 3)
    texts = ["aaaa", "bbbb", "cc", None, "d" * 25, "e", "f", "g", "h"]
    batches = list(duplicates._batches(texts))
    # 10 characters fill the first batch; a text longer than the bound is a batch alone.
    assert batches == [(0, 3), (3, 4), (4, 5), (5, 8), (8, 9)]
