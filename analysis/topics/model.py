"""The topic model of one site: :class:`TopicModel` (vectors, clusters and calibration of
its indexable pages), :func:`build_topic_model` that fits it, and what it says per page
and per URL pair (top terms, page topics, clusters, similarity).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from linkaudit.analysis.text import content_key
from linkaudit.analysis.topics import thresholds
from linkaudit.analysis.topics.clustering import (
    cluster_by_language,
    cluster_term_ids,
    cluster_vectors,
    name_clusters,
    nameless_terms,
)
from linkaudit.analysis.topics.thresholds import Calibration, calibrate, site_similarities
from linkaudit.analysis.topics.vectors import (
    ReferenceSimilarities,
    display_map,
    document_pairs,
    fit_lsa,
    fit_tfidf,
    pair_similarity,
)

TOP_TERMS = 5


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
    # Similarity rows computed for neighbourhoods, shared by calibration and verdicts.
    similarities: ReferenceSimilarities | None = field(default=None, compare=False,
                                                       repr=False)

    @property
    def size(self) -> int:
        return len(self.urls)


# ----------------------------------------------------------------------------- build


class DocumentTerms:
    """The analysed words of pages, kept so that they are analysed once: by a model built
    again with a few pages' texts changed (coherence leaves drifting sections out), or
    ahead of the audit while the crawl runs (:mod:`linkaudit.analysis.prepare`). A page's
    words are reused only while its fields (language, text, title, h1, headings) are the
    same, told by a digest of them.

    Each distinct (stem, surface word) pair of the site is numbered once; a page keeps the
    numbers of its pairs and how often each occurs, in two small arrays (the 2,528 pages of
    a real blog took 38 MiB so, numbering included, and 113 MiB as Counters of tuples).
    """

    FIELDS = ("lang", "text", "title", "h1", "headings")

    def __init__(self) -> None:
        # url -> (digest of its fields, pair numbers, count of each on the page): TF-IDF
        # needs only the counts.
        self._words: dict[str, tuple[bytes, np.ndarray, np.ndarray]] = {}
        self._numbers: dict[tuple[str, str], int] = {}  # (stem, surface) -> its number
        self._pairs: list[tuple[str, str]] = []  # number -> (stem, surface)
        self._site: dict[tuple[str, str], int] = {}  # counts of the last tokens() call

    @classmethod
    def key(cls, row: Mapping[str, object]) -> bytes:
        return content_key(*(row.get(name) or "" for name in cls.FIELDS))

    def __len__(self) -> int:
        return len(self._words)

    def __getstate__(self) -> dict:
        # Sent from the crawl's preparing process: the numbers are rebuilt from the pairs.
        return {"words": self._words, "pairs": self._pairs, "site": self._site}

    def __setstate__(self, state: dict) -> None:
        self._words, self._pairs, self._site = state["words"], state["pairs"], state["site"]
        self._numbers = {pair: i for i, pair in enumerate(self._pairs)}

    def _number(self, pair: tuple[str, str]) -> int:
        found = self._numbers.get(pair)
        if found is None:
            found = self._numbers[pair] = len(self._pairs)
            self._pairs.append(pair)
        return found

    def add(self, row: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray]:
        """One page's (stem, surface word) pairs (:func:`document_pairs`), as their numbers
        and how often each occurs."""
        url, key = str(row["url"]), self.key(row)
        known = self._words.get(url)
        if known is None or known[0] != key:
            counted = Counter(document_pairs(row))
            numbers = np.fromiter(map(self._number, counted), dtype=np.int32,
                                  count=len(counted))
            known = (key, numbers, np.fromiter(counted.values(), dtype=np.int32,
                                               count=len(counted)))
            self._words[url] = known
        return known[1], known[2]

    def pairs(self, row: Mapping[str, object]) -> dict[tuple[str, str], int]:
        """How often each (stem, surface word) occurs on one page."""
        numbers, counts = self.add(row)
        return {self._pairs[i]: n for i, n in zip(numbers.tolist(), counts.tolist(),
                                                   strict=True)}

    def tokens(self, rows: Sequence[Mapping[str, object]]) -> Sequence[list[str]]:
        """Stems of each row's page (each as often as it occurs, in no particular order),
        analysing only new texts; the site's counts (:meth:`display`) become these pages'.
        The lists are made as they are read."""
        pages = [self.add(row) for row in rows]
        total = np.zeros(len(self._pairs), dtype=np.int64)
        for numbers, counts in pages:
            total[numbers] += counts  # a page holds each number once
        used = np.flatnonzero(total)
        self._site = {self._pairs[i]: n for i, n in zip(used.tolist(), total[used].tolist(),
                                                         strict=True)}
        return _StemLists(pages, [stem for stem, _ in self._pairs])

    def display(self) -> dict[str, str]:
        return display_map(self._site)


class _StemLists(Sequence):
    """Each page's stems as a list, made when read (a whole site's would fill memory)."""

    def __init__(self, pages: list[tuple[np.ndarray, np.ndarray]], stems: list[str]) -> None:
        self._pages, self._stems = pages, stems

    def __len__(self) -> int:
        return len(self._pages)

    def __getitem__(self, index: int) -> list[str]:  # type: ignore[override]
        numbers, counts = self._pages[index]
        stems = self._stems
        return [stems[i] for i, n in zip(numbers.tolist(), counts.tolist(), strict=True)
                for _ in range(n)]


def build_topic_model(
    docs: pd.DataFrame, n_topics: int | None = None, random_state: int = 0, *,
    terms: DocumentTerms | None = None, clustered: bool = True, profiled: bool = True,
) -> TopicModel:
    """Fit the site's topic model on :func:`linkaudit.analysis.text.page_documents` output.

    ``n_topics`` fixes the number of clusters; by default it is chosen by silhouette.
    ``terms`` reuses the words of pages analysed for an earlier model of the same site.
    ``clustered=False`` leaves the clusters out (every page in topic 0, see
    :func:`with_clusters`): vectors, calibration and similarities only.
    ``profiled=False`` leaves the calibration's profile threshold out, which only the
    verdicts on links need (:func:`with_profile` adds it).
    """
    docs = docs.drop_duplicates("url").reset_index(drop=True)
    terms = terms if terms is not None else DocumentTerms()
    token_lists = terms.tokens(docs.to_dict("records"))
    vectorizer, tfidf = fit_tfidf(token_lists)
    svd, lsa = fit_lsa(tfidf, random_state) if tfidf.shape[1] else (None, np.zeros((len(docs), 0)))
    terms_array = vectorizer.get_feature_names_out() if vectorizer else np.array([], dtype=object)
    display = terms.display()
    doc_freq = np.bincount(tfidf.indices, minlength=tfidf.shape[1])
    similarities = site_similarities(tfidf, lsa)
    nameless = nameless_terms(terms_array, display, doc_freq, len(docs))
    model = TopicModel(
        urls=tuple(docs["url"]),
        langs=tuple(docs["lang"].astype(str)),
        titles=tuple(_titles(docs)),
        index={url: i for i, url in enumerate(docs["url"])},
        vectorizer=vectorizer,
        tfidf=tfidf,
        svd=svd,
        lsa=lsa,
        terms=terms_array,
        doc_freq=doc_freq,
        display=display,
        labels=np.zeros(len(docs), dtype=int),
        cluster_names=("",),
        cluster_terms=((),),
        calibration=calibrate(tfidf, lsa, list(docs["lang"].astype(str)),
                              list(docs["url"].astype(str)), similarities, profiled),
        nameless=nameless,
        similarities=similarities,
    )
    return with_clusters(model, n_topics, random_state) if clustered else model


def with_profile(model: TopicModel) -> TopicModel:
    """``model`` (built with ``profiled=False``) with the calibration it would have had."""
    return replace(model, calibration=thresholds.with_profile(
        model.calibration, model.tfidf, model.lsa, model.langs, model.urls,
        model.similarities))


def with_clusters(model: TopicModel, n_topics: int | None = None,
                  random_state: int = 0) -> TopicModel:
    """``model`` with its pages clustered into topics, named by their terms."""
    labels = (
        cluster_by_language(
            cluster_vectors(model.tfidf, model.lsa),
            model.tfidf,
            list(model.langs),
            n_topics,
            random_state,
        )
        if model.tfidf.shape[1]
        else np.zeros(model.size, dtype=int)
    )
    term_ids = cluster_term_ids(model.tfidf, labels, model.nameless)
    cluster_terms = tuple(tuple(model.display.get(model.terms[i], model.terms[i]) for i in ids)
                          for ids in term_ids)
    return replace(model, labels=labels, cluster_names=name_clusters(cluster_terms),
                   cluster_terms=cluster_terms)


def _titles(docs: pd.DataFrame) -> list[str]:
    parts = [docs[c].fillna("").astype(str) if c in docs else "" for c in ("title", "h1")]
    return list(parts[0] + "\n" + parts[1]) if len(docs) else []


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


def similarity(model: TopicModel, sources: Sequence[str], targets: Sequence[str]) -> np.ndarray:
    """Blended similarity of each (source, target) URL pair; NaN where a URL is unknown."""
    rows = np.array([model.index.get(u, -1) for u in sources], dtype=int)
    cols = np.array([model.index.get(u, -1) for u in targets], dtype=int)
    known = (rows >= 0) & (cols >= 0)
    result = np.full(len(rows), np.nan)
    result[known] = pair_similarity(model.tfidf, model.lsa, rows[known], cols[known])
    return result
