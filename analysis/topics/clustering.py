"""Topic clusters of a site's pages: k-means on the page vectors with k chosen by silhouette,
one clustering per language, and the terms and names that label each cluster (words that
name no topic left out).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_samples
from sklearn.metrics.pairwise import cosine_distances
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state

from linkaudit.analysis.text import available_languages, fold_accents, stopwords

MAX_CLUSTERS = 40
MIN_SILHOUETTE = 0.02  # below this no split of the site beats "one topic"
SILHOUETTE_SAMPLE = 3000

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

LABEL_TERMS = 3
KMEANS_SAMPLE = 5000  # pages the k-means centres are fitted on, at most
CLUSTER_TERMS = 8


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
    candidates = _candidate_ks(n_pages)
    if not candidates:
        return best_labels
    # The silhouette's page sample (the one silhouette_score draws for this seed) and its
    # cosine distances, computed once for every candidate k.
    sample = check_random_state(random_state).permutation(n_pages)[
        : min(n_pages, SILHOUETTE_SAMPLE)]
    distances = cosine_distances(tfidf[sample])
    for k in candidates:
        labels = _kmeans(vectors, k, random_state)
        if len(set(labels[sample])) < 2:
            continue
        score = float(np.mean(silhouette_samples(distances, labels[sample],
                                                 metric="precomputed")))
        if score > best_score:
            best_labels, best_score = labels, score
    return best_labels


def cluster_by_language(
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
    """k-means labels; on a site of more than ``KMEANS_SAMPLE`` pages the centres are fitted
    on a sample of that size and every page joins its nearest centre, so the cost of each
    candidate k stops growing with the site."""
    model = KMeans(n_clusters=k, n_init=4, random_state=random_state)
    with warnings.catch_warnings():
        # More clusters than distinct pages: k-means says so, the silhouette then rejects k.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if len(vectors) <= KMEANS_SAMPLE:
            return _renumber(model.fit_predict(vectors))
        sample = np.random.default_rng(random_state).choice(
            len(vectors), KMEANS_SAMPLE, replace=False)
        model.fit(vectors[np.sort(sample)])
        return _renumber(model.predict(vectors))


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Number clusters by size (0 = largest), ties by first page, for stable reports."""
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], first[i]))
    mapping = {ids[i]: rank for rank, i in enumerate(order)}
    return np.array([mapping[x] for x in labels], dtype=int)


def cluster_vectors(tfidf: sparse.csr_matrix, lsa: np.ndarray) -> np.ndarray:
    if lsa.shape[1]:
        return lsa
    return normalize(tfidf.toarray()) if tfidf.shape[1] else np.zeros((tfidf.shape[0], 1))


# ---------------------------------------------------------------------------- labels


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


def cluster_term_ids(tfidf: sparse.csr_matrix, labels: np.ndarray,
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


def name_clusters(cluster_terms: Sequence[Sequence[str]]) -> tuple[str, ...]:
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
