"""Topic model of a site: page vectors, topic clusters and the relevance of every link.

Pages become TF-IDF vectors over stems (title and h1 weighted up), smoothed by LSA
(truncated SVD). The relevance of a link is a blend of the TF-IDF and LSA cosines of its
source and target pages. Whether a link is off-topic is decided against the site's own
similarity distribution (see :func:`calibrate` and docs/relevance.md), never a fixed
number unless the caller passes one.

Everything scales to large sites: matrices are sparse, similarities are computed only for
the pairs asked for, and neighbour searches run in chunks of rows.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from scipy import sparse, special
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from analysis.text import analyse, available_languages, fold_accents, stopwords

# Extra copies of title / h1 / sub-heading words: they state what a page is about.
TITLE_WEIGHT = 2
H1_WEIGHT = 1
HEADINGS_WEIGHT = 1

# relevance = TFIDF_SHARE * tfidf cosine + (1 - TFIDF_SHARE) * max(LSA cosine, 0)
TFIDF_SHARE = 0.8
RULE = "a"
MAX_LSA_COMPONENTS = 150

MAX_CLUSTERS = 40
MIN_SILHOUETTE = 0.02  # below this no split of the site beats "one topic"
SILHOUETTE_SAMPLE = 3000

# Calibration needs enough pages to show a distribution; smaller sites use the fallback.
MIN_PAGES_FOR_CALIBRATION = 6
FALLBACK_THRESHOLD = 0.10
NEIGHBOURS_PER_PAGE = 3
# Random pages compared with each page for the "unrelated" profile sample (all when fewer).
RANDOM_PARTNERS = 50
MIN_CALIBRATION_PAIRS = 12
# Kolmogorov-Smirnov coefficient for 5 %: "related" must differ from random to be trusted.
KS_CRITICAL = 1.36
CALIBRATION_PAGES = 2000
PROFILE_CALIBRATION_PAGES = 500
# Inside one cluster a link is off-topic only when it is below both STRONG_FACTOR times the
# threshold and the similarity of a typical random pair of pages.
STRONG_FACTOR = 0.5
# Pages compared through their neighbourhoods need a few pages of their language around them.
MIN_NEIGHBOURHOOD_PAGES = 4

# A word on nearly every page of a site (its name, the prefix of every title, a
# byline) names no topic: it is kept out of topic labels and top terms.
LABEL_MAX_PAGE_SHARE = 0.9
MIN_PAGES_FOR_SHARE = 8
# Calendar words name no topic either (dates in titles and bylines).
CALENDAR_WORDS = frozenset("""
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
saturday sunday janvier fevrier février mars avril mai juin juillet aout août septembre
octobre novembre decembre décembre janv fevr févr avr juil sept oct nov dec déc lundi mardi
mercredi jeudi vendredi samedi dimanche januar februar märz maerz april juni juli oktober
dezember montag dienstag mittwoch donnerstag freitag samstag sonntag enero febrero marzo
abril mayo junio julio agosto septiembre octubre noviembre diciembre lunes martes miercoles
miércoles jueves viernes sabado sábado domingo
""".split())

# A sentence about the source page that describes the target bridges the two (see
# _clear_bridged): both cosines at this many times the off-topic threshold or more.
BRIDGE_FACTOR = 1.5

SUGGESTIONS = 3
CHUNK_ROWS = 512
TOP_TERMS = 5
LABEL_TERMS = 3
CLUSTER_TERMS = 8


@dataclass(frozen=True)
class Calibration:
    """The site's off-topic thresholds and where they came from."""

    threshold: float  # for pages in the same language
    cross_language_threshold: float  # for pages in different languages
    method: str  # "site" (the site's distribution) or "fallback" (too few pages)
    related_median: float | None = None  # same language: pages and their nearest pages
    unrelated_median: float | None = None  # same language: random page pairs
    # Same language, neighbourhood test (see neighbourhood()): the cut between the profile
    # correlations of related and random pairs; None when they cannot be told apart.
    profile_threshold: float | None = None

    def thresholds(self, same_language: np.ndarray) -> np.ndarray:
        """The threshold that applies to each pair."""
        return np.where(same_language, self.threshold, self.cross_language_threshold)

    @property
    def strong_threshold(self) -> float:
        """Below this a link is off-topic even between pages of the same cluster."""
        limit = STRONG_FACTOR * self.threshold
        return limit if self.unrelated_median is None else min(limit, self.unrelated_median)


@dataclass(frozen=True)
class TopicModel:
    """Vectors, clusters and calibration of one site's indexable pages."""

    urls: tuple[str, ...]
    langs: tuple[str, ...]
    titles: tuple[str, ...]  # title and h1 of each page: what the page says it is about
    index: Mapping[str, int]  # url -> row
    vectorizer: TfidfVectorizer | None  # None when the site has no content words
    tfidf: sparse.csr_matrix  # pages x terms, rows L2-normalised
    svd: TruncatedSVD | None  # None when the site is too small for LSA
    lsa: np.ndarray  # pages x components, rows L2-normalised (0 columns without LSA)
    terms: np.ndarray  # stem of each tfidf column
    doc_freq: np.ndarray  # pages using each term
    display: Mapping[str, str]  # stem -> its most frequent surface word on the site
    labels: np.ndarray  # cluster id of each page
    cluster_names: tuple[str, ...]
    cluster_terms: tuple[tuple[str, ...], ...]
    calibration: Calibration
    # True for the terms that name no topic (see nameless_terms): never in labels.
    nameless: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self.urls)


# --------------------------------------------------------------------------- vectors


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _document_pairs(row: Mapping[str, object]) -> list[tuple[str, str]]:
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


def display_map(pair_lists: Sequence[Sequence[tuple[str, str]]]) -> dict[str, str]:
    """stem -> the surface word most often written for it (ties: alphabetical first)."""
    counts = Counter(pair for pairs in pair_lists for pair in pairs)
    best: dict[str, tuple[int, str]] = {}
    for (token, surface), n in counts.items():
        current = best.get(token)
        if current is None or (n, _negate(surface)) > (current[0], _negate(current[1])):
            best[token] = (n, surface)
    return {token: surface for token, (_, surface) in best.items()}


def _negate(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def _fit_tfidf(token_lists: list[list[str]]) -> tuple[TfidfVectorizer | None, sparse.csr_matrix]:
    if not any(token_lists):
        return None, sparse.csr_matrix((len(token_lists), 0))
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm="l2")
    matrix = vectorizer.fit_transform(token_lists)
    return vectorizer, sparse.csr_matrix(matrix)


def _lsa_components(n_docs: int, n_terms: int) -> int:
    # About sqrt(pages) components: few enough to merge synonyms and related pages, enough
    # to keep a site's topics apart.
    return min(MAX_LSA_COMPONENTS, max(2, n_docs // 2), n_docs - 1, n_terms - 1)


def _fit_lsa(tfidf: sparse.csr_matrix, random_state: int) -> tuple[TruncatedSVD | None, np.ndarray]:
    n_docs, n_terms = tfidf.shape
    components = _lsa_components(n_docs, n_terms)
    if components < 2:
        return None, np.zeros((n_docs, 0))
    svd = TruncatedSVD(n_components=components, random_state=random_state)
    return svd, normalize(svd.fit_transform(tfidf))


# ------------------------------------------------------------------------ similarity


def blend(tfidf_cos: np.ndarray, lsa_cos: np.ndarray | None) -> np.ndarray:
    """Similarity in 0-1 from TF-IDF and LSA cosines (TF-IDF alone when there is no LSA)."""
    if lsa_cos is None:
        return np.clip(tfidf_cos, 0.0, 1.0)
    blended = TFIDF_SHARE * tfidf_cos + (1 - TFIDF_SHARE) * np.clip(lsa_cos, 0.0, None)
    return np.clip(blended, 0.0, 1.0)


def _pair_similarity(
    tfidf: sparse.csr_matrix, lsa: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Blended similarity of page rows[i] with page cols[i], without any n x n matrix."""
    if len(rows) == 0:
        return np.zeros(0)
    tfidf_cos = np.asarray(tfidf[rows].multiply(tfidf[cols]).sum(axis=1)).ravel()
    lsa_cos = np.einsum("ij,ij->i", lsa[rows], lsa[cols]) if lsa.shape[1] else None
    return blend(tfidf_cos, lsa_cos)


def _similarity_rows(tfidf: sparse.csr_matrix, lsa: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Dense (len(rows) x pages) blended similarities; callers keep ``rows`` small."""
    tfidf_cos = (tfidf[rows] @ tfidf.T).toarray()
    lsa_cos = lsa[rows] @ lsa.T if lsa.shape[1] else None
    return blend(tfidf_cos, lsa_cos)


def _chunks(values: np.ndarray, size: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def similarity(model: TopicModel, sources: Sequence[str], targets: Sequence[str]) -> np.ndarray:
    """Blended similarity of each (source, target) URL pair; NaN where a URL is unknown."""
    rows = np.array([model.index.get(u, -1) for u in sources], dtype=int)
    cols = np.array([model.index.get(u, -1) for u in targets], dtype=int)
    known = (rows >= 0) & (cols >= 0)
    result = np.full(len(rows), np.nan)
    result[known] = _pair_similarity(model.tfidf, model.lsa, rows[known], cols[known])
    return result


# ------------------------------------------------------------------------ clustering


def _candidate_ks(n_pages: int) -> list[int]:
    ks = [*range(2, 11), 12, 15, 20, 25, 30, MAX_CLUSTERS]
    # A topic needs about three pages on average: beyond that, the silhouette of a small
    # site rewards splitting it into pairs.
    return [k for k in ks if k <= n_pages // 3]


def _cluster(
    vectors: np.ndarray,
    tfidf: sparse.csr_matrix,
    n_topics: int | None,
    random_state: int,
) -> np.ndarray:
    """Cluster ids from k-means on the LSA ``vectors``; k given, or chosen by the cosine
    silhouette measured on the TF-IDF vectors (one cluster if no split is good enough).

    The silhouette is taken in TF-IDF space because LSA has few dimensions on small sites
    and would reward splitting them into as many clusters as it has components.
    """
    n_pages = vectors.shape[0]
    if n_topics is not None:
        k = max(1, min(n_topics, n_pages))
        return _kmeans(vectors, k, random_state) if k > 1 else np.zeros(n_pages, dtype=int)
    best_labels, best_score = np.zeros(n_pages, dtype=int), MIN_SILHOUETTE
    for k in _candidate_ks(n_pages):
        labels = _kmeans(vectors, k, random_state)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(
            tfidf,
            labels,
            metric="cosine",
            sample_size=min(n_pages, SILHOUETTE_SAMPLE),
            random_state=random_state,
        )
        if score > best_score:
            best_labels, best_score = labels, score
    return best_labels


def _cluster_by_language(
    vectors: np.ndarray,
    tfidf: sparse.csr_matrix,
    langs: Sequence[str],
    n_topics: int | None,
    random_state: int,
) -> np.ndarray:
    """Cluster each language's pages on their own (pages in different languages share few
    words, so a joint clustering would mostly split the site by language). A fixed
    ``n_topics`` clusters the whole site at once."""
    if n_topics is not None:
        return _cluster(vectors, tfidf, n_topics, random_state)
    languages = np.array(langs, dtype=object)
    labels = np.zeros(len(languages), dtype=int)
    next_id = 0
    for lang in sorted(set(languages)):
        members = np.flatnonzero(languages == lang)
        own = _cluster(vectors[members], tfidf[members], None, random_state)
        labels[members] = own + next_id
        next_id += own.max() + 1
    return _renumber(labels)


def _kmeans(vectors: np.ndarray, k: int, random_state: int) -> np.ndarray:
    model = KMeans(n_clusters=k, n_init=4, random_state=random_state)
    with warnings.catch_warnings():
        # More clusters than distinct pages: k-means says so, the silhouette then rejects k.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _renumber(model.fit_predict(vectors))


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Number clusters by size (0 = largest), ties by first page, for stable reports."""
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], first[i]))
    mapping = {ids[i]: rank for rank, i in enumerate(order)}
    return np.array([mapping[x] for x in labels], dtype=int)


def _cluster_vectors(tfidf: sparse.csr_matrix, lsa: np.ndarray) -> np.ndarray:
    if lsa.shape[1]:
        return lsa
    return normalize(tfidf.toarray()) if tfidf.shape[1] else np.zeros((tfidf.shape[0], 1))


def nameless_terms(terms: np.ndarray, display: Mapping[str, str], doc_freq: np.ndarray,
                   n_pages: int) -> np.ndarray:
    """True for the terms that name no topic: stop words of any language (a page read in
    the wrong language keeps them), calendar words, and words on at least
    LABEL_MAX_PAGE_SHARE of the pages (the site's name, a prefix of every title)."""
    stop = frozenset().union(*(stopwords(lang) for lang in available_languages()))
    shown = [display.get(t, t).lower() for t in terms]
    common = (doc_freq >= LABEL_MAX_PAGE_SHARE * n_pages if n_pages >= MIN_PAGES_FOR_SHARE
              else np.zeros(len(terms), dtype=bool))
    words = np.array([w in stop or fold_accents(w) in stop or w in CALENDAR_WORDS
                      for w in shown], dtype=bool)
    return words | common


def _cluster_term_ids(tfidf: sparse.csr_matrix, labels: np.ndarray,
                      nameless: np.ndarray | None = None) -> list[np.ndarray]:
    """Per cluster, term columns ranked by how much more the cluster uses them than the site
    (terms that name no topic left out)."""
    if tfidf.shape[0] == 0:
        return []
    named = np.ones(tfidf.shape[1], dtype=bool) if nameless is None else ~nameless
    site_mean = np.asarray(tfidf.mean(axis=0)).ravel()
    ranked = []
    for cluster in range(labels.max() + 1 if len(labels) else 0):
        centroid = np.asarray(tfidf[labels == cluster].mean(axis=0)).ravel()
        lift = centroid - site_mean if labels.max() > 0 else centroid
        order = np.argsort(-lift, kind="stable")
        ranked.append(order[(centroid[order] > 0) & named[order]][:CLUSTER_TERMS])
    return ranked


# ----------------------------------------------------------------------- calibration


def otsu_threshold(values: np.ndarray, bins: int = 64) -> float | None:
    """Threshold between the two modes of ``values`` maximising between-class variance."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or np.ptp(values) <= 1e-9:
        return None
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mass_low = np.cumsum(counts * centres)
    mean_low = mass_low / np.maximum(weight_low, 1)
    mean_high = (mass_low[-1] - mass_low) / np.maximum(weight_high, 1)
    between = (weight_low * weight_high * (mean_low - mean_high) ** 2)[:-1]
    # Every cut inside an empty gap between the modes scores the same: take the gap's middle.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    return float((edges[best[0] + 1] + edges[best[-1] + 1]) / 2)


def equal_error_threshold(related: np.ndarray, unrelated: np.ndarray) -> float | None:
    """The cut that misplaces the smallest share of both samples: related values below it
    plus unrelated values at or above it (middle of the best cuts when several tie).

    None when the two samples are not told apart (two-sample Kolmogorov-Smirnov test at
    5 %): the "related" pairs are then no closer than random ones and say nothing.
    """
    values = np.unique(np.concatenate([related, unrelated]))
    if len(related) == 0 or len(unrelated) == 0 or len(values) < 2:
        return None
    cuts = (values[:-1] + values[1:]) / 2
    related_below = np.searchsorted(np.sort(related), cuts) / len(related)
    unrelated_above = 1 - np.searchsorted(np.sort(unrelated), cuts) / len(unrelated)
    errors = related_below + unrelated_above
    # 1 - errors is the gap between the two empirical distribution functions (KS statistic).
    critical = KS_CRITICAL * np.sqrt(
        (len(related) + len(unrelated)) / (len(related) * len(unrelated))
    )
    if 1 - errors.min() <= critical:
        return None
    return _smoothed_best_cut(related, unrelated)


def _smoothed_best_cut(related: np.ndarray, unrelated: np.ndarray, points: int = 1024) -> float:
    """The equal-error cut of the two samples' kernel-smoothed distribution functions.

    The empirical cut jumps from one sample value to another when a single page changes;
    smoothing each sample with a Gaussian kernel (Silverman's bandwidth) makes the cut move
    only as much as the distributions do, so two crawls of an almost unchanged site get
    almost the same threshold.
    """
    low = min(related.min(), unrelated.min())
    high = max(related.max(), unrelated.max())
    grid = np.linspace(low, high, points)
    errors = _smooth_cdf(related, grid) + 1 - _smooth_cdf(unrelated, grid)
    best = np.flatnonzero(errors <= errors.min() + 1e-12)
    return float(grid[best[len(best) // 2]])


def _smooth_cdf(sample: np.ndarray, grid: np.ndarray, chunk: int = 4096) -> np.ndarray:
    spread = sample.std() or 1e-3
    bandwidth = max(1.06 * spread * len(sample) ** -0.2, 1e-4)
    cdf = np.zeros(len(grid))
    for start in range(0, len(sample), chunk):
        part = sample[start:start + chunk]
        cdf += special.ndtr((grid[:, None] - part[None, :]) / bandwidth).sum(axis=1)
    return cdf / len(sample)


def _pair_samples(
    tfidf: sparse.csr_matrix,
    lsa: np.ndarray,
    langs: np.ndarray,
    rows: np.ndarray,
    sampler: StableSampler,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per regime ("same" / "cross" language), similarities of the pages in ``rows`` to
    their nearest pages of that regime (related) and to as many random pages (unrelated)."""
    samples: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {
        "same": ([], []),
        "cross": ([], []),
    }
    for chunk in _chunks(rows):
        sims = _similarity_rows(tfidf, lsa, chunk)
        same_language = langs[chunk][:, None] == langs[None, :]
        same_language[np.arange(len(chunk)), chunk] = False  # a page is not its own pair
        not_self = np.ones_like(same_language)
        not_self[np.arange(len(chunk)), chunk] = False
        for regime, allowed in (("same", same_language), ("cross", ~same_language & not_self)):
            for page, row_sims, row_allowed in zip(chunk, sims, allowed, strict=True):
                positions = np.flatnonzero(row_allowed)
                if len(positions) == 0:
                    continue
                candidates = row_sims[positions]
                k = min(NEIGHBOURS_PER_PAGE, len(candidates))
                samples[regime][0].append(-np.sort(-candidates)[:k])
                samples[regime][1].append(candidates[sampler.pick(page, positions, k)])
    return {
        regime: (
            np.concatenate(related) if related else np.zeros(0),
            np.concatenate(unrelated) if unrelated else np.zeros(0),
        )
        for regime, (related, unrelated) in samples.items()
    }


class StableSampler:
    """Pseudo-random choices that stay put when the site changes a little.

    Each page pair gets a priority from a hash of the two pages' keys (hashes of their
    paths), and a page's "random" partners are the candidates of lowest priority
    (rendezvous hashing). Removing or adding one page changes only the samples that
    involved it, so the calibrated thresholds of two crawls of an almost unchanged site
    stay almost the same, and scheduled comparisons do not report verdicts that flipped
    only because a random draw did.
    """

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys.astype(np.uint64)

    @classmethod
    def for_urls(cls, urls: Sequence[str]) -> StableSampler:
        return cls(np.array([_path_key(url) for url in urls], dtype=np.uint64))

    def priorities(self, row: int, candidates: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            mixed = self.keys[candidates] ^ (self.keys[row] * np.uint64(0x9E3779B97F4A7C15))
        return _splitmix64(mixed)

    def pick(self, row: int, candidates: np.ndarray, k: int) -> np.ndarray:
        """Positions (in ``candidates``) of ``k`` stable pseudo-random candidates."""
        if k >= len(candidates):
            return np.arange(len(candidates))
        return np.argpartition(self.priorities(row, candidates), k)[:k]

    def subsample(self, limit: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Up to ``limit`` of ``rows`` (default: every page), the same ones whatever other
        pages come and go."""
        rows = np.arange(len(self.keys)) if rows is None else rows
        if len(rows) <= limit:
            return rows
        return np.sort(rows[np.argpartition(_splitmix64(self.keys[rows]), limit)[:limit]])


def _path_key(url: str) -> int:
    parts = urlsplit(url)
    digest = hashlib.blake2b(f"{parts.path}?{parts.query}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: spreads any change of the input over all 64 bits."""
    x = values.astype(np.uint64)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _random_partners(page: int, candidates: np.ndarray, sampler: StableSampler) -> np.ndarray:
    """The "unrelated" profile sample of one page: every candidate on small sites,
    RANDOM_PARTNERS stable pseudo-random ones beyond."""
    if len(candidates) <= RANDOM_PARTNERS:
        return candidates
    return candidates[sampler.pick(page, candidates, RANDOM_PARTNERS)]


def calibrate(
    tfidf: sparse.csr_matrix,
    lsa: np.ndarray,
    langs: Sequence[str] | None = None,
    urls: Sequence[str] | None = None,
) -> Calibration:
    """Off-topic thresholds from the site's own similarities.

    Each page's similarities to its nearest pages stand for "related", its similarities to
    pseudo-random pages (:class:`StableSampler`, keyed on ``urls``) for "unrelated"; the
    threshold is the cut that best separates the two samples
    (:func:`equal_error_threshold`). Pages in different languages share few words, so
    pairs across languages get their own threshold, from their own samples.
    """
    n_pages = tfidf.shape[0]
    langs_array = np.array(langs if langs is not None else ["und"] * n_pages, dtype=object)
    if n_pages < MIN_PAGES_FOR_CALIBRATION or tfidf.shape[1] == 0:
        return Calibration(FALLBACK_THRESHOLD, FALLBACK_THRESHOLD, "fallback")
    sampler = StableSampler.for_urls(urls if urls is not None else
                                     [f"/{i}" for i in range(n_pages)])
    pages = sampler.subsample(CALIBRATION_PAGES)
    samples = _pair_samples(tfidf, lsa, langs_array, pages, sampler)
    thresholds = {
        regime: equal_error_threshold(related, unrelated)
        if min(len(related), len(unrelated)) >= MIN_CALIBRATION_PAIRS
        else None
        for regime, (related, unrelated) in samples.items()
    }
    if thresholds["same"] is None:
        return Calibration(FALLBACK_THRESHOLD, FALLBACK_THRESHOLD, "fallback")
    related, unrelated = samples["same"]
    return Calibration(
        threshold=thresholds["same"],
        cross_language_threshold=thresholds["cross"] or thresholds["same"],
        method="site",
        related_median=float(np.median(related)),
        unrelated_median=float(np.median(unrelated)),
        profile_threshold=_profile_threshold(tfidf, lsa, langs_array, pages, sampler),
    )


# --------------------------------------------------------------------- neighbourhoods


def neighbourhood(
    tfidf: sparse.csr_matrix,
    lsa: np.ndarray,
    langs: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(profile, bridge) of each page pair rows[i], cols[i], from the pages of rows[i]'s
    language other than the two:

    - profile: Pearson correlation of the two pages' similarities to those pages. Two
      pages about one broad subject are close to and far from the same pages even when
      they share few words; a page and an unrelated money page have opposite profiles.
    - bridge: the best two-step path, max over pages p of min(sim(a, p), sim(p, b)).

    NaN where fewer than MIN_NEIGHBOURHOOD_PAGES pages are left. Computed in chunks of
    pairs: memory stays at (chunk x pages).
    """
    profile, bridge = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    step = max(1, CHUNK_ROWS // 2)
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        r, c = rows[part], cols[part]
        pages, inverse = np.unique(np.concatenate([r, c]), return_inverse=True)
        sims = _similarity_rows(tfidf, lsa, pages)
        a, b = sims[inverse[: len(r)]], sims[inverse[len(r) :]]
        mask = langs[None, :] == langs[r][:, None]
        mask[np.arange(len(r)), r] = False
        mask[np.arange(len(r)), c] = False
        profile[part] = _masked_correlation(a, b, mask)
        bridge[part] = np.where(mask, np.minimum(a, b), -np.inf).max(axis=1)
        too_few = mask.sum(axis=1) < MIN_NEIGHBOURHOOD_PAGES
        profile[part][too_few] = np.nan
        bridge[part][too_few] = np.nan
    return profile, bridge


def _masked_correlation(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of a and b over the True cells of mask (0 if flat)."""
    count = np.maximum(mask.sum(axis=1), 1)
    a_centred = np.where(mask, a - (a * mask).sum(axis=1)[:, None] / count[:, None], 0.0)
    b_centred = np.where(mask, b - (b * mask).sum(axis=1)[:, None] / count[:, None], 0.0)
    norms = np.sqrt((a_centred**2).sum(axis=1) * (b_centred**2).sum(axis=1))
    dots = (a_centred * b_centred).sum(axis=1)
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 1e-12)


def _profile_threshold(
    tfidf: sparse.csr_matrix,
    lsa: np.ndarray,
    langs: np.ndarray,
    pages: np.ndarray,
    sampler: StableSampler,
) -> float | None:
    """The cut between the profile correlations of each page with its nearest pages of
    its language and with as many random ones (:func:`equal_error_threshold`)."""
    # Each profile compares two rows of similarities to every page: a few hundred pages
    # give thousands of pairs, enough for the cut, at a fraction of the cost.
    pages = sampler.subsample(PROFILE_CALIBRATION_PAGES, pages)
    rows, related_cols, rows_random, random_cols = [], [], [], []
    for chunk in _chunks(pages):
        sims = _similarity_rows(tfidf, lsa, chunk)
        for page, row_sims in zip(chunk, sims, strict=True):
            candidates = np.flatnonzero(langs == langs[page])
            candidates = candidates[candidates != page]
            if len(candidates) < MIN_NEIGHBOURHOOD_PAGES:
                continue
            order = np.lexsort((candidates, -row_sims[candidates]))
            k = min(NEIGHBOURS_PER_PAGE, len(candidates))
            rows += [page] * k
            related_cols += list(candidates[order[:k]])
            partners = _random_partners(page, candidates, sampler)
            rows_random += [page] * len(partners)
            random_cols += list(partners)
    if len(rows) < MIN_CALIBRATION_PAIRS:
        return None
    rows_array = np.array(rows + rows_random, dtype=int)
    profile, _ = neighbourhood(
        tfidf, lsa, langs, rows_array, np.array(related_cols + random_cols, dtype=int)
    )
    related, unrelated = profile[: len(rows)], profile[len(rows) :]
    return equal_error_threshold(related[~np.isnan(related)], unrelated[~np.isnan(unrelated)])


# ----------------------------------------------------------------------------- build


def build_topic_model(
    docs: pd.DataFrame, n_topics: int | None = None, random_state: int = 0
) -> TopicModel:
    """Fit the site's topic model on :func:`analysis.text.page_documents` output.

    ``n_topics`` fixes the number of clusters; by default it is chosen by silhouette.
    """
    docs = docs.drop_duplicates("url").reset_index(drop=True)
    pair_lists = [_document_pairs(row) for row in docs.to_dict("records")]
    vectorizer, tfidf = _fit_tfidf([[t for t, _ in pairs] for pairs in pair_lists])
    svd, lsa = _fit_lsa(tfidf, random_state) if tfidf.shape[1] else (None, np.zeros((len(docs), 0)))
    terms = vectorizer.get_feature_names_out() if vectorizer else np.array([], dtype=object)
    display = display_map(pair_lists)
    labels = (
        _cluster_by_language(
            _cluster_vectors(tfidf, lsa),
            tfidf,
            list(docs["lang"].astype(str)),
            n_topics,
            random_state,
        )
        if tfidf.shape[1]
        else np.zeros(len(docs), dtype=int)
    )
    doc_freq = np.bincount(tfidf.indices, minlength=tfidf.shape[1])
    nameless = nameless_terms(terms, display, doc_freq, len(docs))
    term_ids = _cluster_term_ids(tfidf, labels, nameless)
    cluster_terms = tuple(tuple(display.get(terms[i], terms[i]) for i in ids) for ids in term_ids)
    return TopicModel(
        urls=tuple(docs["url"]),
        langs=tuple(docs["lang"].astype(str)),
        titles=tuple(_titles(docs)),
        index={url: i for i, url in enumerate(docs["url"])},
        vectorizer=vectorizer,
        tfidf=tfidf,
        svd=svd,
        lsa=lsa,
        terms=terms,
        doc_freq=doc_freq,
        display=display,
        labels=labels,
        cluster_names=_cluster_names(cluster_terms),
        cluster_terms=cluster_terms,
        calibration=calibrate(tfidf, lsa, list(docs["lang"].astype(str)),
                              list(docs["url"].astype(str))),
        nameless=nameless,
    )


def _titles(docs: pd.DataFrame) -> list[str]:
    parts = [docs[c].fillna("").astype(str) if c in docs else "" for c in ("title", "h1")]
    return list(parts[0] + "\n" + parts[1]) if len(docs) else []


def _cluster_names(cluster_terms: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """'a / b / c' from each cluster's top terms; one more term while two names collide."""
    names: list[str] = []
    for terms in cluster_terms:
        size = LABEL_TERMS
        name = " / ".join(terms[:size]) or "(no content)"
        while name in names and size < len(terms):
            size += 1
            name = " / ".join(terms[:size])
        names.append(name)
    return tuple(names)


# ---------------------------------------------------------------------------- topics


def top_terms(model: TopicModel, row: int, count: int = TOP_TERMS) -> list[str]:
    """The page's highest-weighted terms as readable words.

    Terms the page shares with at least one other page come first: a word found on one page
    only (often a title word such as "understanding") names no topic.
    """
    start, end = model.tfidf.indptr[row], model.tfidf.indptr[row + 1]
    cols, weights = model.tfidf.indices[start:end], model.tfidf.data[start:end]
    if model.vectorizer is not None:
        # Full IDF lets a word used twice on one page outrank the word the page is about
        # (used thirty times, but also named by the pages around it): halve its say.
        weights = weights / np.sqrt(model.vectorizer.idf_[cols])
    if model.nameless is not None:
        named = ~model.nameless[cols]
        cols, weights = cols[named], weights[named]
    unique_to_page = model.doc_freq[cols] < 2
    order = np.lexsort((cols, -weights, unique_to_page))[:count]
    return [model.display.get(model.terms[c], model.terms[c]) for c in cols[order]]


def page_topics(model: TopicModel) -> pd.DataFrame:
    """One row per page: url, lang, topic_id, topic (cluster label), top_terms."""
    return pd.DataFrame(
        {
            "url": list(model.urls),
            "lang": list(model.langs),
            "topic_id": model.labels.astype(int),
            "topic": [model.cluster_names[c] for c in model.labels],
            "top_terms": [", ".join(top_terms(model, i)) for i in range(model.size)],
        }
    )


def clusters(model: TopicModel) -> pd.DataFrame:
    """One row per topic cluster: topic_id, topic, size, terms."""
    sizes = np.bincount(model.labels, minlength=len(model.cluster_names))
    return pd.DataFrame(
        {
            "topic_id": range(len(model.cluster_names)),
            "topic": list(model.cluster_names),
            "size": sizes.astype(int),
            "terms": [", ".join(terms) for terms in model.cluster_terms],
        }
    )


# -------------------------------------------------------------------------- links


def _rows_of(model: TopicModel, urls: pd.Series) -> np.ndarray:
    return np.array([model.index.get(u, -1) if isinstance(u, str) else -1 for u in urls], int)


def off_topic_mask(
    model: TopicModel,
    rows: np.ndarray,
    cols: np.ndarray,
    sims: np.ndarray,
    threshold: float | None = None,
) -> np.ndarray:
    """True where page cols[i] is off-topic for page rows[i].

    With ``threshold`` given: similarity below it. Otherwise the site calibration. Pages in
    different languages: below the cross-language threshold. Pages in the same language:
    below the calibrated threshold *and* unrelated through their neighbourhoods (their
    similarity profiles over the site's pages differ and no page bridges them, see
    :func:`neighbourhood`); where the neighbourhood cannot be judged (small site, profile
    not calibrated), the older rule: another topic cluster, or below the calibration's
    ``strong_threshold``. A page is never off-topic for itself.
    """
    if threshold is not None:
        return (sims < threshold) & (rows != cols)
    languages = np.array(model.langs, dtype=object)
    same_language = languages[rows] == languages[cols]
    below = sims < model.calibration.thresholds(same_language)
    other_cluster = model.labels[rows] != model.labels[cols]
    clustered = (below & other_cluster) | (sims < model.calibration.strong_threshold)
    # Clusters are made per language, so across languages only the similarity counts.
    off = np.where(same_language, clustered, below)
    candidates = np.flatnonzero(same_language & below & (rows != cols))
    calibration = model.calibration
    if len(candidates) and calibration.profile_threshold is not None:
        profile, bridge = neighbourhood(
            model.tfidf, model.lsa, languages, rows[candidates], cols[candidates]
        )
        judged = ~np.isnan(profile)
        related = (profile >= calibration.profile_threshold) | (
            bridge >= (calibration.related_median or np.inf)
        )
        off[candidates[judged]] = ~related[judged]
    return off & (rows != cols)


def _shared_terms(model: TopicModel, rows: np.ndarray, cols: np.ndarray) -> list[list[str]]:
    """Per pair, the terms contributing most to the two pages' TF-IDF cosine."""
    if len(rows) == 0 or model.tfidf.shape[1] == 0:
        return [[] for _ in rows]
    products = sparse.csr_matrix(model.tfidf[rows].multiply(model.tfidf[cols]))
    shared = []
    for i in range(products.shape[0]):
        start, end = products.indptr[i], products.indptr[i + 1]
        cols_i, weights = products.indices[start:end], products.data[start:end]
        order = np.lexsort((cols_i, -weights))[:LABEL_TERMS]
        shared.append([model.display.get(model.terms[c], model.terms[c]) for c in cols_i[order]])
    return shared


def _explanations(
    model: TopicModel,
    rows: np.ndarray,
    cols: np.ndarray,
    sims: np.ndarray,
    off: np.ndarray,
    threshold: float | None,
) -> list[str]:
    page_terms: dict[int, str] = {}

    def terms_of(row: int) -> str:
        if row not in page_terms:
            page_terms[row] = ", ".join(top_terms(model, row, LABEL_TERMS)) or "(no content)"
        return page_terms[row]

    limit = threshold if threshold is not None else model.calibration.threshold
    texts = []
    for row, col, sim, is_off, shared in zip(
        rows, cols, sims, off, _shared_terms(model, rows, cols), strict=True
    ):
        text = (
            f"source topic: {terms_of(row)}; target topic: {terms_of(col)}; "
            f"shared terms: {', '.join(shared) or 'none'}"
        )
        if is_off:
            text += f"; relevance {sim:.2f} below {limit:.2f}"
            if model.labels[row] != model.labels[col]:
                text += (
                    f" and different topics ({model.cluster_names[model.labels[row]]}"
                    f" vs {model.cluster_names[model.labels[col]]})"
                )
        texts.append(text)
    return texts


def _suggestions(
    model: TopicModel,
    rows: np.ndarray,
    cols: np.ndarray,
    off: np.ndarray,
    threshold: float | None,
) -> dict[int, list[str]]:
    """source row -> up to SUGGESTIONS URLs most similar to it and above the off-topic
    threshold, excluding the source and the targets it links to off-topic."""
    bad_targets: dict[int, set[int]] = {}
    for row, col in zip(rows[off], cols[off], strict=True):
        bad_targets.setdefault(int(row), set()).add(int(col))
    sources = np.array(sorted(bad_targets), dtype=int)
    everyone = np.arange(model.size)
    found: dict[int, list[str]] = {}
    for chunk in _chunks(sources):
        sims = _similarity_rows(model.tfidf, model.lsa, chunk)
        for source, row_sims in zip(chunk, sims, strict=True):
            # Only pages at least as close as the off-topic threshold are suggested.
            rejected = row_sims < _limits(model, source, everyone, threshold)
            rejected[[source, *bad_targets[int(source)]]] = True
            found[int(source)] = [model.urls[i] for i in _best(row_sims, ~rejected)]
    return found


def _limits(
    model: TopicModel, source: int, pages: np.ndarray, threshold: float | None
) -> np.ndarray:
    """The similarity each page needs to be on-topic for ``source``, by language."""
    if threshold is not None:
        return np.full(len(pages), threshold)
    languages = np.array(model.langs, dtype=object)
    return model.calibration.thresholds(languages[pages] == languages[source])


def _best(sims: np.ndarray, allowed: np.ndarray, count: int = SUGGESTIONS) -> np.ndarray:
    """Indices of the ``count`` highest allowed similarities, best first (ties: lower index),
    without sorting the whole row."""
    candidates = np.flatnonzero(allowed)
    if len(candidates) > count:
        top = np.argpartition(-sims[candidates], count - 1)[:count]
        threshold = sims[candidates[top]].min()
        candidates = candidates[sims[candidates] >= threshold]  # keep ties for a stable order
    order = np.lexsort((candidates, -sims[candidates]))
    return candidates[order][:count]


def _wording_relevance(
    model: TopicModel,
    links: pd.DataFrame,
    rows: np.ndarray,
    pages: np.ndarray,
    wording: Callable[[str, str], str],
) -> pd.Series:
    """Cosine, in the site's TF-IDF space, of ``wording(anchor, context)`` of each link
    (read in the language of page rows[i]) with page pages[i]; <NA> where either is unknown."""
    result = pd.Series(pd.NA, index=links.index, dtype="Float64")
    if model.vectorizer is None:
        return result
    anchors = links.get("anchor", pd.Series("", index=links.index)).fillna("").astype(str)
    contexts = links.get("context", pd.Series("", index=links.index)).fillna("").astype(str)
    known = np.flatnonzero((rows >= 0) & (pages >= 0))
    if len(known) == 0:
        return result
    tokens = [
        [t for t, _ in analyse(wording(anchors.iat[i], contexts.iat[i]), model.langs[rows[i]])]
        for i in known
    ]
    vectors = model.vectorizer.transform(tokens)
    cosines = np.asarray(vectors.multiply(model.tfidf[pages[known]]).sum(axis=1)).ravel()
    result.iloc[known] = np.clip(cosines, 0.0, 1.0)
    return result


def _sentence_relevance(
    model: TopicModel, links: pd.DataFrame, rows: np.ndarray, pages: np.ndarray
) -> pd.Series:
    """Cosine of the link's sentence, its anchor left out, with page ``pages[i]``."""
    return _wording_relevance(model, links, rows, pages,
                              lambda anchor, context: context.replace(anchor, " "))


def _anchor_relevance(
    model: TopicModel, links: pd.DataFrame, rows: np.ndarray, cols: np.ndarray
) -> pd.Series:
    """Cosine of the link's anchor + context sentence with the target page (in the site's
    TF-IDF space): does the wording around the link describe the page it leads to?"""
    return _wording_relevance(model, links, rows, cols,
                              lambda anchor, context: f"{anchor}\n{context}")


def link_relevance(
    model: TopicModel, links: pd.DataFrame, threshold: float | None = None
) -> pd.DataFrame:
    """``links`` (source, target, optional anchor/context) plus relevance, off_topic, why,
    suggested_targets and anchor_relevance.

    Rows whose source or target is not a page of the model get relevance <NA>, off_topic
    False and empty why / suggested_targets. ``threshold`` replaces the site calibration.
    """
    out = links.copy()
    rows, cols = _rows_of(model, out["source"]), _rows_of(model, out["target"])
    known = (rows >= 0) & (cols >= 0)
    pairs, inverse = np.unique(
        np.stack([rows[known], cols[known]], axis=1), axis=0, return_inverse=True
    )
    pairs = pairs.reshape(-1, 2)
    inverse = np.asarray(inverse).ravel()
    pair_rows, pair_cols = pairs[:, 0], pairs[:, 1]
    sims = _pair_similarity(model.tfidf, model.lsa, pair_rows, pair_cols)
    off = off_topic_mask(model, pair_rows, pair_cols, sims, threshold)
    why = np.array(_explanations(model, pair_rows, pair_cols, sims, off, threshold), dtype=object)
    suggested = _suggestions(model, pair_rows, pair_cols, off, threshold)
    pair_suggestions = np.array(
        [
            " | ".join(suggested.get(int(r), [])) if o else ""
            for r, o in zip(pair_rows, off, strict=True)
        ],
        dtype=object,
    )
    relevance = np.full(len(out), np.nan)
    relevance[known] = sims[inverse]
    out["relevance"] = pd.array(np.round(relevance, 4), dtype="Float64")
    out.loc[~known, "relevance"] = pd.NA
    off_topic = np.zeros(len(out), dtype=bool)
    off_topic[known] = off[inverse]
    out["off_topic"] = off_topic
    out["why"] = _scatter(why, inverse, known)
    out["suggested_targets"] = _scatter(pair_suggestions, inverse, known)
    out["anchor_relevance"] = _anchor_relevance(model, out, rows, cols).round(4)
    _clear_bridged(model, out, rows, threshold)
    return out


def _clear_bridged(
    model: TopicModel, out: pd.DataFrame, rows: np.ndarray, threshold: float | None
) -> None:
    """Clear off_topic where the link's sentence makes the connection: the sentence (its
    anchor left out) is about the source page and the anchor with its sentence describes
    the target, both at BRIDGE_FACTOR times the off-topic threshold or more."""
    flagged = out["off_topic"].to_numpy(dtype=bool)
    if not flagged.any():
        return
    # Only flagged links can be cleared: their sentences are the only ones scored.
    picked = np.flatnonzero(flagged)
    to_source = np.zeros(len(out))
    to_source[picked] = _sentence_relevance(
        model, out.iloc[picked], rows[picked], rows[picked]).fillna(0).to_numpy(dtype=float)
    to_target = out["anchor_relevance"].fillna(0).to_numpy(dtype=float)
    limit = BRIDGE_FACTOR * (threshold if threshold is not None else model.calibration.threshold)
    bridged = flagged & (to_source >= limit) & (to_target >= limit)
    out.loc[bridged, "off_topic"] = False
    out.loc[bridged, "suggested_targets"] = ""
    out.loc[bridged, "why"] = out.loc[bridged, "why"] + (
        f"; not off-topic: the sentence around the link is about this page and names the "
        f"target (both at {limit:.2f} or more)")


def _scatter(pair_values: np.ndarray, inverse: np.ndarray, known: np.ndarray) -> pd.Series:
    values = np.full(len(known), "", dtype=object)
    values[known] = pair_values[inverse] if len(inverse) else []
    return pd.Series(values, dtype="string")
