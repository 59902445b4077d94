"""From a stored crawl to the report frames of the contract (docs/report-contract.md).

``build_audit`` only composes the pure functions of the other modules; reading the
store (analysis/load.py) and writing files (analysis/report.py) live apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import checks, coherence, duplicates, graph, promo, templates, text, topics
from analysis.load import CrawlFrames
from analysis.model import Audit

SUGGESTION_SEPARATOR = " | "


@dataclass(frozen=True)
class AuditSettings:
    """The analysis settings (the [analysis] table of the config)."""

    off_topic_threshold: float | None = None
    incoherent_threshold: float | None = None
    topics: int | None = None
    thin_content_words: int = checks.DEFAULT_MIN_WORDS
    near_duplicate_threshold: float = 0.85

    @classmethod
    def from_config(cls, analysis: Any) -> AuditSettings:
        def auto(value: Any) -> Any:
            return None if value == "auto" else value

        return cls(
            off_topic_threshold=auto(analysis.off_topic_threshold),
            incoherent_threshold=auto(analysis.incoherent_threshold),
            topics=auto(analysis.topics),
            thin_content_words=analysis.thin_content_words,
            near_duplicate_threshold=analysis.near_duplicate_threshold,
        )


def first_h1(headings: pd.DataFrame) -> pd.DataFrame:
    """url, h1 (text of the first h1), h1_count."""
    h1 = headings[headings["level"] == 1].sort_values(["url", "ord"])
    grouped = h1.groupby("url", sort=False)["text"]
    return pd.DataFrame({"h1": grouped.first(), "h1_count": grouped.size()}).rename_axis("url")


def page_table(crawl: CrawlFrames, resolved: pd.DataFrame, model: topics.TopicModel | None,
               page_coherence: pd.DataFrame) -> pd.DataFrame:
    """pages.csv: one row per requested URL."""
    pages, links = crawl.pages, crawl.links
    out = pages.set_index("url", drop=False)
    # The contract's redirect_to is where the chain ends; a loop keeps its next hop.
    has_hop = out["redirect_to"].notna()
    out.loc[has_hop, "redirect_to"] = (out.loc[has_hop, "url"].map(graph.final_urls(resolved))
                                       .fillna(out.loc[has_hop, "redirect_to"]))
    depth = graph.click_depth(pages, links, crawl.start_url, resolved)
    out["depth"] = out["url"].map(depth).astype("Int64")
    h1 = first_h1(crawl.headings)
    out["h1"] = out["url"].map(h1["h1"])
    out["h1_count"] = out["url"].map(h1["h1_count"]).fillna(0).astype("Int64")
    out.loc[~out["is_html"], "h1_count"] = pd.NA
    counts = graph.link_counts(pages, links).set_index("url")
    out["inlinks"] = out["url"].map(counts["inlinks"]).fillna(0).astype("Int64")
    out["outlinks"] = out["url"].map(counts["outlinks"]).fillna(0).astype("Int64")
    out["dead_end"] = out["url"].isin(set(graph.dead_ends(pages, links)["url"]))
    score = graph.link_score(pages, links, resolved)
    out["pagerank"] = out["url"].map(score)
    if model is not None:
        ptopics = topics.page_topics(model).set_index("url")
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


def link_table(crawl: CrawlFrames, resolved: pd.DataFrame, model: topics.TopicModel | None,
               rules: promo.PromoRules, threshold: float | None) -> pd.DataFrame:
    """links.csv: every link occurrence with status, promotional and relevance verdicts."""
    pages, links = crawl.pages, crawl.links
    out = promo.classify_links(links, rules)
    out["target_status"] = graph.target_status(pages, links).to_numpy()
    # Relevance is about the page the reader lands on: follow redirects.
    out["landing"] = out["target"].map(graph.final_urls(resolved)).fillna(out["target"])
    out["nofollow"] = graph.is_nofollow(out["rel"])
    out["template"] = templates.template_links(out)
    for column, empty in (("relevance", np.nan), ("off_topic", False), ("why", ""),
                          ("suggested_targets", ""), ("anchor_relevance", np.nan)):
        out[column] = empty
    if model is None:
        return out
    indexable = set(pages.loc[pages["indexable"], "url"])
    scored = (out["internal"] & out["source"].isin(indexable) & out["landing"].isin(indexable)
              & (out["source"] != out["landing"]))
    if scored.any():
        pairs = out.loc[scored, ["source", "landing", "anchor", "context"]].rename(
            columns={"landing": "target"})
        rel = topics.link_relevance(model, pairs.reset_index(drop=True), threshold)
        rel.index = pairs.index
        for column in ("relevance", "off_topic", "why", "suggested_targets", "anchor_relevance"):
            out.loc[scored, column] = rel[column].to_numpy()
    # Navigation, header and footer links are site furniture, not an editor's choice; so
    # are the entries of a hub page's lists (a site map, an index of articles).
    listing = hub_listing_links(crawl.pages, out)
    out.loc[listing & out["off_topic"].astype(bool), "why"] += (
        "; not judged: an entry in the link list of a hub page")
    repeated = out["template"] & ~listing
    out.loc[repeated & out["off_topic"].astype(bool), "why"] += (
        "; not judged: the site's template repeats this link on many pages")
    out["off_topic"] = (out["off_topic"].astype(bool) & (out["position"] == "content")
                        & ~listing & ~out["template"])
    out.loc[~out["off_topic"], "suggested_targets"] = ""
    return out


HUB_LINK_TEXT_SHARE = 0.15  # share of a page's main-content words that are link text
LIST_ENTRY_ANCHOR_SHARE = 0.8  # share of a block's words that are the link's anchor


def _word_counts(texts: pd.Series) -> pd.Series:
    return texts.fillna("").str.split().str.len().fillna(0)


def hub_listing_links(pages: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    """True for a content link that is an entry in a hub page's list of links.

    A hub (site map, index of articles, home page) is a page whose main content is largely
    link text; an entry is a link whose block holds little but its anchor. Such links go
    everywhere by design. A call to action in a hub's prose is still judged.
    """
    content = links["position"] == "content"
    anchor_words = _word_counts(links["anchor"])
    link_text = anchor_words[content].groupby(links.loc[content, "source"]).sum()
    words = pages.set_index("url")["word_count"].astype("Float64")
    share = (link_text / words.reindex(link_text.index)).fillna(0)
    hubs = set(share[share >= HUB_LINK_TEXT_SHARE].index)
    block_words = _word_counts(links["paragraph"])
    entry = (block_words > 0) & (anchor_words >= LIST_ENTRY_ANCHOR_SHARE * block_words)
    return (content & entry & links["source"].isin(hubs)).astype(bool)


def offtopic_table(links: pd.DataFrame, pages: pd.DataFrame) -> pd.DataFrame:
    """The editors' to-do list: internal content links judged off-topic, promotional first."""
    titles = pages.set_index("url")["title"]
    rows = links[links["off_topic"]].copy()
    rows["source_title"] = rows["source"].map(titles)
    rows["target_title"] = rows["landing"].map(titles)
    rows = rows.sort_values(["promotional", "source", "relevance", "ord"],
                            ascending=[False, True, True, True], kind="stable")
    columns = ["source", "source_title", "target", "target_title", "anchor", "context",
               "promotional", "relevance", "why", "suggested_targets", "promo_reason"]
    return rows[columns].reset_index(drop=True)


def _link_findings(links: pd.DataFrame) -> list[pd.DataFrame]:
    off = links[links["off_topic"]].copy()
    if off.empty:
        return [checks.empty_findings(), promo.promotional_findings(links)]
    off["detail"] = ("relevance " + off["relevance"].map("{:.2f}".format) + " — "
                     + off["why"].astype(str))
    return [
        checks.make_findings(off, "off_topic_link", "detail", url="source", target="target"),
        promo.promotional_findings(links),
    ]


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


def topic_analysis(docs: pd.DataFrame, sections: pd.DataFrame, settings: AuditSettings
                   ) -> tuple[topics.TopicModel | None, pd.DataFrame, pd.DataFrame]:
    """The site's topic model, page coherence and section scores.

    Topics and relevance judge each page on its own subject, without the sections that
    drift to another one (they would make the page resemble that subject's pages), so the
    model is built again without them when there are any.
    """
    if docs.empty:
        return (None, pd.DataFrame(columns=coherence.PAGE_COLUMNS),
                pd.DataFrame(columns=coherence.SECTION_COLUMNS))
    model = topics.build_topic_model(docs, settings.topics)
    page_coh, section_scores = coherence.section_coherence(
        model, sections, settings.incoherent_threshold)
    if section_scores["incoherent"].any():
        focused = coherence.focused_documents(docs, sections, section_scores)
        model = topics.build_topic_model(focused, settings.topics)
    return model, page_coh, section_scores


def build_audit(crawl: CrawlFrames, settings: AuditSettings, rules: promo.PromoRules,
                changes: pd.DataFrame | None = None) -> Audit:
    pages = crawl.pages
    resolved = graph.resolve_redirects(pages)
    docs = text.page_documents(pages, crawl.sections, crawl.headings)
    model, page_coh, section_scores = topic_analysis(docs, crawl.sections, settings)
    page_rows = page_table(crawl, resolved, model, page_coh)
    link_rows = link_table(crawl, resolved, model, rules, settings.off_topic_threshold)
    dups = duplicates.near_duplicates(docs[["url", "text"]],
                                      threshold=settings.near_duplicate_threshold)
    page_rows["near_duplicate_of"] = page_rows["url"].map(
        dups.set_index("url")["duplicate_of"]) if len(dups) else pd.NA
    findings = checks.concat_findings([
        checks.staging_copy_findings(crawl.production_host, crawl.start_url),
        graph.redirect_findings(resolved),
        graph.broken_link_findings(graph.broken_links(pages, crawl.links)),
        graph.orphan_findings(graph.orphan_pages(pages, crawl.links)),
        checks.page_findings(pages, crawl.headings, crawl.sections,
                             min_words=settings.thin_content_words),
        *_link_findings(link_rows),
        _section_findings(section_scores),
        _duplicate_findings(dups),
    ])
    return Audit(
        site=crawl.site, start_url=crawl.start_url, crawl_id=crawl.crawl_id,
        started_at=crawl.started_at, finished_at=crawl.finished_at,
        pages=page_rows, links=link_rows,
        headings=crawl.headings.rename(columns={"ord": "order"}),
        findings=findings, offtopic=offtopic_table(link_rows, page_rows),
        clusters=topics.clusters(model) if model is not None else pd.DataFrame(
            columns=["topic_id", "topic", "size", "terms"]),
        sections=section_scores,
        relevance_threshold=model.calibration.threshold if model is not None else None,
        changes=changes,
    )
