"""Off-topic thresholds from the site's own similarity distribution: the calibration
(nearest pages against stable pseudo-random pages, equal-error cut, fallback for small
sites), Otsu's threshold, and the neighbourhood test (similarity profiles and two-step
bridges) with its own calibrated cut. See docs/relevance.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse, special

from linkaudit.analysis.topics.vectors import (
    CHUNK_ROWS,
    ReferenceSimilarities,
    language_codes,
)

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
REFERENCE_PAGES = 3000  # pages a neighbourhood is measured against, at most


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
    profiled: bool = True  # False: profile_threshold not computed yet (see with_profile)

    def thresholds(self, same_language: np.ndarray) -> np.ndarray:
        """The threshold that applies to each pair."""
        return np.where(same_language, self.threshold, self.cross_language_threshold)

    @property
    def strong_threshold(self) -> float:
        """Below this a link is off-topic even between pages of the same cluster."""
        limit = STRONG_FACTOR * self.threshold
        return limit if self.unrelated_median is None else min(limit, self.unrelated_median)


# ------------------------------------------------------------------------ thresholds


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


# ----------------------------------------------------------------------- calibration


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
    every_page = ReferenceSimilarities(tfidf, lsa, None, max_bytes=0)
    for chunk, sims in every_page.in_chunks(rows):
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
    similarities: ReferenceSimilarities | None = None,
    profiled: bool = True,
) -> Calibration:
    """Off-topic thresholds from the site's own similarities.

    Each page's similarities to its nearest pages stand for "related", its similarities to
    pseudo-random pages (:class:`StableSampler`, keyed on ``urls``) for "unrelated"; the
    threshold is the cut that best separates the two samples
    (:func:`equal_error_threshold`). Pages in different languages share few words, so
    pairs across languages get their own threshold, from their own samples.
    ``profiled=False`` leaves ``profile_threshold`` None (:func:`with_profile` adds it).
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
    calibration = Calibration(
        threshold=thresholds["same"],
        cross_language_threshold=thresholds["cross"] or thresholds["same"],
        method="site",
        related_median=float(np.median(related)),
        unrelated_median=float(np.median(unrelated)),
        profiled=False,
    )
    return _profiled(calibration, tfidf, lsa, langs_array, pages, sampler, similarities) \
        if profiled else calibration


def with_profile(calibration: Calibration, tfidf: sparse.csr_matrix, lsa: np.ndarray,
                 langs: Sequence[str], urls: Sequence[str],
                 similarities: ReferenceSimilarities | None = None) -> Calibration:
    """``calibration`` (of :func:`calibrate` with ``profiled=False``, for the same pages)
    with its profile threshold."""
    if calibration.profiled:
        return calibration
    sampler = StableSampler.for_urls(urls)  # 0.9 s for 100,000 URLs: made once a call
    return _profiled(calibration, tfidf, lsa, np.array(langs, dtype=object),
                     sampler.subsample(CALIBRATION_PAGES), sampler, similarities)


def _profiled(calibration: Calibration, tfidf: sparse.csr_matrix, lsa: np.ndarray,
              langs: np.ndarray, pages: np.ndarray, sampler: StableSampler,
              similarities: ReferenceSimilarities | None) -> Calibration:
    return replace(calibration, profiled=True, profile_threshold=_profile_threshold(
        tfidf, lsa, langs, pages, sampler, similarities))


# -------------------------------------------------------------------- neighbourhoods


def neighbourhood(
    tfidf: sparse.csr_matrix,
    lsa: np.ndarray,
    langs: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    similarities: ReferenceSimilarities | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(profile, bridge) of each page pair rows[i], cols[i], from the pages of rows[i]'s
    language other than the two:

    - profile: Pearson correlation of the two pages' similarities to those pages. Two
      pages about one broad subject are close to and far from the same pages even when
      they share few words; a page and an unrelated money page have opposite profiles.
    - bridge: the best two-step path, max over pages p of min(sim(a, p), sim(p, b)).

    NaN where fewer than MIN_NEIGHBOURHOOD_PAGES pages are left. Computed in chunks of
    pairs: memory stays at (chunk x pages). On a site of more than REFERENCE_PAGES pages,
    "those pages" are a fixed sample of REFERENCE_PAGES of them (the same for every pair),
    so the cost grows with the pairs, not with pairs x pages. Each page's similarities to
    those pages are computed once (``similarities``, shared with other calls when given).
    """
    if similarities is None:
        similarities = site_similarities(tfidf, lsa)
    reference = similarities.reference
    lang_codes = language_codes(langs)
    ref_langs = lang_codes if reference is None else lang_codes[reference]
    ref_ids = np.arange(len(langs)) if reference is None else reference
    profile, bridge = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    step = max(1, CHUNK_ROWS // 2)
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        r, c = rows[part], cols[part]
        pages, inverse = np.unique(np.concatenate([r, c]), return_inverse=True)
        sims = similarities.rows(pages)
        a, b = sims[inverse[: len(r)]], sims[inverse[len(r) :]]
        mask = (ref_langs[None, :] == lang_codes[r][:, None]) & (ref_ids[None, :] != r[:, None]) \
            & (ref_ids[None, :] != c[:, None])
        profile[part] = _masked_correlation(a, b, mask)
        bridge[part] = np.where(mask, np.minimum(a, b), -np.inf).max(axis=1)
        too_few = mask.sum(axis=1) < MIN_NEIGHBOURHOOD_PAGES
        profile[part][too_few] = np.nan
        bridge[part][too_few] = np.nan
    return profile, bridge


def site_similarities(tfidf: sparse.csr_matrix, lsa: np.ndarray) -> ReferenceSimilarities:
    """The similarity rows neighbourhoods of this site's pages are measured with."""
    return ReferenceSimilarities(tfidf, lsa, reference_pages(tfidf.shape[0]))


def reference_pages(n_pages: int) -> np.ndarray | None:
    """The pages neighbourhoods are measured against on a big site (sorted), or None for
    all of them."""
    if n_pages <= REFERENCE_PAGES:
        return None
    return np.sort(np.random.default_rng(0).choice(n_pages, REFERENCE_PAGES, replace=False))


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
    similarities: ReferenceSimilarities | None = None,
) -> float | None:
    """The cut between the profile correlations of each page with its nearest pages of
    its language and with as many random ones (:func:`equal_error_threshold`)."""
    # Each profile compares two rows of similarities to every page: a few hundred pages
    # give thousands of pairs, enough for the cut, at a fraction of the cost.
    pages = sampler.subsample(PROFILE_CALIBRATION_PAGES, pages)
    rows, related_cols, rows_random, random_cols = [], [], [], []
    every_page = ReferenceSimilarities(tfidf, lsa, None, max_bytes=0)
    for chunk, sims in every_page.in_chunks(pages):
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
        tfidf, lsa, langs, rows_array, np.array(related_cols + random_cols, dtype=int),
        similarities,
    )
    related, unrelated = profile[: len(rows)], profile[len(rows) :]
    return equal_error_threshold(related[~np.isnan(related)], unrelated[~np.isnan(unrelated)])
