"""The site's link graph at the level of topics: what link_graph.png and index.html draw.

A page-level drawing of a real site is a hairball from a hundred pages on; one node per
topic cluster (the audit's ``topic`` of each page) stays legible at any site size. Nodes
are the biggest topics (the rest merged into one), edges the content links between two
topics, as wide as their count and as red as the share of them judged off-topic. Nodes
sit on a circle, ordered so that strongly linked topics are neighbours, and each label
points away from the centre: labels never cross each other or the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkaudit.analysis.model import Audit, flags

MAX_TOPICS = 24  # nodes on the circle before the labels get too close to read
EDGES_PER_TOPIC = 3  # strongest edges kept per node on average
OTHER_TOPICS = "other topics"
NO_TOPIC = "(no topic)"


@dataclass(frozen=True)
class TopicGraph:
    """Nodes (one row per topic: topic, pages, within, angle, x, y; in circle order) and
    edges (one, other: node indices; links, off_topic: share judged off-topic), plus the
    page-to-node map (by URL) the HTML report uses to list a topic's pages."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    node_of_page: pd.Series
    pages: int
    links: int


def site_pages(pages: pd.DataFrame) -> pd.DataFrame:
    """The audited site's pages that answered 200 (the crawl also requests external URLs)."""
    internal = pages[flags(pages["internal"])] if "internal" in pages.columns else pages
    status = pd.to_numeric(internal["status"], errors="coerce")
    return internal[status.eq(200).fillna(False).to_numpy(dtype=bool)]


def topics_of(pages: pd.DataFrame) -> pd.Series:
    """Each page's topic label, empty or missing ones as ``(no topic)``."""
    return pages["topic"].astype("string").fillna(NO_TOPIC).replace("", NO_TOPIC)


def _content_pairs(audit: Audit, node_of: pd.Series) -> pd.DataFrame:
    links = audit.links
    content = links[
        flags(links["internal"])
        & links["target"].notna()
        & links["position"].astype("string").fillna("").eq("content").to_numpy(dtype=bool)
    ]
    return pd.DataFrame(
        {
            "a": content["source"].map(node_of),
            "b": content["target"].map(node_of),
            "off_topic": flags(content["off_topic"]),
        }
    ).dropna(subset=["a", "b"])


def _circle_order(count: int, weights: np.ndarray, sizes: np.ndarray) -> list[int]:
    """Nodes in circle order: from the biggest, each next one the most linked to the last
    placed (ties: the biggest), so linked topics end up side by side."""
    order = [int(np.argmax(sizes))]
    left = set(range(count)) - set(order)
    while left:
        last = order[-1]
        best = max(left, key=lambda n: (weights[last, n], sizes[n], -n))
        order.append(best)
        left.remove(best)
    return order


def topic_graph(audit: Audit) -> TopicGraph | None:
    """The topic graph of the audit, or None when no page of the site answered 200."""
    pages = site_pages(audit.pages).drop_duplicates("url")
    if pages.empty:
        return None
    topics = topics_of(pages)
    counts = topics.value_counts()
    kept = list(counts.index[:MAX_TOPICS]) if len(counts) <= MAX_TOPICS else list(
        counts.index[: MAX_TOPICS - 1])
    label = topics.where(topics.isin(kept), OTHER_TOPICS)
    names = kept + ([OTHER_TOPICS] if (label == OTHER_TOPICS).any() else [])
    index = {name: i for i, name in enumerate(names)}
    node_of = pd.Series(label.map(index).to_numpy(), index=pages["url"].to_numpy())
    pairs = _content_pairs(audit, node_of)
    pairs = pairs.astype({"a": "int64", "b": "int64"})
    within = pairs[pairs["a"] == pairs["b"]].groupby("a").size()
    across = pairs[pairs["a"] != pairs["b"]]
    low = np.minimum(across["a"], across["b"])
    high = np.maximum(across["a"], across["b"])
    edges = (
        across.assign(one=low, other=high)
        .groupby(["one", "other"], as_index=False)
        .agg(links=("off_topic", "size"), off_topic=("off_topic", "mean"))
    )
    edges = edges.nlargest(EDGES_PER_TOPIC * len(names), "links").reset_index(drop=True)
    sizes = label.value_counts().reindex(names).fillna(0).to_numpy(dtype=int)
    weights = np.zeros((len(names), len(names)))
    for one, other, n in zip(edges["one"], edges["other"], edges["links"], strict=True):
        weights[one, other] = weights[other, one] = n
    order = _circle_order(len(names), weights, sizes)
    position = {node: rank for rank, node in enumerate(order)}
    # A quarter turn back puts the first node at the top; nodes go round clockwise.
    angles = [math.pi / 2 - 2 * math.pi * position[i] / len(names) for i in range(len(names))]
    nodes = pd.DataFrame(
        {
            "topic": names,
            "pages": sizes,
            "within": [int(within.get(i, 0)) for i in range(len(names))],
            "angle": angles,
            "x": np.cos(angles),
            "y": np.sin(angles),
        }
    )
    return TopicGraph(nodes, edges, node_of, pages=len(pages), links=len(pairs))


def node_radius(pages: int, largest: int, smallest: float = 6.0, biggest: float = 30.0) -> float:
    """A node's radius: its area grows with its page count."""
    return smallest + (biggest - smallest) * math.sqrt(pages / max(largest, 1))


def edge_width(links: int, most: int, thinnest: float = 1.0, widest: float = 10.0) -> float:
    """An edge's width: it grows with the square root of its link count."""
    return thinnest + (widest - thinnest) * math.sqrt(links / max(most, 1))


def edge_colour(off_topic_share: float) -> str:
    """Grey for on-topic links, to red as the share judged off-topic reaches one."""
    share = min(max(float(off_topic_share), 0.0), 1.0)
    grey, red = (158, 158, 158), (214, 39, 40)
    mixed = (round(g + (r - g) * share) for g, r in zip(grey, red, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def short_label(text: str, width: int = 26) -> str:
    """A topic label cut to ``width`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
