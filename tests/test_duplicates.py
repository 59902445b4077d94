"""Near-duplicate detection (analysis/duplicates.py) on small generated texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import duplicates

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
