"""From a stored crawl to the report frames of the contract (docs/report-contract.md).

``build_audit`` only composes the pure functions of the other modules; reading the
store (analysis/load.py) and writing files (the ``writers`` package) live apart.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from linkaudit.analysis import (
    checks,
    coherence,
    duplicates,
    external,
    graph,
    promo,
    templates,
    text,
    topics,
)
from linkaudit.analysis.load import CrawlFrames
from linkaudit.analysis.model import Audit, Stages, flags, incomplete_findings, with_titles
from linkaudit.analysis.prepare import Prepared
from linkaudit.analysis.settings import AuditSettings, given
from linkaudit.analysis.stages import blank_failed


def first_h1(headings: pd.DataFrame) -> pd.DataFrame:
    """url, h1 (text of the first h1), h1_count."""
    h1 = headings[headings["level"] == 1].sort_values(["url", "ord"])
    grouped = h1.groupby("url", sort=False)["text"]
    return pd.DataFrame({"h1": grouped.first(), "h1_count": grouped.size()}).rename_axis("url")


@dataclass(frozen=True)
class LinkGraph:
    """What the link graph gives the reports (the ``graph`` stage)."""

    final: pd.Series  # URL -> the URL its redirect chain ends at
    pages: pd.DataFrame  # indexed by URL: depth, inlinks, outlinks, dead_end, pagerank
    target_status: pd.Series  # one per link occurrence, in crawl.links order
    findings: pd.DataFrame  # redirect chains and loops, broken links, orphan pages

    @classmethod
    def empty(cls, crawl: CrawlFrames) -> LinkGraph:
        """The graph of a failed ``graph`` stage: every value missing, no finding."""
        urls = pd.Index(crawl.pages["url"])
        missing = pd.Series(pd.NA, index=urls, dtype="Int64")
        table = pd.DataFrame({"depth": missing, "inlinks": missing, "outlinks": missing,
                              "dead_end": pd.Series(pd.NA, index=urls, dtype="boolean"),
                              "pagerank": np.nan})
        return cls(pd.Series(dtype=object), table,
                   pd.Series(pd.NA, index=crawl.links.index, dtype="Int64"),
                   checks.empty_findings())


def link_graph(crawl: CrawlFrames) -> LinkGraph:
    pages, links = crawl.pages, crawl.links
    resolved = graph.resolve_redirects(pages)
    urls = pages["url"]
    counts = graph.link_counts(pages, links).set_index("url")
    table = pd.DataFrame({
        "depth": urls.map(graph.click_depth(pages, links, crawl.start_url, resolved)
                          ).astype("Int64"),
        "inlinks": urls.map(counts["inlinks"]).fillna(0).astype("Int64"),
        "outlinks": urls.map(counts["outlinks"]).fillna(0).astype("Int64"),
        "dead_end": urls.isin(set(graph.dead_ends(pages, links)["url"])),
        "pagerank": urls.map(graph.link_score(pages, links, resolved)),
    }).set_index(urls)
    findings = checks.concat_findings([
        graph.redirect_findings(resolved),
        graph.broken_link_findings(graph.broken_links(pages, links)),
        graph.orphan_findings(graph.orphan_pages(pages, links)),
        external.external_link_findings(links, crawl.external_checks),
    ])
    # An external target is not among the pages: its status is the external check's.
    status = graph.target_status(pages, links).fillna(
        external.external_status(links, crawl.external_checks))
    status = pd.Series(status.to_numpy(), index=links.index)
    return LinkGraph(graph.final_urls(resolved), table, status, findings)


def page_table(crawl: CrawlFrames, net: LinkGraph, h1: pd.DataFrame,
               page_topics: pd.DataFrame | None, page_coherence: pd.DataFrame) -> pd.DataFrame:
    """pages.csv: one row per requested URL."""
    out = crawl.pages.set_index("url", drop=False)
    # The contract's redirect_to is where the chain ends; a loop keeps its next hop.
    has_hop = out["redirect_to"].notna()
    out.loc[has_hop, "redirect_to"] = (out.loc[has_hop, "url"].map(net.final).astype(object)
                                       .fillna(out.loc[has_hop, "redirect_to"]))
    for column in ("depth", "inlinks", "outlinks", "dead_end", "pagerank"):
        out[column] = out["url"].map(net.pages[column])
    out["h1"] = out["url"].map(h1["h1"])
    out["h1_count"] = out["url"].map(h1["h1_count"]).fillna(0).astype("Int64")
    out.loc[~out["is_html"], "h1_count"] = pd.NA
    if page_topics is not None:
        ptopics = page_topics.set_index("url")
        out["topic"] = out["url"].map(ptopics["topic"])
        out["topic_id"] = out["url"].map(ptopics["topic_id"]).astype("Int64")
        out["detected_lang"] = out["url"].map(ptopics["lang"])
        out["top_terms"] = out["url"].map(ptopics["top_terms"])
    else:
        out["topic"] = out["topic_id"] = out["detected_lang"] = out["top_terms"] = pd.NA
    if len(page_coherence):
        out["coherence"] = out["url"].map(page_coherence.set_index("url")["coherence"])
    else:
        out["coherence"] = np.nan
    out["found_via"] = out["found_via"].fillna("")
    return out.reset_index(drop=True)


VERDICT_COLUMNS = (("relevance", np.nan), ("off_topic", False), ("why", ""),
                   ("suggested_targets", ""), ("anchor_relevance", np.nan))


def promo_columns(crawl: CrawlFrames, rules: promo.PromoRules) -> pd.DataFrame:
    """``promotional`` and ``promo_reason`` of every link occurrence, in crawl.links order
    (the ``promotional`` stage)."""
    texts = crawl.sections.groupby("url")["text"].agg(
        lambda parts: "\n".join(parts.fillna("").astype(str)))
    classified = promo.classify_links(crawl.links.reset_index(drop=True), rules,
                                      promo.price_counts(texts))
    return classified[["promotional", "promo_reason"]]


def link_table(crawl: CrawlFrames, net: LinkGraph, rules: promo.PromoRules,
               stages: Stages, classified: pd.DataFrame | None = None) -> pd.DataFrame:
    """links.csv without the relevance verdicts: status, landing page, promotional.
    ``classified``: :func:`promo_columns`, computed before."""
    links = crawl.links.reset_index(drop=True)

    def classify() -> pd.DataFrame:
        columns = classified if classified is not None else promo_columns(crawl, rules)
        return links.assign(promotional=columns["promotional"].to_numpy(),
                            promo_reason=columns["promo_reason"])

    out = stages.run("promotional", classify, links.assign(promotional=False, promo_reason=""))
    out["target_status"] = net.target_status.to_numpy()
    # Relevance is about the page the reader lands on: follow redirects.
    out["landing"] = out["target"].map(net.final).astype("str").fillna(out["target"])
    out["nofollow"] = graph.is_nofollow(out["rel"])
    out["template"] = False
    for column, empty in VERDICT_COLUMNS:
        out[column] = empty
    return out


def judge_links(links: pd.DataFrame, pages: pd.DataFrame, model: topics.TopicModel | None,
                threshold: float | None) -> pd.DataFrame:
    """``links`` with the relevance verdicts (the ``relevance`` stage)."""
    out = links.copy()
    out["template"] = templates.template_links(out)
    # A copy that names another page as its canonical (/post/ and /post/index.html) reads
    # as that page: links are judged between the pages the copies stand for.
    indexable = set(pages.loc[pages["indexable"].astype(bool), "url"])
    read_as = _as_canonical(out, _canonical_pages(pages, indexable))
    if model is not None:
        _score_links(out, read_as, indexable, model, threshold)
    return _set_unjudged_apart(out, read_as, pages)


def _score_links(out: pd.DataFrame, read_as: pd.DataFrame, indexable: set[str],
                 model: topics.TopicModel, threshold: float | None) -> None:
    """Write the relevance verdicts of the links between indexable pages into ``out``
    (``read_as``: the links with each copy read as its canonical page)."""
    source, landing = read_as["source"], read_as["landing"]
    scored = (out["internal"] & source.isin(indexable) & landing.isin(indexable)
              & (source != landing))
    if scored.any():
        pairs = pd.DataFrame({"source": source[scored], "target": landing[scored],
                              "anchor": out.loc[scored, "anchor"],
                              "context": out.loc[scored, "context"]})
        rel = topics.link_relevance(model, pairs.reset_index(drop=True), threshold)
        rel.index = pairs.index
        for column, _ in VERDICT_COLUMNS:
            out.loc[scored, column] = rel[column].to_numpy()


def _set_unjudged_apart(out: pd.DataFrame, read_as: pd.DataFrame,
                        pages: pd.DataFrame) -> pd.DataFrame:
    """Clear the off-topic verdict of links an editor did not choose, saying why."""
    # Navigation, header and footer links are site furniture, not an editor's choice; so
    # are the entries of a hub page's lists (a site map, an index of articles) and the
    # links to a hub: a tag, category or archive page lists pages of every subject.
    entries = _entries(out)
    hubs = hub_pages(pages, out, entries)
    listing = hub_listing_links(pages, out, hubs, entries)
    flagged = out["off_topic"].astype(bool)
    out.loc[listing & flagged, "why"] += "; not judged: an entry in the link list of a hub page"
    to_hub = (out["landing"].isin(hubs) | _is_home(out["landing"])) & ~listing
    out.loc[to_hub & flagged, "why"] += (
        "; not judged: the target is the home page or a listing page (tag, category, archive)")
    lists_source = _lists_its_source(read_as, entries) & ~listing & ~to_hub
    out.loc[lists_source & flagged, "why"] += (
        "; not judged: one page lists the other among its entries (a tag or category page)")
    # An anchor that is the target's own address tells the reader where it leads.
    addressed = out["anchor"].fillna("").str.match(r"\s*(?:https?://|www\.)\S+\s*$")
    addressed &= ~listing & ~to_hub & ~lists_source
    out.loc[addressed & flagged, "why"] += (
        "; not judged: the anchor is the target's address")
    listing = listing | to_hub | lists_source | addressed
    repeated = out["template"] & ~listing
    out.loc[repeated & out["off_topic"].astype(bool), "why"] += (
        "; not judged: the site's template repeats this link on many pages")
    out["off_topic"] = (out["off_topic"].astype(bool) & (out["position"] == "content")
                        & ~listing & ~out["template"])
    out.loc[~out["off_topic"], "suggested_targets"] = ""
    return out


def _as_canonical(links: pd.DataFrame, canonical: dict[str, str]) -> pd.DataFrame:
    """``links`` with source, target and landing read as the pages their copies stand for."""
    if not canonical:
        return links
    return links.assign(**{column: links[column].map(canonical).fillna(links[column])
                           for column in ("source", "target", "landing")})


def _canonical_pages(pages: pd.DataFrame, indexable: set[str]) -> dict[str, str]:
    """url -> the indexable page it names as canonical, for pages that are not indexable."""
    named = pages.loc[~pages["indexable"].astype(bool) & pages["canonical"].notna(),
                      ["url", "canonical"]]
    named = named[named["canonical"].isin(indexable) & named["canonical"].ne(named["url"])]
    return dict(zip(named["url"], named["canonical"], strict=True))


HUB_LINK_TEXT_SHARE = 0.15  # share of a page's main-content words that are link text
# ...or a page whose content links go, for at least this share of their targets and to at
# least this many pages, through list entries.
HUB_ENTRY_SHARE = 0.5
HUB_MIN_ENTRIES = 5
LIST_ENTRY_ANCHOR_SHARE = 0.8  # share of a block's words that are the link's anchor


def hub_pages(pages: pd.DataFrame, links: pd.DataFrame,
              entries: pd.Series | None = None) -> set[str]:
    """Listing pages: site maps, indexes of articles, tag, category, archive and author
    pages, pagination. Told from the page itself, whatever its URL says: its main content
    is largely link text, or it is mostly a list of entries (a blog page of excerpt cards:
    each a title link, a thumbnail link and fifty words of excerpt)."""
    content = links["position"] == "content"
    anchor_words = text.word_counts(links["anchor"])
    link_text = anchor_words[content].groupby(links.loc[content, "source"]).sum()
    words = pages.set_index("url")["word_count"].astype("Float64")
    share = (link_text / words.reindex(link_text.index)).fillna(0)
    hubs = set(share[share >= HUB_LINK_TEXT_SHARE].index)
    internal = content & flags(links["internal"])
    internal &= links["target"].notna() & links["target"].ne(links["source"])
    targets = links[internal].groupby("source")["target"].nunique()
    is_entry = _entries(links) if entries is None else entries
    entries = links[internal & is_entry].groupby("source")["target"].nunique()
    entries = entries.reindex(targets.index, fill_value=0)
    mostly_entries = (entries >= 1) & (entries >= HUB_ENTRY_SHARE * targets)
    listed = mostly_entries & (entries >= HUB_MIN_ENTRIES)
    hubs |= set(listed[listed].index)
    # The last page of a paginated list holds fewer entries: a page the pagination of a hub
    # leads to ("2", "Older posts", "»") is a hub when its links are mostly entries too.
    candidates = set(mostly_entries[mostly_entries].index) - hubs
    paging = links[links["anchor"].fillna("").str.fullmatch(_PAGINATION, case=False)
                   & links["target"].isin(candidates)]
    while candidates and not paging.empty:
        found = set(paging.loc[paging["source"].isin(hubs), "target"]) - hubs
        if not found:
            break
        hubs |= found
        candidates -= found
        paging = paging[paging["target"].isin(candidates)]
    return hubs


# Anchors of pagination links: a page number, next / previous, older / newer, arrows.
_PAGINATION = (
    r"\W*(?:(?:page|p\.?)\s*)?\d{1,5}\W*|\W*(?:next|previous|prev|older|newer|suivant|suivante"
    r"|pr[ée]c[ée]dent|pr[ée]c[ée]dente|plus anciens?|plus r[ée]cents?|anciens? articles"
    r"|articles plus anciens|older (?:posts|entries)|newer (?:posts|entries)|next page"
    r"|previous page|page suivante|page pr[ée]c[ée]dente)\W*|[\s«»‹›<>←→.…]+"
)


def _entries(links: pd.DataFrame) -> pd.Series:
    """Content links whose block holds little but their anchor, and links without words
    (a thumbnail): the entries of a list."""
    anchor_words = text.word_counts(links["anchor"])
    block_words = text.word_counts(links["paragraph"])
    entry = ((block_words > 0) & (anchor_words >= LIST_ENTRY_ANCHOR_SHARE * block_words)
             | anchor_words.eq(0))
    return (links["position"] == "content") & entry


def hub_listing_links(pages: pd.DataFrame, links: pd.DataFrame,
                      hubs: set[str] | None = None,
                      entries: pd.Series | None = None) -> pd.Series:
    """True for a content link that is an entry in a hub page's list of links.

    A hub (:func:`hub_pages`) links everywhere by design; an entry is a link whose block
    holds little but its anchor. A call to action in a hub's prose is still judged.
    """
    entries = _entries(links) if entries is None else entries
    hubs = hub_pages(pages, links, entries) if hubs is None else hubs
    return (entries & links["source"].isin(hubs)).astype(bool)


_HOME_PATH = r"^[a-z][a-z0-9+.\-]*://[^/?#]+/?(?:index\.(?:html?|php))?$"


def _is_home(urls: pd.Series) -> pd.Series:
    """True for a site's home page (the root path, or index.html / index.php at the root)."""
    return urls.fillna("").astype(str).str.contains(_HOME_PATH, case=False, regex=True)


def _lists_its_source(links: pd.DataFrame, entries: pd.Series) -> pd.Series:
    """True for a link A -> B where B's content lists A as an entry (a post linking to the
    tag or category page that lists it, whatever that page's size), and for that entry
    B -> A itself."""
    is_entry = entries & links["target"].notna()
    listed = pd.MultiIndex.from_arrays([links.loc[is_entry, "source"],
                                        links.loc[is_entry, "target"]])
    pairs = pd.MultiIndex.from_arrays([links["source"], links["landing"]])
    reverse = pd.MultiIndex.from_arrays([links["landing"], links["source"]])
    linked_back = is_entry & reverse.isin(pairs)
    return pd.Series(reverse.isin(listed) | linked_back, index=links.index)


def offtopic_table(links: pd.DataFrame, pages: pd.DataFrame) -> pd.DataFrame:
    """The editors' to-do list: internal content links judged off-topic, promotional first."""
    rows = with_titles(links[links["off_topic"]], pages)
    rows = rows.sort_values(["promotional", "source", "relevance", "ord"],
                            ascending=[False, True, True, True], kind="stable")
    columns = ["source", "source_title", "target", "target_title", "anchor", "context",
               "promotional", "relevance", "why", "suggested_targets", "promo_reason"]
    return rows[columns].reset_index(drop=True)


def _off_topic_findings(links: pd.DataFrame) -> pd.DataFrame:
    off = links[links["off_topic"]].copy()
    if off.empty:
        return checks.empty_findings()
    off["detail"] = ("relevance " + off["relevance"].map("{:.2f}".format) + " — "
                     + off["why"].astype(str))
    return checks.make_findings(off, "off_topic_link", "detail", url="source", target="target")


def _section_findings(section_scores: pd.DataFrame) -> pd.DataFrame:
    bad = section_scores[section_scores["incoherent"].fillna(False).astype(bool)].copy()
    if bad.empty:
        return checks.empty_findings()
    bad["detail"] = ("section \"" + bad["heading"].astype(str) + "\" scores "
                     + bad["score"].map("{:.2f}".format) + " against the page's topic: "
                     + bad["why"].astype(str))
    return checks.make_findings(bad, "incoherent_section", "detail")


def _duplicate_findings(dups: pd.DataFrame) -> pd.DataFrame:
    if dups.empty:
        return checks.empty_findings()
    dups = dups.copy()
    dups["detail"] = ("near-duplicate of " + dups["duplicate_of"].astype(str) + " (similarity "
                      + dups["similarity"].map("{:.2f}".format) + ")")
    return checks.make_findings(dups, "near_duplicate", "detail", target="duplicate_of")


EMPTY_COHERENCE = (pd.DataFrame(columns=coherence.PAGE_COLUMNS),
                   pd.DataFrame(columns=coherence.SECTION_COLUMNS))


def topic_analysis(docs: pd.DataFrame | None, sections: pd.DataFrame, settings: AuditSettings,
                   stages: Stages | None = None, terms: topics.DocumentTerms | None = None
                   ) -> tuple[topics.TopicModel | None, pd.DataFrame, pd.DataFrame]:
    """The site's topic model, page coherence and section scores (``topics`` and
    ``coherence`` stages).

    Topics and relevance judge each page on its own subject, without the sections that
    drift to another one (they would make the page resemble that subject's pages), so the
    model is built again without them when there are any. ``terms``: pages' words
    analysed before (see analysis/prepare.py).
    """
    stages = stages or Stages("the crawl")
    if docs is not None and docs.empty:
        return None, *EMPTY_COHERENCE
    n_topics = given(settings.topics)
    terms = terms if terms is not None else topics.DocumentTerms()
    # Vectors first: sections are scored against them; clusters and the calibration's
    # profile threshold (for link verdicts) only for the model kept. Without documents (a
    # failed stage) these are skipped, and say so.
    vectors = stages.run("topics", lambda: topics.build_topic_model(
        docs, n_topics, terms=terms, clustered=False, profiled=False), None)

    def focused() -> tuple[topics.TopicModel, pd.DataFrame, pd.DataFrame]:
        page_coh, section_scores = coherence.section_coherence(
            vectors, sections, given(settings.incoherent_threshold))
        if not section_scores["incoherent"].any():
            return vectors, page_coh, section_scores
        texts = coherence.focused_documents(docs, sections, section_scores)
        return (topics.build_topic_model(texts, n_topics, terms=terms, clustered=False),
                page_coh, section_scores)

    model, page_coh, section_scores = stages.run("coherence", focused,
                                                 (vectors, *EMPTY_COHERENCE))
    model = stages.run("topics", lambda: topics.with_clusters(topics.with_profile(model),
                                                              n_topics), None)
    return model, page_coh, section_scores


def _page_checks(crawl: CrawlFrames, settings: AuditSettings
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first h1 of each page and the page-level findings (the ``checks`` stage)."""
    return first_h1(crawl.headings), checks.page_findings(
        crawl.pages, crawl.headings, crawl.sections, min_words=settings.thin_content_words)


class Job(Protocol):
    """Work running in another process (writers/background.py's Background)."""

    def join(self, timeout: float | None = None) -> Any: ...

    def cancel(self) -> None: ...


# Starts work in another process and returns it running, or None when it cannot.
Beside = Callable[[Callable[[], Any]], Job | None]
# How long the audit waits for that process once it needs its results; then it computes
# them itself.
BESIDE_SECONDS = 600.0


def _near_duplicates(docs: pd.DataFrame, settings: AuditSettings) -> pd.DataFrame:
    return duplicates.near_duplicates(docs[["url", "text"]],
                                      threshold=settings.near_duplicate_threshold)


def _model_free(crawl: CrawlFrames, rules: promo.PromoRules, docs: pd.DataFrame | None,
                settings: AuditSettings) -> dict[str, tuple[Any, float, float]]:
    """The parts of the audit that need neither the topic model nor each other, for the
    process beside the topics: stage -> (result, seconds, peak RSS in MiB). A part that
    raises is left out; the audit then runs it itself, where its failure is recorded."""
    parts: dict[str, Callable[[], Any]] = {"promotional": lambda: promo_columns(crawl, rules)}
    if docs is not None:
        parts["near_duplicates"] = lambda: _near_duplicates(docs, settings)
    done = {}
    for stage, work in parts.items():
        started = time.perf_counter()
        try:
            result = work()
        except Exception:  # noqa: BLE001 - computed again, and recorded, by the audit
            continue
        done[stage] = (result, time.perf_counter() - started,
                       resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return done


def _joined(job: Job | None, stages: Stages) -> dict[str, Any]:
    """The results of the process beside the topics ({} without one, or when it gave
    none: the audit computes them itself, the same); its costs go into the profile."""
    if job is None:
        return {}
    try:
        done = job.join(timeout=BESIDE_SECONDS)
    except Exception:  # noqa: BLE001 - killed, out of memory, timed out: computed here
        return {}
    for stage, (_, seconds, peak) in done.items():
        stages.profile[f"{stage} (beside the topics)"] = (seconds, peak)
    return {stage: result for stage, (result, _, _) in done.items()}


def build_audit(crawl: CrawlFrames, settings: AuditSettings, rules: promo.PromoRules,
                changes: pd.DataFrame | None = None, prepared: Prepared | None = None,
                progress: Callable[[str], None] | None = None,
                beside: Beside | None = None) -> Audit:
    """The audit of a crawl. Each stage (``Stages``, analysis/model.py) that raises leaves
    its columns empty and its findings absent; the audit then lists it in ``failures``.
    ``prepared``: per-page results computed while the crawl ran (analysis/prepare.py);
    the audit is the same without them. ``progress`` is told each stage as it starts.
    ``beside`` runs the stages that need no topic model (promotional links,
    near-duplicates) in another process while the topics are fitted; the audit is the
    same without it."""
    pages = crawl.pages
    stages = Stages(f"crawl {crawl.crawl_id}", listener=progress)
    net = stages.run("graph", lambda: link_graph(crawl), LinkGraph.empty(crawl))
    h1, page_checks = stages.run("checks", lambda: _page_checks(crawl, settings),
                                 (pd.DataFrame(columns=["h1", "h1_count"]),
                                  checks.empty_findings()))
    if prepared is not None:
        stages.profile["prepare: waiting for the last pages"] = (prepared.waited, 0.0)
    prepared = prepared if prepared is not None else Prepared()
    docs = stages.run("documents", lambda: text.page_documents(
        pages, crawl.sections, crawl.headings, languages=prepared.languages), None)
    job = beside(lambda: _model_free(crawl, rules, docs, settings)) if beside else None
    try:
        # BLAS leaves the forked process its core while it runs (measured on two cores: one
        # BLAS thread instead of two took the analysis from 24.5-25.4 s to 22.0-22.8 s).
        cores = max(1, (os.cpu_count() or 2) - 1)
        with (threadpool_limits(cores) if job is not None else contextlib.nullcontext()):
            model, page_coh, section_scores = topic_analysis(docs, crawl.sections, settings,
                                                             stages, prepared.terms)
        no_clusters = pd.DataFrame(columns=["topic_id", "topic", "size", "terms"])
        ptopics, clusters = (None, no_clusters) if model is None else stages.run(
            "topics", lambda: (topics.page_topics(model), topics.clusters(model)),
            (None, no_clusters))
    except BaseException:
        if job is not None:
            job.cancel()
        raise
    ahead = _joined(job, stages)
    with stages.timed("page table"):
        page_rows = page_table(crawl, net, h1, ptopics, page_coh)
    with stages.timed("link table"):
        link_rows = link_table(crawl, net, rules, stages, ahead.get("promotional"))
    link_rows = stages.run("relevance", lambda: judge_links(
        link_rows, pages, model, given(settings.off_topic_threshold)), link_rows)
    dups = stages.run("near_duplicates", lambda: ahead["near_duplicates"]
                      if "near_duplicates" in ahead else _near_duplicates(docs, settings),
                      pd.DataFrame(columns=["url", "duplicate_of", "similarity"]))
    page_rows["near_duplicate_of"] = page_rows["url"].map(
        dups.set_index("url")["duplicate_of"]) if len(dups) else pd.NA
    with stages.timed("off-topic table"):
        offtopic = offtopic_table(link_rows, page_rows)
    findings = [
        checks.limit_findings(crawl.limits, crawl.start_url),
        checks.staging_copy_findings(crawl.production_host, crawl.start_url),
        net.findings,
        page_checks,
        stages.run("relevance", lambda: _off_topic_findings(link_rows), checks.empty_findings()),
        stages.run("promotional", lambda: promo.promotional_findings(link_rows),
                   checks.empty_findings()),
        stages.run("coherence", lambda: _section_findings(section_scores),
                   checks.empty_findings()),
        stages.run("near_duplicates", lambda: _duplicate_findings(dups),
                   checks.empty_findings()),
    ]
    findings = checks.concat_findings(
        [incomplete_findings(stages.failures, crawl.start_url), *findings])
    page_rows, link_rows = blank_failed(page_rows, link_rows, stages.failures)
    return Audit(
        site=crawl.site, start_url=crawl.start_url, crawl_id=crawl.crawl_id,
        started_at=crawl.started_at, finished_at=crawl.finished_at,
        pages=page_rows, links=link_rows,
        headings=crawl.headings.rename(columns={"ord": "order"}),
        findings=findings, offtopic=offtopic, clusters=clusters,
        sections=section_scores,
        relevance_threshold=model.calibration.threshold if model is not None else None,
        changes=changes, failures=tuple(stages.failures), profile=stages.profile,
    )
