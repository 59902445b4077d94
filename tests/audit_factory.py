"""Synthetic but realistic audits for the report tests.

``make_audit(40)`` is a small French health site: a handful of topics, content
links that mostly stay on topic, a few call-to-action links to unrelated pages,
broken links, redirects, unreachable pages and incoherent sections.
``make_audit(10_000, n_topics=30)`` is the same shape at scale.
Everything comes from a seeded generator so tests are repeatable.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import numpy as np
import pandas as pd

from linkaudit.analysis.model import Audit

SITE = "sante-exemple.fr"
HOSTILE_TITLE = "<script>alert(1)</script>"
THRESHOLD = 0.25

FRENCH_TOPICS = [
    ("sommeil", ["sommeil", "insomnie", "mélatonine", "réveil"]),
    ("épilation", ["épilation", "laser", "peau", "poils"]),
    ("cheveux", ["cheveux", "chute", "greffe", "cuir chevelu"]),
    ("nutrition", ["nutrition", "diabète", "glucides", "régime"]),
    ("dentaire", ["dents", "implant", "blanchiment", "gencives"]),
    ("ophtalmologie", ["vue", "myopie", "cornée", "lentilles"]),
]
TITLE_PATTERNS = [
    "{word} : causes, symptômes et traitements",
    "Tout savoir sur {word} — conseils d'experts",
    "{word} : quand consulter un spécialiste ?",
    "Prix et déroulé : {word} en clinique",
]
HEADINGS = ["Qu'est-ce que c'est ?", "Symptômes fréquents", "Traitements", "Effets secondaires"]
PROMO_SENTENCE = "Pour aller plus loin, consultez notre article sur {anchor} à la clinique."
CONTENT_SENTENCE = "Les patients concernés lisent aussi notre page « {anchor} », très complète."


def make_audit(
    n_pages: int = 40,
    *,
    n_topics: int | None = None,
    seed: int = 7,
    hostile_title: bool = False,
    with_changes: bool = False,
) -> Audit:
    """Build a whole audit of ``n_pages`` pages spread over ``n_topics`` topics."""
    rng = np.random.default_rng(seed)
    topics = _topics(n_topics or min(len(FRENCH_TOPICS), max(2, n_pages // 8)))
    pages = _pages(n_pages, topics, rng)
    if hostile_title:
        pages.loc[3, "title"] = HOSTILE_TITLE
    links = _links(pages, rng)
    pages = _with_link_counts(pages, links)
    offtopic = _offtopic(pages, links)
    sections = _sections(pages, rng)
    audit = Audit(
        site=SITE,
        start_url=pages.loc[0, "url"],
        crawl_id=3,
        started_at="2025-03-14T09:30:00+00:00",
        finished_at="2025-03-14T09:41:12+00:00",
        pages=pages,
        links=links,
        headings=_headings(pages),
        findings=_findings(pages, links, sections),
        offtopic=offtopic,
        clusters=_clusters(pages, topics),
        sections=sections,
        relevance_threshold=THRESHOLD,
    )
    return replace(audit, changes=_changes(pages)) if with_changes else audit


def _topics(n_topics: int) -> list[tuple[str, list[str]]]:
    if n_topics <= len(FRENCH_TOPICS):
        return FRENCH_TOPICS[:n_topics]
    extra = [
        (f"thème {i} santé", [f"santé{i}", f"soin{i}", f"prévention{i}", "été"])
        for i in range(len(FRENCH_TOPICS), n_topics)
    ]
    return FRENCH_TOPICS + extra


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(ascii_text.lower().split())


def _pages(n: int, topics: list[tuple[str, list[str]]], rng: np.random.Generator) -> pd.DataFrame:
    topic_index = rng.integers(0, len(topics), n)
    topic_index[0] = 0
    status = rng.choice([200, 404, 301, 500], n, p=[0.92, 0.04, 0.03, 0.01])
    status[0] = 200
    # Every audit has at least one missing page and one redirect to report on.
    status[-1], status[-2] = 404, 301
    depth = np.minimum(rng.geometric(0.45, n), 9)
    depth[0] = 0
    unreachable = rng.random(n) < 0.03
    unreachable[0] = False
    rows = []
    for i in range(n):
        label, words = topics[topic_index[i]]
        word = words[i % len(words)]
        url = f"https://{SITE}/" if i == 0 else f"https://{SITE}/{_slug(label)}/{_slug(word)}-{i}"
        title = TITLE_PATTERNS[i % len(TITLE_PATTERNS)].format(word=word.capitalize())
        rows.append({"url": url, "title": title, "topic": label, "h1": title.split(" :")[0]})
    pages = pd.DataFrame(rows)
    ok = status == 200
    noindex = rng.random(n) < 0.04
    pages["status"] = pd.array(status, dtype="Int64")
    pages["redirect_to"] = pd.Series(
        [pages.loc[0, "url"] if s == 301 else None for s in status], dtype="string"
    )
    pages["depth"] = pd.array(np.where(unreachable, -1, depth), dtype="Int64")
    pages.loc[unreachable, "depth"] = pd.NA
    pages["indexable"] = ok & ~noindex
    pages["canonical"] = pages["url"].where(ok)
    pages["h1_count"] = np.where(ok, rng.choice([0, 1, 1, 1, 1, 2], n), 0)
    pages["word_count"] = np.where(ok, rng.integers(80, 2500, n), 0)
    strength = rng.pareto(1.3, n) + 0.01
    strength[0] = strength.max() * 1.5
    pages["pagerank"] = np.round(100 * strength / strength.max(), 2)
    pages["coherence"] = np.round(rng.uniform(0.35, 0.98, n), 3)
    return pages[
        [
            "url",
            "status",
            "redirect_to",
            "depth",
            "indexable",
            "canonical",
            "title",
            "h1",
            "h1_count",
            "word_count",
            "pagerank",
            "topic",
            "coherence",
        ]
    ]


def _links(pages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Nav links to the strongest pages, content links mostly within the page's topic."""
    urls = pages["url"].to_numpy()
    titles = pages["title"].to_numpy()
    topics = pages["topic"].to_numpy()
    by_topic = {t: np.flatnonzero(topics == t) for t in np.unique(topics)}
    strength = pages["pagerank"].to_numpy() + 1.0
    nav_targets = np.argsort(-strength)[:5]
    sources = np.flatnonzero(pages["status"].to_numpy(dtype="int64", na_value=0) == 200)
    rows: list[tuple] = []
    for src in sources:
        for tgt in nav_targets:
            rows.append((src, tgt, "nav", False))
        for _ in range(int(rng.integers(3, 9))):
            cross = rng.random() < 0.18
            pool = np.arange(len(urls)) if cross else by_topic[topics[src]]
            # Strong pages attract links, as on real sites.
            tgt = int(rng.choice(pool, p=strength[pool] / strength[pool].sum()))
            if tgt != src:
                rows.append((src, tgt, "content", cross and topics[tgt] != topics[src]))
    rows.append((sources[0], len(urls) - 1, "content", False))  # a broken link
    frame = pd.DataFrame(rows, columns=["src", "tgt", "position", "cross"])
    return _link_columns(frame, urls, titles, pages["status"].to_numpy(), rng)


def _link_columns(frame, urls, titles, status, rng) -> pd.DataFrame:
    n = len(frame)
    content = (frame["position"] == "content").to_numpy()
    cross = frame["cross"].to_numpy()
    relevance = np.where(cross, rng.uniform(0.02, 0.4, n), rng.uniform(0.4, 0.97, n))
    promotional = cross & (rng.random(n) < 0.5)
    anchors = [t.split(" :")[0].split(" —")[0] for t in titles[frame["tgt"]]]
    context = [
        (PROMO_SENTENCE if promo else CONTENT_SENTENCE).format(anchor=a) if is_content else ""
        for a, promo, is_content in zip(anchors, promotional, content, strict=True)
    ]
    links = pd.DataFrame(
        {
            "source": urls[frame["src"]],
            "target": urls[frame["tgt"]],
            "anchor": anchors,
            "rel": "",
            "internal": True,
            "position": frame["position"],
            "target_status": pd.array(status[frame["tgt"]], dtype="Int64"),
            "promotional": promotional,
            "promo_reason": np.where(promotional, "motif : « consultez notre article »", ""),
            "relevance": np.where(content, np.round(relevance, 3), np.nan),
            "off_topic": content & cross & (relevance < THRESHOLD),
            "context": context,
        }
    )
    external = pd.DataFrame(
        {
            "source": urls[:3],
            "target": "https://partenaire.example.com/offre",
            "anchor": "offre",
            "rel": "sponsored",
            "internal": False,
            "position": "content",
            "promotional": True,
            "promo_reason": "rel=sponsored",
            "off_topic": False,
            "context": "Profitez de l'offre.",
        }
    )
    return pd.concat([links, external], ignore_index=True)


def _with_link_counts(pages: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    internal = links[links["internal"]].drop_duplicates(["source", "target"])
    inlinks = internal.groupby("target").size()
    outlinks = internal.groupby("source").size()
    pages = pages.copy()
    pages.insert(9, "inlinks", pages["url"].map(inlinks).fillna(0).astype("int64"))
    pages.insert(10, "outlinks", pages["url"].map(outlinks).fillna(0).astype("int64"))
    return pages


def _offtopic(pages: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    title = pages.set_index("url")["title"]
    topic = pages.set_index("url")["topic"]
    flagged = links[links["off_topic"]].sort_values("promotional", ascending=False)
    same_topic = pages.groupby("topic")["url"].apply(lambda s: " | ".join(s.head(3)))
    return pd.DataFrame(
        {
            "source": flagged["source"],
            "source_title": flagged["source"].map(title),
            "target": flagged["target"],
            "target_title": flagged["target"].map(title),
            "anchor": flagged["anchor"],
            "context": flagged["context"],
            "promotional": flagged["promotional"],
            "relevance": flagged["relevance"],
            "why": "sujet source « "
            + flagged["source"].map(topic)
            + " », cible « "
            + flagged["target"].map(topic)
            + " » ; aucun terme commun",
            "suggested_targets": flagged["source"].map(topic).map(same_topic),
        }
    ).reset_index(drop=True)


def _headings(pages: pd.DataFrame) -> pd.DataFrame:
    ok = pages[pages["status"] == 200]
    rows = [
        (url, order, 1 if order == 0 else 2, h1 if order == 0 else HEADINGS[order - 1])
        for url, h1 in zip(ok["url"], ok["h1"], strict=True)
        for order in range(4)
    ]
    return pd.DataFrame(rows, columns=["url", "order", "level", "text"])


def _sections(pages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    ok = pages[pages["status"] == 200]
    n = len(ok) * 5
    score = rng.uniform(0.45, 0.95, n)
    drifting_page = np.repeat(rng.random(len(ok)) < 0.15, 5)
    last_section = np.tile(np.arange(5) == 4, len(ok))
    score = np.where(drifting_page & last_section, rng.uniform(0.02, 0.18, n), score)
    headings = ["", *HEADINGS[:3], "À découvrir aussi dans notre clinique"]
    return pd.DataFrame(
        {
            "url": np.repeat(ok["url"].to_numpy(), 5),
            "ord": np.tile(np.arange(5), len(ok)),
            "heading": np.tile(headings, len(ok)),
            "words": rng.integers(40, 400, n),
            "score": np.round(score, 3),
            "incoherent": score < 0.2,
        }
    )


def _findings(pages: pd.DataFrame, links: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    broken = links[links["target_status"] == 404]
    parts = [
        _finding_rows(broken["source"], "broken_link", "error", "cible en 404", broken["target"]),
        _finding_rows(pages.loc[pages["status"] == 500, "url"], "server_error", "error", "500"),
        _finding_rows(
            pages.loc[pages["depth"].isna(), "url"], "orphan_page", "warning", "aucun lien interne"
        ),
        _finding_rows(pages.loc[pages["h1_count"] == 0, "url"], "missing_h1", "warning", ""),
        _finding_rows(
            pages.loc[pages["word_count"].between(1, 200), "url"],
            "thin_content",
            "warning",
            "moins de 200 mots",
        ),
    ]
    off = links[links["off_topic"]]
    parts.append(
        _finding_rows(off["source"], "off_topic_link", "warning", "lien hors sujet", off["target"])
    )
    promo = links[links["promotional"]]
    parts.append(
        _finding_rows(
            promo["source"], "promotional_link", "notice", "appel à l'action", promo["target"]
        )
    )
    drift = sections[sections["incoherent"]]
    parts.append(
        _finding_rows(
            drift["url"],
            "incoherent_section",
            "notice",
            "section « " + drift["heading"] + " » hors sujet",
        )
    )
    parts.append(_finding_rows(pages["url"].iloc[1:4], "missing_meta_description", "notice", ""))
    return pd.concat(parts, ignore_index=True)


def _finding_rows(urls, category, severity, detail, targets=None) -> pd.DataFrame:
    urls = pd.Series(urls).reset_index(drop=True)
    return pd.DataFrame(
        {
            "url": urls,
            "category": category,
            "severity": severity,
            "detail": pd.Series(detail).reset_index(drop=True)
            if not isinstance(detail, str)
            else detail,
            "target": pd.Series(targets).reset_index(drop=True) if targets is not None else None,
        }
    )


def _clusters(pages: pd.DataFrame, topics: list[tuple[str, list[str]]]) -> pd.DataFrame:
    sizes = pages["topic"].value_counts()
    return pd.DataFrame(
        [
            {
                "topic_id": i,
                "topic": label,
                "size": int(sizes.get(label, 0)),
                "terms": ", ".join(words),
            }
            for i, (label, words) in enumerate(topics)
        ]
    )


def _changes(pages: pd.DataFrame) -> pd.DataFrame:
    urls = pages["url"]
    return pd.DataFrame(
        {
            "change": ["new_page", "removed_page", "status_changed", "new_off_topic_link"],
            "url": [urls.iloc[1], f"https://{SITE}/ancienne-page", urls.iloc[2], urls.iloc[4]],
            "detail": ["", "404 désormais", "200 → 301", "lien vers une page sans rapport"],
        }
    )
