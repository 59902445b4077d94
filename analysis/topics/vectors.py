"""Page vectors and their similarities: TF-IDF over stems (title and headings weighted up),
LSA smoothing (truncated SVD), and the blended cosine of page pairs, computed only for the
pairs or the few rows asked for so that large sites need no n x n matrix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from linkaudit.analysis.text import analyse

# Extra copies of title / h1 / sub-heading words: they state what a page is about.
TITLE_WEIGHT = 2
H1_WEIGHT = 1
HEADINGS_WEIGHT = 1

# relevance = TFIDF_SHARE * tfidf cosine + (1 - TFIDF_SHARE) * max(LSA cosine, 0)
TFIDF_SHARE = 0.8
MAX_LSA_COMPONENTS = 150
CHUNK_ROWS = 512
# Similarity rows to the reference pages kept for reuse (calibration and verdicts ask for
# the same pages again and again): at most this many bytes; beyond, the oldest go first.
CACHED_ROWS_BYTES = 128 * 2**20
# Dense similarity rows computed at a time: at most this many bytes of them (a chunk of
# 512 rows to 100,000 pages would be 400 MB, and its intermediate arrays several times that).
ROW_BLOCK_BYTES = 32 * 2**20
# Page pairs whose similarity is computed at a time (their rows are copied to multiply).
PAIR_CHUNK = 20_000
# ... and sparse rows copied at a time: the long pages of a real blog hold a thousand terms
# each, and 20,000 pairs of them were +400 MiB.
PAIR_NONZEROS = 2_000_000


# --------------------------------------------------------------------------- vectors


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def document_pairs(row: Mapping[str, object]) -> list[tuple[str, str]]:
    """(stem, surface) pairs of one page: main text plus weighted title and headings."""
    lang = str(row["lang"])
    pairs = analyse(str(row.get("text") or ""), lang)
    for field, weight in (
        ("title", TITLE_WEIGHT),
        ("h1", H1_WEIGHT),
        ("headings", HEADINGS_WEIGHT),
    ):
        pairs += analyse(str(row.get(field) or ""), lang) * weight
    return pairs


def display_map(counts: Mapping[tuple[str, str], int]) -> dict[str, str]:
    """stem -> the surface word most often written for it on the site (ties: alphabetical
    first), from the site's (stem, surface) counts."""
    best: dict[str, tuple[int, str]] = {}
    for (token, surface), n in counts.items():
        current = best.get(token)
        if current is None or (n, _negate(surface)) > (current[0], _negate(current[1])):
            best[token] = (n, surface)
    return {token: surface for token, (_, surface) in best.items()}


def _negate(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def fit_tfidf(token_lists: list[list[str]]) -> tuple[TfidfVectorizer | None, sparse.csr_matrix]:
    if not any(token_lists):
        return None, sparse.csr_matrix((len(token_lists), 0))
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm="l2")
    matrix = vectorizer.fit_transform(token_lists)
    return vectorizer, sparse.csr_matrix(matrix)


def _lsa_components(n_docs: int, n_terms: int) -> int:
    # About sqrt(pages) components: few enough to merge synonyms and related pages, enough
    # to keep a site's topics apart.
    return min(MAX_LSA_COMPONENTS, max(2, n_docs // 2), n_docs - 1, n_terms - 1)


def fit_lsa(tfidf: sparse.csr_matrix, random_state: int) -> tuple[TruncatedSVD | None, np.ndarray]:
    n_docs, n_terms = tfidf.shape
    components = _lsa_components(n_docs, n_terms)
    if components < 2:
        return None, np.zeros((n_docs, 0))
    svd = TruncatedSVD(n_components=components, random_state=random_state)
    return svd, normalize(svd.fit_transform(tfidf))


# ------------------------------------------------------------------------ similarity


NOISE_FLOOR = 1e-9


def blend(tfidf_cos: np.ndarray, lsa_cos: np.ndarray | None) -> np.ndarray:
    """Similarity in 0-1 from TF-IDF and LSA cosines (TF-IDF alone when there is no LSA).

    Below :data:`NOISE_FLOOR` it is 0: the cosine of two pages that share no word comes
    out of floating point as 1e-16 or so, and a threshold calibrated on such values would
    be noise (its exact value changes with the BLAS library).
    """
    if lsa_cos is None:
        blended = np.clip(tfidf_cos, 0.0, 1.0)
    else:
        blended = np.clip(TFIDF_SHARE * tfidf_cos
                          + (1 - TFIDF_SHARE) * np.clip(lsa_cos, 0.0, None), 0.0, 1.0)
    return np.where(blended < NOISE_FLOOR, 0.0, blended)


def pair_similarity(
    tfidf: sparse.csr_matrix, lsa: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Blended similarity of page rows[i] with page cols[i], without any n x n matrix."""
    tfidf_cos = paired_dots(tfidf, rows, tfidf, cols)
    lsa_cos = paired_dots(lsa, rows, lsa, cols) if lsa.shape[1] else None
    return blend(tfidf_cos, lsa_cos)


def paired_dots(left: sparse.csr_matrix | np.ndarray, left_rows: np.ndarray,
                right: sparse.csr_matrix | np.ndarray, right_rows: np.ndarray) -> np.ndarray:
    """Dot product of left[left_rows[i]] with right[right_rows[i]] for each i (sparse or
    dense rows), the rows copied PAIR_CHUNK pairs (and for sparse rows PAIR_NONZEROS
    stored values) at a time: 600,000 pairs of dense LSA rows copied at once would take
    1.3 GB."""
    out = np.zeros(len(left_rows))
    sizes = row_sizes(left, left_rows) + row_sizes(right, right_rows)
    for part in pair_chunks(sizes):
        out[part] = row_dots(left[left_rows[part]], right[right_rows[part]])
    return out


def row_sizes(matrix: sparse.csr_matrix | np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Stored values of each of ``rows`` of a CSR matrix (0 for the rows of a dense one)."""
    if not sparse.issparse(matrix):
        return np.zeros(len(rows), dtype=np.int64)
    return np.diff(matrix.indptr)[rows]


def pair_chunks(sizes: np.ndarray, budget: int | None = None) -> Iterator[slice]:
    """Consecutive slices of pairs, at most PAIR_CHUNK long and of at most ``budget``
    (default PAIR_NONZEROS) stored values in all, unless one pair alone holds more."""
    budget = PAIR_NONZEROS if budget is None else budget
    total = np.cumsum(sizes, dtype=np.int64)
    start = 0
    while start < len(sizes):
        before = total[start - 1] if start else 0
        stop = int(np.searchsorted(total, before + budget, side="right"))
        stop = min(max(stop, start + 1), start + PAIR_CHUNK, len(sizes))
        yield slice(start, stop)
        start = stop


def row_dots(a: sparse.spmatrix | np.ndarray, b: sparse.spmatrix | np.ndarray) -> np.ndarray:
    """Dot product of each row of ``a`` with the same row of ``b`` (sparse or dense)."""
    if sparse.issparse(a):
        return np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", a, b)


def blended_rows(tfidf_rows: sparse.csr_matrix, tfidf_t: sparse.csr_matrix,
                 lsa_rows: np.ndarray | None, lsa_t: np.ndarray | None) -> np.ndarray:
    """Dense blended similarities of some vectors (their TF-IDF and LSA rows) to the pages
    whose vectors are given transposed (``lsa_t`` None: TF-IDF alone)."""
    tfidf_cos = (tfidf_rows @ tfidf_t).toarray()
    lsa_cos = lsa_rows @ lsa_t if lsa_t is not None else None
    return blend(tfidf_cos, lsa_cos)


def language_codes(langs: object) -> np.ndarray:
    """Each page's language as a small integer: comparing strings cell by cell over
    pages x pages is slow."""
    return np.unique(np.asarray(langs, dtype=str), return_inverse=True)[1]


class ReferenceSimilarities:
    """Blended similarities of pages to a fixed set of reference pages (all pages when
    ``reference`` is None), each page's row computed once and kept within
    ``CACHED_ROWS_BYTES``.

    The reference side is transposed once instead of at every call.
    """

    def __init__(self, tfidf: sparse.csr_matrix, lsa: np.ndarray,
                 reference: np.ndarray | None, max_bytes: int = CACHED_ROWS_BYTES) -> None:
        self.tfidf, self.lsa, self.reference = tfidf, lsa, reference
        others_tfidf = tfidf if reference is None else tfidf[reference]
        self._tfidf_t = sparse.csr_matrix(others_tfidf.T)
        self._lsa_t = (lsa if reference is None else lsa[reference]).T if lsa.shape[1] else None
        width = tfidf.shape[0] if reference is None else len(reference)
        self.width = width
        self.chunk = row_chunk(width)  # rows to ask for at a time
        self._max_rows = max(self.chunk, max_bytes // max(8 * width, 1))
        self._rows: dict[int, np.ndarray] = {}

    def _compute(self, pages: np.ndarray) -> np.ndarray:
        return blended_rows(self.tfidf[pages], self._tfidf_t, self.lsa[pages], self._lsa_t)

    def in_chunks(self, pages: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(some of ``pages``, their rows), :attr:`chunk` pages at a time."""
        for part in chunks(pages, self.chunk):
            yield part, self.rows(part)

    def rows(self, pages: np.ndarray) -> np.ndarray:
        """(len(pages) x width) similarities of ``pages`` to the reference pages."""
        pages = np.asarray(pages, dtype=np.int64)
        if len(pages) == 0:
            return np.zeros((0, self.width))
        missing = np.array([p for p in np.unique(pages) if int(p) not in self._rows],
                           dtype=np.int64)
        fresh: dict[int, np.ndarray] = {}
        for part in chunks(missing, self.chunk):
            fresh.update(zip(part.tolist(), self._compute(part), strict=True))
        out = np.stack([fresh[p] if p in fresh else self._rows[p] for p in pages.tolist()])
        self._rows.update(fresh)  # kept for the next calls, the oldest dropped first
        while len(self._rows) > self._max_rows:
            del self._rows[next(iter(self._rows))]
        return out


def row_chunk(width: int) -> int:
    """How many dense similarity rows of ``width`` pages to compute at a time."""
    return max(16, min(CHUNK_ROWS, ROW_BLOCK_BYTES // max(8 * width, 1)))


def chunks(values: np.ndarray, size: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
