"""The verdict on every link: its relevance, whether it is off-topic (calibration and
neighbourhood test), why, better targets to suggest, how well its anchor and sentence
describe the target, and the sentences that bridge an off-topic pair.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import sparse

from linkaudit.analysis.text import analyse
from linkaudit.analysis.topics.clustering import LABEL_TERMS
from linkaudit.analysis.topics.model import TopicModel, top_terms
from linkaudit.analysis.topics.thresholds import neighbourhood
from linkaudit.analysis.topics.vectors import (
    ReferenceSimilarities,
    language_codes,
    pair_chunks,
    pair_similarity,
    paired_dots,
    row_sizes,
)

# A sentence about the source page that describes the target bridges the two (see
# _clear_bridged): both cosines at this many times the off-topic threshold or more.
BRIDGE_FACTOR = 1.5

SUGGESTIONS = 3


# -------------------------------------------------------------------------- verdicts


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
            model.tfidf, model.lsa, languages, rows[candidates], cols[candidates],
            model.similarities,
        )
        judged = ~np.isnan(profile)
        related = (profile >= calibration.profile_threshold) | (
            bridge >= (calibration.related_median or np.inf)
        )
        off[candidates[judged]] = ~related[judged]
    return off & (rows != cols)


def _shared_terms(model: TopicModel, rows: np.ndarray, cols: np.ndarray) -> list[list[str]]:
    """Per pair, the terms contributing most to the two pages' TF-IDF cosine (ties: the
    lower term column first)."""
    if len(rows) == 0 or model.tfidf.shape[1] == 0:
        return [[] for _ in rows]
    names = np.array([model.display.get(t, t) for t in model.terms.tolist()], dtype=object)
    shared: list[list[str]] = []
    for part in pair_chunks(row_sizes(model.tfidf, rows) + row_sizes(model.tfidf, cols)):
        shared.extend(_top_products(model.tfidf, rows[part], cols[part], names))
    return shared


def _top_products(tfidf: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray,
                  names: np.ndarray) -> list[list[str]]:
    """The LABEL_TERMS largest term products of each pair, best first: the largest of
    every pair at once (a segment maximum), taken out, LABEL_TERMS times; no sort."""
    products = sparse.csr_matrix(tfidf[rows].multiply(tfidf[cols]))
    products.sort_indices()
    data, indptr = products.data.astype(float), products.indptr
    lengths = np.diff(indptr)
    pair_of = np.repeat(np.arange(len(rows)), lengths)
    filled = lengths > 0
    starts, filled_lengths = indptr[:-1][filled], lengths[filled]
    picked_pairs, picked_terms = [], []
    for _ in range(LABEL_TERMS):
        if len(data) == 0:
            break
        best = np.repeat(np.maximum.reduceat(data, starts), filled_lengths)
        positions = np.flatnonzero((data == best) & (best > -np.inf))
        if len(positions) == 0:
            break
        pairs = pair_of[positions]
        first = positions[np.r_[True, pairs[1:] != pairs[:-1]]]  # the lowest term of a tie
        picked_pairs.append(pair_of[first])
        picked_terms.append(products.indices[first])
        data[first] = -np.inf
    if not picked_pairs:
        return [[] for _ in rows]
    pairs, terms = np.concatenate(picked_pairs), np.concatenate(picked_terms)
    order = np.argsort(pairs, kind="stable")  # by pair, each pair's terms best first
    counts = np.bincount(pairs, minlength=len(rows))
    return [part.tolist() for part in np.split(names[terms[order]], np.cumsum(counts)[:-1])]


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
    # One text per distinct (source, target, verdict): a site links the same pages often.
    keys = np.stack([rows, cols, off.astype(np.int64)], axis=1) if len(rows) else \
        np.zeros((0, 3), dtype=np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    rows, cols, sims, off = rows[first], cols[first], sims[first], off[first]
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
    return [texts[i] for i in np.asarray(inverse).ravel()]


# ----------------------------------------------------------------------- suggestions


def _suggestions(
    model: TopicModel,
    rows: np.ndarray,
    cols: np.ndarray,
    off: np.ndarray,
    threshold: float | None,
) -> dict[int, list[str]]:
    """source row -> up to SUGGESTIONS URLs most similar to it and above the off-topic
    threshold, excluding the source and the targets it links to off-topic.

    The candidates are the pages of the source's suggestion pool (:func:`suggestion_pools`):
    on a large site its own topic and the nearest ones, not every page."""
    bad_targets: dict[int, set[int]] = {}
    for row, col in zip(rows[off], cols[off], strict=True):
        bad_targets.setdefault(int(row), set()).add(int(col))
    sources = np.array(sorted(bad_targets), dtype=int)
    codes = language_codes(model.langs)
    found: dict[int, list[str]] = {}
    pools = suggestion_pools(model)
    pool_of = np.zeros(model.size, dtype=int) if pools is None else model.labels
    for pool_id in np.unique(pool_of[sources]) if len(sources) else []:
        pool = np.arange(model.size) if pools is None else pools[int(pool_id)]
        reference = ReferenceSimilarities(model.tfidf, model.lsa,
                                          None if pools is None else pool, max_bytes=0)
        members = sources[pool_of[sources] == pool_id]
        for chunk, sims in reference.in_chunks(members):
            for source, row_sims in zip(chunk, sims, strict=True):
                # Only pages at least as close as the off-topic threshold are suggested.
                limits = np.full(len(pool), threshold) if threshold is not None else \
                    model.calibration.thresholds(codes[pool] == codes[source])
                rejected = row_sims < limits
                rejected |= np.isin(pool, [source, *bad_targets[int(source)]])
                found[int(source)] = [model.urls[pool[i]] for i in _best(row_sims, ~rejected)]
    return found


# A large site's suggestions come from the pages nearest the source's subject: its topic
# cluster and the clusters closest to it, this many pages at least.
SUGGESTION_POOL = 3000


def suggestion_pools(model: TopicModel) -> dict[int, np.ndarray] | None:
    """cluster id -> the pages (sorted row numbers) among which better targets are sought
    for a source of that cluster: the cluster, then the clusters whose centres are nearest
    (LSA cosine), until the pool holds SUGGESTION_POOL pages. None (every page) on a site
    of at most SUGGESTION_POOL pages or without LSA vectors or clusters."""
    labels = model.labels
    if model.size <= SUGGESTION_POOL or model.lsa.shape[1] == 0 or len(labels) != model.size:
        return None
    ids = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in ids]
    centres = np.stack([model.lsa[m].mean(axis=0) for m in members])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    closeness = centres @ centres.T
    pools = {}
    for i, cluster in enumerate(ids):
        closeness[i, i] = np.inf  # the source's own cluster first
        picked, total = [], 0
        for j in np.argsort(-closeness[i], kind="stable"):
            picked.append(members[j])
            total += len(members[j])
            if total >= SUGGESTION_POOL:
                break
        pools[int(cluster)] = np.sort(np.concatenate(picked))
    return pools


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


# --------------------------------------------------------------------------- wording


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
    anchor_list, context_list = anchors.tolist(), contexts.tolist()  # not cell by cell
    seen: dict[tuple[str, str, str], list[str]] = {}  # a site repeats its link wordings
    tokens = []
    for i in known.tolist():
        key = (anchor_list[i], context_list[i], model.langs[rows[i]])
        found = seen.get(key)
        if found is None:
            found = seen[key] = [t for t, _ in analyse(wording(key[0], key[1]), key[2])]
        tokens.append(found)
    vectors = sparse.csr_matrix(model.vectorizer.transform(tokens))
    cosines = paired_dots(vectors, np.arange(len(known)), model.tfidf, pages[known])
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


# ----------------------------------------------------------------------------- links


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
    sims = pair_similarity(model.tfidf, model.lsa, pair_rows, pair_cols)
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
