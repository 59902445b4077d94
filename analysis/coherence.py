"""Section coherence: does each section of a page stay on the page's own topic?

Each page's sections (the ``sections`` frame) are merged so that no section is tiny, then
every section is compared, in the site's TF-IDF and LSA spaces, with the rest of its page
(the other sections, weighted by their length, plus the page's title and h1). A section
far below the page's other sections *and* below the site's usual section scores is
flagged incoherent. See docs/relevance.md for the method and its limits.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import normalize

from linkaudit.analysis.text import analyse, main_texts, words
from linkaudit.analysis.topics import TopicModel, blend, otsu_threshold, top_terms
from linkaudit.analysis.topics.vectors import blended_rows, row_chunk, row_dots

# Sections shorter than this are merged into the previous one (the next one for a first
# section): a heading with two lines under it says too little to be judged alone.
MIN_SECTION_WORDS = 25
# Paragraphs shorter than this are left out of scoring: call-to-action lines carrying one
# link are reported as promotional links, they should not make a section incoherent.
MIN_PARAGRAPH_WORDS = 25
# Share of the page reference taken by the title and h1 (the rest: the other sections).
TITLE_SHARE = 0.25
# A section is incoherent when it scores below this share of the page's other sections...
RELATIVE_FACTOR = 0.5
# ... or below this larger share when it is confirmed to be about another page of the site
# (see _confirmed_drift): the page it matches best is off-topic for the rest of its page.
CONFIRMED_FACTOR = 0.6
# ... and below the site threshold: Otsu's valley over all the site's section scores, or
# their median when the site has too few sections to show two modes.
MIN_SECTIONS_FOR_CALIBRATION = 20
SECTION_TERMS = 3

PAGE_COLUMNS = ["url", "coherence", "sections", "incoherent_sections"]
SECTION_COLUMNS = ["url", "ord", "heading", "words", "score", "incoherent", "why"]


# ---------------------------------------------------------------------- section blocks


def _merge_small_sections(page: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Blocks of consecutive sections (rows with ord, heading, text), each with at least
    MIN_SECTION_WORDS words when the page allows it."""
    blocks: list[dict[str, object]] = []
    for section in page:
        heading = section["heading"] if isinstance(section["heading"], str) else ""
        text = section["text"] if isinstance(section["text"], str) else ""
        paragraphs = _paragraphs(text)
        count = sum(n for _, n in paragraphs)
        if blocks and count < MIN_SECTION_WORDS:
            blocks[-1]["paragraphs"] += paragraphs
            blocks[-1]["words"] += count
            continue
        blocks.append(
            {
                "ord": section["ord"],
                "heading": heading,
                "paragraphs": paragraphs,
                "words": count,
            }
        )
    if len(blocks) > 1 and blocks[0]["words"] < MIN_SECTION_WORDS:
        first = blocks.pop(0)
        blocks[0]["paragraphs"] = first["paragraphs"] + blocks[0]["paragraphs"]
        blocks[0]["words"] += first["words"]
        blocks[0]["ord"] = first["ord"]
    return blocks


def _paragraphs(text: str) -> list[tuple[str, int]]:
    """The paragraphs of a section's text, each with its word count (counted once: the
    section's count is their sum, no word crossing a paragraph break)."""
    return [(p, len(words(p))) for p in text.split("\n\n") if p.strip()]


def _scoring_text(block: dict[str, object]) -> tuple[str | None, bool]:
    """(heading plus the block's long paragraphs, whether that is prose); text None when
    too little is left to judge.

    A block made only of short paragraphs (a list, say) is scored on all of them when it
    is long enough in total, but it is not prose; a lone call-to-action line is not scored.
    """
    paragraphs = block["paragraphs"]
    long_ones = [(p, n) for p, n in paragraphs if n >= MIN_PARAGRAPH_WORDS]
    if sum(n for _, n in long_ones) >= MIN_SECTION_WORDS:
        return "\n\n".join([str(block["heading"]), *(p for p, _ in long_ones)]), True
    if block["words"] >= 2 * MIN_SECTION_WORDS:
        return "\n\n".join([str(block["heading"]), *(p for p, _ in paragraphs)]), False
    return None, False


def section_blocks(model: TopicModel, sections: pd.DataFrame) -> pd.DataFrame:
    """Sections of the model's pages after merging: url, ord, heading, words, text, prose
    (text = what is scored, <NA> when the block is too short to judge; prose = scored on
    long paragraphs rather than on a list of short lines)."""
    known = sections[sections["url"].isin(model.index.keys())]
    known = known.sort_values(["url", "ord"], kind="stable")[["url", "ord", "heading", "text"]]
    rows = []
    records = known.to_dict("records")  # one conversion, not one per page
    for url, page in itertools.groupby(records, key=operator.itemgetter("url")):
        for block in _merge_small_sections(page):
            text, prose = _scoring_text(block)
            rows.append(
                {
                    "url": url,
                    "ord": int(block["ord"]),
                    "heading": block["heading"],
                    "words": int(block["words"]),
                    "text": text,
                    "prose": prose,
                }
            )
    frame = pd.DataFrame(rows, columns=["url", "ord", "heading", "words", "text", "prose"])
    return frame.astype({"ord": "int64", "words": "int64", "prose": "bool"})


# ----------------------------------------------------------------------------- scoring


def _leave_one_out_cosine(
    vectors: sparse.spmatrix | np.ndarray,
    weights: np.ndarray,
    page_of: np.ndarray,
    title_vectors: sparse.spmatrix | np.ndarray,
) -> np.ndarray:
    """Cosine of each (unit) section vector with its page reference: the unit sum of the
    page's *other* sections (weighted) mixed with the page's unit title vector.

    Computed from per-page totals, so no Python loop over sections. NaN where there is
    nothing to compare with.
    """
    n_pages = title_vectors.shape[0]
    membership = sparse.csr_matrix(
        (weights, (page_of, np.arange(len(page_of)))), shape=(n_pages, len(page_of))
    )
    totals = membership @ vectors
    own = row_dots(vectors, vectors)  # 1, or 0 for a section with no known term
    # What is per page is computed per page; what pairs a block with its page's vectors,
    # BLOCK_CHUNK blocks at a time (all of a site's blocks with their page's vectors were
    # +300 MiB at 20,000 pages).
    dot_total, dot_title = np.zeros(len(page_of)), np.zeros(len(page_of))
    for start in range(0, len(page_of), BLOCK_CHUNK):
        part = slice(start, start + BLOCK_CHUNK)
        dot_total[part] = row_dots(vectors[part], totals[page_of[part]])
        dot_title[part] = row_dots(vectors[part], title_vectors[page_of[part]])
    dot_rest = dot_total - weights * own
    # |T - w s|^2 = |T|^2 - 2 w (s.T) + w^2 |s|^2
    squared_rest = (row_dots(totals, totals)[page_of] - 2 * weights * dot_total
                    + weights**2 * own)
    # A block alone on its page (no other block with a known term) has no rest: the
    # subtraction above leaves rounding noise there (1e-7 or so), whose direction is
    # random and changed the block's score with the BLAS library's thread count.
    adds = ((weights > 0) & (own > 0)).astype(float)
    others = np.bincount(page_of, weights=adds, minlength=n_pages)[page_of] - adds
    norm_rest = np.where(others > 0, np.sqrt(np.clip(squared_rest, 0, None)), 0.0)
    title_norm = np.sqrt(row_dots(title_vectors, title_vectors))[page_of]
    rest_title = row_dots(totals, title_vectors)[page_of] - weights * dot_title
    return _mix_with_title(dot_rest, norm_rest, dot_title, title_norm, rest_title, own)


def _mix_with_title(
    dot_rest: np.ndarray,
    norm_rest: np.ndarray,
    dot_title: np.ndarray,
    title_norm: np.ndarray,
    rest_title: np.ndarray,
    own: np.ndarray,
) -> np.ndarray:
    """cos(s, (1-b) rest/|rest| + b title) with b = TITLE_SHARE, from dot products."""
    has_rest, has_title = norm_rest > 1e-12, title_norm > 1e-12
    safe_rest = np.where(has_rest, norm_rest, 1.0)
    cos_rest = dot_rest / safe_rest
    cos_title_rest = rest_title / safe_rest
    share = TITLE_SHARE
    mixed_norm = np.sqrt(
        np.clip((1 - share) ** 2 + share**2 + 2 * share * (1 - share) * cos_title_rest, 1e-12, None)
    )
    both = ((1 - share) * cos_rest + share * dot_title) / mixed_norm
    score = np.where(has_rest & has_title, both, np.where(has_rest, cos_rest, dot_title))
    return np.where((has_rest | has_title) & (own > 0), score, np.nan)


@dataclass(frozen=True)
class _BlockVectors:
    """The blocks in the site's vector spaces (LSA fields None when the model has none)."""

    rows: np.ndarray  # model row of each block's page
    weights: np.ndarray  # content words of each block
    tfidf: sparse.csr_matrix  # blocks x terms, unit rows (0 for unscored blocks)
    titles: sparse.csr_matrix  # pages x terms: title and h1 of each page, unit rows
    lsa: np.ndarray | None
    lsa_titles: np.ndarray | None


WORDS_CHUNK = 2000  # blocks whose words are analysed at a time
BLOCK_CHUNK = 10_000  # blocks paired with their page's vectors at a time


def _block_vectors(model: TopicModel, blocks: pd.DataFrame) -> _BlockVectors:
    rows = blocks["url"].map(model.index).to_numpy()
    # The words of a few thousand blocks at a time: a site's blocks hold millions of them,
    # and only their vectors are kept.
    texts, parts, weights = blocks["text"].tolist(), [], []
    for start in range(0, len(texts), WORDS_CHUNK):
        tokens = [
            [t for t, _ in analyse(text, model.langs[row])] if isinstance(text, str) else []
            for text, row in zip(texts[start:start + WORDS_CHUNK],
                                 rows[start:start + WORDS_CHUNK], strict=True)
        ]
        parts.append(sparse.csr_matrix(model.vectorizer.transform(tokens)))
        weights.extend(len(t) for t in tokens)
    tfidf = sparse.csr_matrix(sparse.vstack(parts)) if parts else \
        sparse.csr_matrix((0, len(model.terms)))
    titles = sparse.csr_matrix(
        model.vectorizer.transform(
            [
                [t for t, _ in analyse(title, lang)]
                for title, lang in zip(model.titles, model.langs, strict=True)
            ]
        )
    )
    has_lsa = model.svd is not None
    return _BlockVectors(
        rows=rows,
        weights=np.array(weights, dtype=float),
        tfidf=tfidf,
        titles=titles,
        lsa=normalize(model.svd.transform(tfidf)) if has_lsa else None,
        lsa_titles=normalize(model.svd.transform(titles)) if has_lsa else None,
    )


def _section_scores(model: TopicModel, blocks: pd.DataFrame) -> tuple[np.ndarray, _BlockVectors]:
    """(score per block, the blocks' vectors); NaN for unscored blocks."""
    scored = blocks["text"].notna().to_numpy()
    vectors = _block_vectors(model, blocks)
    tfidf_cos = _leave_one_out_cosine(vectors.tfidf, vectors.weights, vectors.rows, vectors.titles)
    lsa_cos = None
    if vectors.lsa is not None:
        lsa_cos = _leave_one_out_cosine(
            vectors.lsa, vectors.weights, vectors.rows, vectors.lsa_titles
        )
    scores = np.where(
        np.isnan(tfidf_cos),
        np.nan,
        blend(np.nan_to_num(tfidf_cos), None if lsa_cos is None else np.nan_to_num(lsa_cos)),
    )
    return np.where(scored, scores, np.nan), vectors


# ---------------------------------------------------------------------- confirmation


def _rest_of_page(
    vectors: sparse.spmatrix | np.ndarray,
    titles: sparse.spmatrix | np.ndarray,
    weights: np.ndarray,
    others: np.ndarray,
    page: int,
) -> np.ndarray:
    """Unit reference of a page without one of its blocks: its ``others`` blocks (weighted,
    unit sum) mixed with the page's title, as in the section score."""
    rest = np.asarray(weights[others][None, :] @ vectors[others], dtype=float).ravel()
    title = titles[page]
    title = np.asarray(title.toarray() if sparse.issparse(title) else title, dtype=float).ravel()
    rest_norm = np.linalg.norm(rest)
    rest = rest / rest_norm if rest_norm > 1e-12 else np.zeros_like(rest)
    mixed = (1 - TITLE_SHARE) * rest + TITLE_SHARE * title
    norm = np.linalg.norm(mixed)
    return mixed / norm if norm > 1e-12 else mixed


def _confirmed_drift(
    model: TopicModel, vectors: _BlockVectors, scores: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """Per candidate block: is it about another page of the site that the rest of its own
    page is not about? It must match some other page P better than its own page, and P must
    be off-topic for the page without the block (below the site's relevance threshold)."""
    confirmed = np.zeros(len(candidates), dtype=bool)
    if len(candidates) == 0:
        return confirmed
    page_rows = vectors.rows[candidates]
    best, best_sims = _best_other_pages(model, vectors, candidates, page_rows)
    languages = np.array(model.langs, dtype=object)
    limits = model.calibration.thresholds(languages[page_rows] == languages[best])
    by_page = pd.Series(vectors.rows).groupby(vectors.rows).indices
    for i, block in enumerate(candidates):
        if best_sims[i] <= scores[block]:
            continue
        page, target = page_rows[i], best[i]
        others = by_page[page][by_page[page] != block]
        tfidf_rest = _rest_of_page(vectors.tfidf, vectors.titles, vectors.weights, others, page)
        tfidf_cos = float(model.tfidf[target].toarray().ravel() @ tfidf_rest)
        lsa_cos = None
        if vectors.lsa is not None:
            lsa_rest = _rest_of_page(
                vectors.lsa, vectors.lsa_titles, vectors.weights, others, page
            )
            lsa_cos = np.array([float(model.lsa[target] @ lsa_rest)])
        rest_similarity = blend(np.array([tfidf_cos]), lsa_cos)[0]
        confirmed[i] = rest_similarity < limits[i]
    return confirmed


def _best_other_pages(
    model: TopicModel, vectors: _BlockVectors, blocks: np.ndarray, own_pages: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per block, the page other than its own it is most similar to, and that similarity.
    Computed a few blocks at a time (:func:`row_chunk`): memory stays at (chunk x pages)."""
    best = np.zeros(len(blocks), dtype=np.int64)
    best_sims = np.zeros(len(blocks))
    tfidf_t = sparse.csr_matrix(model.tfidf.T)
    step = row_chunk(model.size)
    for start in range(0, len(blocks), step):
        part = slice(start, start + step)
        sims = _block_page_similarity(model, vectors, blocks[part], tfidf_t)
        rows = np.arange(sims.shape[0])
        sims[rows, own_pages[part]] = -np.inf
        best[part] = np.argmax(sims, axis=1)
        best_sims[part] = sims[rows, best[part]]
    return best, best_sims


def _block_page_similarity(
    model: TopicModel, vectors: _BlockVectors, blocks: np.ndarray, tfidf_t: sparse.csr_matrix
) -> np.ndarray:
    """(len(blocks) x pages) blended similarity of the given blocks with every page
    (``tfidf_t``: the pages' TF-IDF, transposed once by the caller)."""
    has_lsa = vectors.lsa is not None
    return blended_rows(vectors.tfidf[blocks], tfidf_t, vectors.lsa[blocks] if has_lsa else None,
                        model.lsa.T if has_lsa else None)


# ------------------------------------------------------------------------ calibration


def site_section_threshold(scores: np.ndarray) -> float:
    """Otsu valley of the site's section scores; their median on sites with few sections
    (NaN when nothing was scored)."""
    known = scores[~np.isnan(scores)]
    if len(known) == 0:
        return float("nan")
    threshold = otsu_threshold(known) if len(known) >= MIN_SECTIONS_FOR_CALIBRATION else None
    return float(np.median(known)) if threshold is None else threshold


def _median_of_others(scores: pd.Series, urls: pd.Series) -> np.ndarray:
    """Per section, the median score of the other scored sections of its page (NaN if none)."""
    medians = np.full(len(scores), np.nan)
    for _, positions in urls.groupby(urls, sort=False).indices.items():
        page_scores = scores.to_numpy()[positions]
        for i, pos in enumerate(positions):
            others = np.delete(page_scores, i)
            others = others[~np.isnan(others)]
            if len(others):
                medians[pos] = np.median(others)
    return medians


def _incoherent(
    model: TopicModel,
    scores: np.ndarray,
    blocks: pd.DataFrame,
    vectors: _BlockVectors,
    threshold: float | None,
) -> np.ndarray:
    """Prose blocks below the site's section threshold and either far below the page's
    other sections (RELATIVE_FACTOR) or below CONFIRMED_FACTOR of them and confirmed to be
    about another page's subject. Lists are never flagged: a list of links to related
    pages spans several subjects by design."""
    if threshold is not None:
        return ~np.isnan(scores) & (scores < threshold)
    others = _median_of_others(pd.Series(scores), blocks["url"].reset_index(drop=True))
    limit = site_section_threshold(scores)
    prose = blocks["prose"].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        low = prose & (scores < limit)
        strong = low & (scores < RELATIVE_FACTOR * others)
        candidates = np.flatnonzero(low & ~strong & (scores < CONFIRMED_FACTOR * others))
    flags = strong.copy()
    flags[candidates] = _confirmed_drift(model, vectors, scores, candidates)
    return flags


def _section_why(
    model: TopicModel, blocks: pd.DataFrame, tfidf: sparse.csr_matrix, flags: np.ndarray
) -> list[str]:
    texts = []
    for i, (url, flagged) in enumerate(zip(blocks["url"], flags, strict=True)):
        if not flagged:
            texts.append("")
            continue
        row = tfidf.getrow(i)
        order = np.lexsort((row.indices, -row.data))[:SECTION_TERMS]
        section_terms = [
            model.display.get(model.terms[c], model.terms[c]) for c in row.indices[order]
        ]
        page_terms = top_terms(model, model.index[url], SECTION_TERMS)
        texts.append(
            f"section topic: {', '.join(section_terms)}; page topic: {', '.join(page_terms)}"
        )
    return texts


# ------------------------------------------------------------------------------ public


def section_coherence(
    model: TopicModel, sections: pd.DataFrame, threshold: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every section against its own page.

    Returns (pages, sections):
    - pages: url, coherence (1 - share of the scored words that sit in incoherent
      sections; <NA> when no section could be scored), sections (scored sections),
      incoherent_sections; one row per page of the model.
    - sections: url, ord (of the first merged section), heading, words, score (0-1, <NA>
      when too short to judge), incoherent, why.

    ``threshold`` replaces the calibrated rule: a section is then incoherent when its score
    is below it.
    """
    blocks = section_blocks(model, sections).reset_index(drop=True)
    if model.vectorizer is None or not blocks["text"].notna().any():
        scores = np.full(len(blocks), np.nan)
        flags = np.zeros(len(blocks), dtype=bool)
        why = [""] * len(blocks)
    else:
        scores, vectors = _section_scores(model, blocks)
        flags = _incoherent(model, scores, blocks, vectors, threshold)
        why = _section_why(model, blocks, vectors.tfidf, flags)
    section_frame = blocks.drop(columns=["text", "prose"]).assign(
        score=pd.array(np.round(scores, 4), dtype="Float64"),
        incoherent=flags.astype(bool),
        why=pd.array(why, dtype="string"),
    )
    section_frame.loc[np.isnan(scores), "score"] = pd.NA
    return _page_coherence(model, section_frame), section_frame[SECTION_COLUMNS]


def _page_coherence(model: TopicModel, section_frame: pd.DataFrame) -> pd.DataFrame:
    scored = section_frame[section_frame["score"].notna()]
    bad_words = scored["words"].where(scored["incoherent"], 0)
    per_page = pd.DataFrame(
        {
            "scored_words": scored.groupby("url")["words"].sum(),
            "bad_words": bad_words.groupby(scored["url"]).sum(),
            "sections": scored.groupby("url").size(),
            "incoherent_sections": scored.groupby("url")["incoherent"].sum(),
        }
    )
    pages = pd.DataFrame({"url": list(model.urls)})
    pages = pages.merge(per_page, left_on="url", right_index=True, how="left")
    ratio = 1 - pages["bad_words"] / pages["scored_words"].where(pages["scored_words"] > 0)
    pages["coherence"] = pd.array(ratio.round(4), dtype="Float64")
    pages["sections"] = pages["sections"].fillna(0).astype("int64")
    pages["incoherent_sections"] = pages["incoherent_sections"].fillna(0).astype("int64")
    return pages[PAGE_COLUMNS]


def focused_documents(
    docs: pd.DataFrame, sections: pd.DataFrame, section_scores: pd.DataFrame
) -> pd.DataFrame:
    """``docs`` (:func:`linkaudit.analysis.text.page_documents`) with the incoherent sections of
    ``section_scores`` (from :func:`section_coherence`) left out of each page's text and
    headings: a page is then judged on what it is about, not on a section that drifts to
    another subject (and so resembles the page that subject belongs to)."""
    dropped = _dropped_sections(sections, section_scores)
    if dropped.empty:
        return docs
    kept = sections.merge(dropped, on=["url", "ord"], how="left", indicator=True)
    kept = kept[kept["_merge"] == "left_only"].drop(columns="_merge")
    texts = main_texts(kept)
    gone = sections.merge(dropped, on=["url", "ord"])
    gone_headings = gone.groupby("url")["heading"].agg(
        lambda values: {v for v in values if isinstance(v, str) and v}
    )
    out = docs.copy()
    touched = out["url"].isin(gone_headings.index)
    out.loc[touched, "text"] = [texts.get(url, "") for url in out.loc[touched, "url"]]
    out.loc[touched, "headings"] = [
        "\n\n".join(h for h in str(headings).split("\n\n") if h not in gone_headings[url])
        for url, headings in zip(out.loc[touched, "url"], out.loc[touched, "headings"],
                                 strict=True)
    ]
    return out


def _dropped_sections(sections: pd.DataFrame, section_scores: pd.DataFrame) -> pd.DataFrame:
    """url, ord of every raw section that belongs to an incoherent block (a block runs
    from its ord to the next block's ord on the same page)."""
    if section_scores.empty or not section_scores["incoherent"].fillna(False).any():
        return pd.DataFrame(columns=["url", "ord"])
    blocks = section_scores.sort_values(["url", "ord"], kind="stable")
    next_ord = blocks.groupby("url")["ord"].shift(-1)
    bad = blocks.assign(end=next_ord)[blocks["incoherent"].fillna(False).astype(bool)]
    rows = []
    for block in bad.itertuples():
        page = sections[sections["url"] == block.url]
        inside = page["ord"] >= block.ord
        if pd.notna(block.end):
            inside &= page["ord"] < block.end
        rows += [(block.url, int(o)) for o in page.loc[inside, "ord"]]
    return pd.DataFrame(rows, columns=["url", "ord"]).astype({"ord": sections["ord"].dtype})
