"""Near-duplicate pages: word-pair MinHash and LSH find candidates, word order confirms.

A page rewritten in places (synonyms swapped, sentences moved, words dropped or added in
half of its paragraphs) keeps most of its words in the same order but few of its longer
shingles, so Jaccard similarity of 5-word shingles misses it. Here two pages are
near-duplicates when their *word-order share* -- the share of their words that belong to
the longest common subsequence of their word lists, 2 * LCS / (len(a) + len(b)) -- is at
least the threshold.

Work stays near linear in the number of pages: MinHash signatures of each page's 2-word
shingles are computed with numpy in batches, banded LSH tuned to the lowest shingle
similarity such a pair can be expected to have turns them into candidate pairs (pages are
never compared all against all), the share of equal signature values drops most of the
candidates, and the word-order share is computed, bit-parallel, for at most
``_CONFIRMED_PER_PAGE`` candidates of each page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkaudit.analysis.settings import NEAR_DUPLICATE_THRESHOLD
from linkaudit.analysis.text import words as text_words  # the analysis's one word

DUPLICATE_COLUMNS = ["url", "duplicate_of", "similarity"]

# Below this many words a page is too short to call a duplicate of anything.
MIN_WORDS = 30

# Documents split into words per batch: at most this many, of this many characters in all
# (2,000 long pages of a real blog were 4 million words, +300 MiB as Python strings).
_BATCH_DOCS = 2_000
_BATCH_CHARS = 2_000_000

# Shingle rows hashed per batch: batch x num_perm uint64 values stay around 64 MB.
_BATCH_SHINGLES = 1 << 16

# In a large LSH bucket each page is compared with this many bucket neighbours only
# (and the bucket's first page): one match above the threshold is enough to report it.
_BUCKET_WINDOW = 32

# Words are runs of letters/digits (accents kept); punctuation and spacing do not count.

_SEED = 1

_LSH_MARGIN = 0.05
_LSH_RECALL = 0.95

# Candidates whose estimated shingle Jaccard falls this far below the expected minimum are
# dropped before their word order is compared: 2.3 standard deviations of the estimate
# at J = 0.5 with 128 permutations.
_ESTIMATE_SLACK = 0.1

# Candidate shingle similarity is never asked below this: bands for less would make a
# large share of all pairs of same-language pages candidates.
_MIN_CANDIDATE_JACCARD = 0.3

# Each page's word order is compared with its best candidates only (by estimated Jaccard):
# the closest page by word order is among them, and the work stays linear in the pages.
_CONFIRMED_PER_PAGE = 4

# The word-order share of pages longer than this is measured on their first words: one
# comparison of two 20,000-word pages takes about 50 ms.
MAX_COMPARED_WORDS = 20_000


@dataclass(frozen=True)
class LshBands:
    bands: int
    rows: int


def near_duplicates(
    docs: pd.DataFrame,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    num_perm: int = 128,
    shingle: int = 2,
    min_words: int = MIN_WORDS,
) -> pd.DataFrame:
    """Pages whose main text nearly repeats another page's.

    ``docs``: url, text (and optionally content_hash). One output row per page that has a
    near duplicate: url, duplicate_of (the closest match), similarity (the word-order share
    of the two pages, see :func:`word_order_share`, 2 decimals; 1.0 for identical text or
    equal content_hash). Pairs at or above ``threshold`` are near-duplicates. Pages under
    ``min_words`` words are skipped; ``shingle`` and ``num_perm`` shape the candidate
    search only.
    """
    texts = docs["text"].tolist()
    kept, text_keys, signatures = _fingerprints(texts, max(min_words, 1), num_perm, shingle)
    if len(kept) < 2:
        return _empty_duplicates()

    exact = [_exact_pairs(text_keys)]
    if "content_hash" in docs:
        exact.append(_exact_pairs(docs["content_hash"].to_numpy(dtype=object)[kept]))
    representatives = _first_of_each(text_keys)
    left, right, estimates = _candidate_estimates(
        signatures[representatives], candidate_jaccard(threshold, shingle)
    )
    left, right = _best_candidates(left, right, estimates, _CONFIRMED_PER_PAGE)
    near = _confirmed_shares(
        texts, kept, representatives[left], representatives[right], threshold
    )
    return _closest_matches(docs["url"].to_numpy(dtype=object)[kept], [*exact, near])


def word_order_share(first: Sequence[str], second: Sequence[str]) -> float:
    """Share of the two word lists' words that are in the same order in both:
    2 * LCS / (len(first) + len(second)), LCS being their longest common subsequence.

    1.0 for equal lists, 0.0 when no word is shared. This is the ratio that difflib's
    SequenceMatcher approximates from its matching blocks, computed exactly. Bit-parallel
    (Hyyroe 2004): one pass over the shorter list, each step a few operations on an integer
    with one bit per word of the longer one, so O(n * m / 64) machine-word operations.
    """
    total = len(first) + len(second)
    if total == 0:
        return 1.0
    return 2 * _lcs_length(first, second) / total


def _lcs_length(first: Sequence[str], second: Sequence[str]) -> int:
    short, long = (first, second) if len(first) <= len(second) else (second, first)
    positions: dict[str, int] = {}
    for i, word in enumerate(long):
        positions[word] = positions.get(word, 0) | (1 << i)
    full = (1 << len(long)) - 1
    # Bit i clear: with the words of ``short`` read so far, long[: i + 1] has a longer
    # common subsequence than long[: i]; the clear bits count the LCS.
    row = full
    for word in short:
        matches = row & positions.get(word, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(long) - row.bit_count()


def candidate_jaccard(threshold: float, shingle: int) -> float:
    """Shingle Jaccard that a pair at word-order share ``threshold`` can be expected to
    keep at least: its changed words spread evenly, each breaking the ``shingle`` shingles
    it belongs to. A share ``t`` leaves a fraction ``f = 1 - shingle * (1 - t)`` of the
    shingles intact and Jaccard ``f / (2 - f)``: 0.54 for 2-word shingles at t = 0.85.
    Never below ``_MIN_CANDIDATE_JACCARD``.
    """
    intact = 1.0 - shingle * (1.0 - threshold)
    return max(intact / (2.0 - intact), _MIN_CANDIDATE_JACCARD)


def _fingerprints(texts: list, min_words: int, num_perm: int, shingle: int) -> tuple:
    """Positions of the texts long enough to judge, their exact-text keys and signatures.

    Texts are split into words a batch at a time so that the words of a whole large site
    never sit in memory at once.
    """
    kept, keys, signatures = [], [], [np.empty((0, num_perm), dtype=np.uint32)]
    for start, stop in _batches(texts):
        batch = [text_words(t) if isinstance(t, str) else [] for t in texts[start:stop]]
        long_enough = [i for i, words in enumerate(batch) if len(words) >= min_words]
        if not long_enough:
            continue
        kept.extend(start + i for i in long_enough)
        keys.extend(_text_key(batch[i]) for i in long_enough)
        signatures.append(minhash_signatures([batch[i] for i in long_enough], num_perm, shingle))
    return np.array(kept, dtype=np.int64), np.array(keys, dtype=object), np.vstack(signatures)


def _batches(texts: list) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive texts: at most _BATCH_DOCS of them, and no more than
    _BATCH_CHARS characters in all unless one text alone is longer."""
    start, chars = 0, 0
    for i, text in enumerate(texts):
        size = len(text) if isinstance(text, str) else 0
        if i > start and (i - start >= _BATCH_DOCS or chars + size > _BATCH_CHARS):
            yield start, i
            start, chars = i, 0
        chars += size
    if start < len(texts):
        yield start, len(texts)


def _empty_duplicates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "url": pd.Series(dtype="str"),
            "duplicate_of": pd.Series(dtype="str"),
            "similarity": pd.Series(dtype=np.float64),
        }
    )


def _text_key(words: list[str]) -> str:
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """Positions of the first document of each distinct key, in document order."""
    return np.flatnonzero(_first_occurrences(pd.factorize(keys)[0]))


def _first_occurrences(codes: np.ndarray) -> np.ndarray:
    """True where a factorize code appears for the first time (codes >= 0).

    pd.factorize numbers values in order of first appearance, so a first occurrence is
    exactly where the code exceeds every code before it.
    """
    seen_max = np.maximum.accumulate(codes) if len(codes) else codes
    return codes > np.r_[-1, seen_max[:-1]]


def _exact_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every document paired with the first document sharing its key, similarity 1."""
    codes, uniques = pd.factorize(keys)
    valid = np.flatnonzero(codes >= 0)
    codes = codes[valid]
    first_of_code = np.empty(len(uniques), dtype=np.int64)
    first = _first_occurrences(codes)
    first_of_code[codes[first]] = valid[first]
    return valid[~first], first_of_code[codes[~first]], np.ones(int((~first).sum()))


# --------------------------------------------------------------------------- MinHash


def minhash_signatures(
    documents: Sequence[list[str]], num_perm: int = 128, shingle: int = 5
) -> np.ndarray:
    """MinHash signature (num_perm uint32 values) of each document's set of word shingles.

    Shingle hashes come from pandas' stable hash of each word, combined over ``shingle``
    consecutive words; permutation i is the multiply-shift hash (a_i * x + b_i) >> 32.
    The same words always give the same signature, whatever else is in the batch.
    """
    if any(len(words) == 0 for words in documents):
        raise ValueError("every document needs at least one word")
    shingle_hashes, doc_starts = _shingle_hashes(documents, shingle)
    rng = np.random.default_rng(_SEED)
    multipliers = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * 2 + 1
    offsets = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    keys = shingle_hashes >> np.uint64(32)
    signatures = np.full((len(documents), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    # One reused buffer: allocating a fresh 64 MB array per batch costs more in page
    # faults than the arithmetic itself.
    batch_size = _BATCH_SHINGLES
    buffer = np.empty((num_perm, min(batch_size, len(keys))), dtype=np.uint64)
    # Fixed-size slices of the concatenated shingles: a document longer than a slice
    # (a 100,000-word page) spans several, and its minimum is the minimum over them.
    for start in range(0, len(keys), batch_size):
        stop = min(start + batch_size, len(keys))
        batch = buffer[:, : stop - start]
        np.multiply(multipliers[:, None], keys[None, start:stop], out=batch)
        np.add(batch, offsets[:, None], out=batch)
        np.right_shift(batch, np.uint64(32), out=batch)
        first = int(np.searchsorted(doc_starts, start, side="right")) - 1
        last = int(np.searchsorted(doc_starts, stop - 1, side="right"))
        segments = np.maximum(doc_starts[first:last], start) - start
        minima = np.minimum.reduceat(batch, segments, axis=1).T.astype(np.uint32)
        np.minimum(signatures[first:last], minima, out=signatures[first:last])
    return signatures


def _shingle_hashes(documents: Sequence[list[str]], shingle: int) -> tuple:
    """64-bit hash of every shingle, all documents concatenated, plus each one's start.

    A document shorter than ``shingle`` words gives one shingle of all its words.
    """
    lengths = np.array([len(d) for d in documents], dtype=np.int64)
    flat = np.array([w for d in documents for w in d], dtype=object)
    word_hashes = pd.util.hash_array(flat, categorize=True)
    doc_offsets = np.concatenate([[0], np.cumsum(lengths)])
    position = np.arange(len(flat)) - np.repeat(doc_offsets[:-1], lengths)
    span = np.repeat(np.minimum(lengths, shingle), lengths)
    combined = np.zeros(len(flat), dtype=np.uint64)
    for offset in range(shingle):
        shifted = np.zeros(len(flat), dtype=np.uint64)
        shifted[: max(len(flat) - offset, 0)] = word_hashes[offset:]
        inside = offset < span
        combined = np.where(inside, _mix(combined * np.uint64(0x100000001B3) ^ shifted), combined)
    is_start = position <= np.repeat(lengths, lengths) - span
    shingle_counts = np.maximum(lengths - np.minimum(lengths, shingle) + 1, 0)
    starts = np.concatenate([[0], np.cumsum(shingle_counts)[:-1]])
    return combined[is_start], starts


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the whole word."""
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


# --------------------------------------------------------------------------- LSH


def lsh_bands(threshold: float, num_perm: int) -> LshBands:
    """The longest bands (fewest candidates) that still catch pairs near the threshold.

    Two documents of Jaccard s share one of b bands of r rows with probability
    1 - (1 - s^r)^b. Rows are chosen so that a pair at threshold - _LSH_MARGIN becomes a
    candidate with probability >= _LSH_RECALL: the margin covers the MinHash estimate's
    own noise, and extra candidates only cost one vectorised comparison each.
    """
    low = max(threshold - _LSH_MARGIN, 0.0)
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1.0 - (1.0 - low**rows) ** bands >= _LSH_RECALL:
            return LshBands(bands, rows)
    return LshBands(num_perm, 1)


def candidate_pairs(signatures: np.ndarray, bands: LshBands) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (i, j), i < j, of documents that share at least one LSH band."""
    rng = np.random.default_rng(_SEED + 1)
    weights = rng.integers(1, 2**63, size=bands.rows, dtype=np.uint64) * 2 + 1
    found = []
    for band in range(bands.bands):
        block = signatures[:, band * bands.rows : (band + 1) * bands.rows].astype(np.uint64)
        found.append(_bucket_pairs(_mix(block * weights).sum(axis=1, dtype=np.uint64)))
    left = np.concatenate([f[0] for f in found])
    right = np.concatenate([f[1] for f in found])
    low, high = np.minimum(left, right), np.maximum(left, right)
    keys = np.sort(low.astype(np.int64) * len(signatures) + high)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    return keys // len(signatures), keys % len(signatures)


def _bucket_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of documents with equal keys.

    A bucket of up to _BUCKET_WINDOW + 1 documents gives all its pairs; in a bigger one
    (templated pages) each document meets the bucket's first document and its
    _BUCKET_WINDOW neighbours, which keeps the work linear in the bucket size.
    """
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    opens_bucket = np.r_[True, ordered[1:] != ordered[:-1]]
    bucket_first = order[np.maximum.accumulate(np.where(opens_bucket, np.arange(len(keys)), 0))]
    left, right = [order[~opens_bucket]], [bucket_first[~opens_bucket]]
    for step in range(2, _BUCKET_WINDOW + 1):
        same = np.flatnonzero(ordered[:-step] == ordered[step:])
        if len(same) == 0:
            break
        left.append(order[same])
        right.append(order[same + step])
    return np.concatenate(left), np.concatenate(right)


def _candidate_estimates(
    signatures: np.ndarray, expected: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LSH candidate pairs for shingle Jaccard ``expected`` and their estimated Jaccard
    (share of equal MinHash values), those far below ``expected`` dropped."""
    left, right = candidate_pairs(signatures, lsh_bands(expected, signatures.shape[1]))
    similarity = np.empty(len(left))
    for start in range(0, len(left), 1 << 14):
        chunk = slice(start, start + (1 << 14))
        similarity[chunk] = (signatures[left[chunk]] == signatures[right[chunk]]).mean(axis=1)
    keep = similarity >= expected - _ESTIMATE_SLACK
    return left[keep], right[keep], similarity[keep]


def _best_candidates(
    left: np.ndarray, right: np.ndarray, estimates: np.ndarray, per_page: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs that are among the ``per_page`` best (by estimate) of one of their pages."""
    if len(left) == 0:
        return left, right
    pair = np.arange(len(left))
    both = pd.DataFrame(
        {
            "page": np.concatenate([left, right]),
            "pair": np.concatenate([pair, pair]),
            "estimate": np.concatenate([estimates, estimates]),
        }
    )
    ranked = both.sort_values(["page", "estimate"], ascending=[True, False], kind="stable")
    chosen = np.unique(ranked.groupby("page", sort=False).head(per_page)["pair"].to_numpy())
    return left[chosen], right[chosen]


def _confirmed_shares(
    texts: list, kept: np.ndarray, left: np.ndarray, right: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (positions into ``kept``) whose word-order share reaches ``threshold``, with
    that share; pages are cut to MAX_COMPARED_WORDS. Only pages in some pair are split into
    words again, and a pair whose lengths alone rule the threshold out
    (2 * min / (n + m) < threshold) is not compared."""
    needed = np.unique(np.concatenate([left, right]))
    page_words = {
        int(i): text_words(texts[kept[i]])[:MAX_COMPARED_WORDS] for i in needed.tolist()
    }
    found = []
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        first, second = page_words[a], page_words[b]
        if 2 * min(len(first), len(second)) < threshold * (len(first) + len(second)):
            continue
        share = word_order_share(first, second)
        if share >= threshold:
            found.append((a, b, share))
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    pairs = np.array([(a, b) for a, b, _ in found], dtype=np.int64)
    return pairs[:, 0], pairs[:, 1], np.array([share for *_, share in found])


# --------------------------------------------------------------------------- result


def _closest_matches(urls: np.ndarray, pair_sets: list[tuple]) -> pd.DataFrame:
    """For every document in a pair, its most similar partner (ties: smallest URL)."""
    left = np.concatenate([p[0] for p in pair_sets]).astype(np.int64)
    right = np.concatenate([p[1] for p in pair_sets]).astype(np.int64)
    similarity = np.concatenate([p[2] for p in pair_sets])
    if len(left) == 0:
        return _empty_duplicates()
    both = pd.DataFrame(
        {
            "url": pd.Series(urls[np.concatenate([left, right])], dtype="str"),
            "duplicate_of": pd.Series(urls[np.concatenate([right, left])], dtype="str"),
            "similarity": np.concatenate([similarity, similarity]),
        }
    )
    both = both[both["url"] != both["duplicate_of"]]
    best = both.sort_values(
        ["similarity", "duplicate_of"], ascending=[False, True], kind="stable"
    ).drop_duplicates("url")
    best["similarity"] = best["similarity"].round(2)
    return best.sort_values(["similarity", "url"], ascending=[False, True]).reset_index(drop=True)
