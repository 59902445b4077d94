"""PNG charts of an audit: link graph, link relevance, strongest pages, depth, clusters, sections.

Each chart function takes the :class:`~analysis.model.Audit` and the PNG path to
write, and returns the path, or None when there is nothing to draw. Figures are
built with :class:`matplotlib.figure.Figure` on an Agg canvas rather than
pyplot, so importing this module never selects a backend or touches global state.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import MaxNLocator

from linkaudit.analysis.model import Audit, flags, page_titles
from linkaudit.writers.topic_graph import (
    edge_colour,
    edge_width,
    node_radius,
    short_label,
    site_pages,
    topic_graph,
)

DPI = 110
MAX_COLOURED_TOPICS = 12  # more colours than this cannot be told apart in a legend
MATRIX_MAX_TOPICS = 15
SECTION_PANELS_MAX = 12
OFF_TOPIC_RED = "#d62728"
PLAIN_GREY = "#9e9e9e"
OTHER_TOPICS = "other topics"
NO_TOPIC = "(no topic)"

ChartFunction = Callable[[Audit, Path], "Path | None"]


# ---------------------------------------------------------------- helpers


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # Crawled text may hold characters DejaVu Sans lacks (emoji, CJK): they
        # render as boxes, which is better than a warning per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(path, dpi=DPI, facecolor="white")
    return path


def _plain(text: object) -> str:
    """Crawled text as matplotlib shows it literally: a '$' would start mathtext."""
    return str(text).replace("$", r"\$")


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def page_label(title: object, url: str, width: int = 42) -> str:
    """A short human label for a page: its title, else the URL path."""
    if isinstance(title, str) and title.strip():
        return _shorten(title, width)
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else "/"
    return _shorten(path, width)


def _site_pages(pages: pd.DataFrame) -> pd.DataFrame:
    """Pages of the audited site (the crawl may have requested external URLs too)."""
    return pages[flags(pages["internal"])] if "internal" in pages.columns else pages


def _internal_links(links: pd.DataFrame) -> pd.DataFrame:
    return links[flags(links["internal"]) & links["target"].notna()]


def _content_links(links: pd.DataFrame) -> pd.DataFrame:
    internal = _internal_links(links)
    return internal[internal["position"].astype("string").fillna("") == "content"]


def _topics_of(pages: pd.DataFrame) -> pd.Series:
    return pages["topic"].astype("string").fillna(NO_TOPIC).replace("", NO_TOPIC)


def topic_colours(pages: pd.DataFrame) -> dict[str, tuple]:
    """One colour per topic, biggest topics first; the tail shares one grey."""
    counts = _topics_of(pages).value_counts()
    palette = matplotlib.colormaps["tab20"].colors
    # Reds (indices 6, 7) are kept for off-topic links; greys (14, 15) for the tail.
    usable = [i for i in range(20) if i not in (6, 7, 14, 15)]
    ordered = [palette[i] for i in usable if i % 2 == 0] + [palette[i] for i in usable if i % 2]
    named = [t for t in counts.index if t != NO_TOPIC][:MAX_COLOURED_TOPICS]
    colours = {topic: ordered[i] for i, topic in enumerate(named)}
    grey = matplotlib.colors.to_rgba(PLAIN_GREY)
    return {topic: colours.get(topic, grey) for topic in counts.index}


def _topic_legend_handles(colours: dict[str, tuple], shown: list[str]) -> list[Line2D]:
    named = [t for t in colours if t in shown and t != NO_TOPIC][:MAX_COLOURED_TOPICS]
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colours[t], label=_shorten(_plain(t), 28))
        for t in named
    ]
    if len(named) < len(set(shown)):
        handles.append(
            Line2D([], [], marker="o", linestyle="", color=PLAIN_GREY, label=OTHER_TOPICS)
        )
    return handles


# ---------------------------------------------------------------- link graph


def _edge_path(one: tuple[float, float], other: tuple[float, float]) -> MplPath:
    """A curve between two nodes of the circle, bent towards the centre so that edges
    between neighbours stay clear of the others."""
    (x1, y1), (x2, y2) = one, other
    bend = 0.35
    control = ((x1 + x2) / 2 * bend, (y1 + y2) / 2 * bend)
    return MplPath([one, control, other], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])


def link_graph(audit: Audit, path: Path) -> Path | None:
    """The internal link graph by topic: one node per topic cluster sized by its pages,
    curves as wide as the content links between two topics and as red as the share of
    them judged off-topic (``writers.topic_graph``). Legible at any site size."""
    graph = topic_graph(audit)
    if graph is None:
        return None
    nodes, edges = graph.nodes, graph.edges
    colours = topic_colours(site_pages(audit.pages))
    grey = matplotlib.colors.to_rgba(PLAIN_GREY)
    figure = _new_figure(11, 9.5)
    ax = figure.add_subplot()
    ax.set_aspect("equal")
    # Points per data unit: the circle has radius 1 in a frame of about 3.6 units.
    scale = 9.5 * 72 / 3.6
    most = int(edges["links"].max()) if len(edges) else 1
    for one, other, links, share in edges[["one", "other", "links", "off_topic"]].itertuples(
        index=False, name=None
    ):
        ax.add_patch(
            PathPatch(
                _edge_path(tuple(nodes.loc[one, ["x", "y"]]), tuple(nodes.loc[other, ["x", "y"]])),
                facecolor="none",
                edgecolor=edge_colour(share),
                linewidth=edge_width(int(links), most, 0.8, 9.0),
                alpha=0.75,
                zorder=1,
                capstyle="round",
            )
        )
    largest = int(nodes["pages"].max())
    radii = [node_radius(int(n), largest, 5, 26) for n in nodes["pages"]]
    ax.scatter(
        nodes["x"],
        nodes["y"],
        s=[(2 * r) ** 2 for r in radii],
        c=[colours.get(t, grey) for t in nodes["topic"]],
        edgecolors="white",
        linewidths=1.2,
        zorder=3,
    )
    for (topic, pages, angle, x, y), radius in zip(
        nodes[["topic", "pages", "angle", "x", "y"]].itertuples(index=False, name=None),
        radii,
        strict=True,
    ):
        degrees = math.degrees(angle)
        right = math.cos(angle) >= 0
        gap = 1 + (radius + 5) / scale
        ax.text(
            x * gap,
            y * gap,
            _plain(f"{short_label(topic)} ({pages:,})"),
            rotation=degrees if right else degrees + 180,
            rotation_mode="anchor",
            ha="left" if right else "right",
            va="center",
            fontsize=9,
            zorder=4,
        )
    ax.set_xlim(-1.8, 1.8)
    ax.set_ylim(-1.8, 1.8)
    ax.set_axis_off()
    ax.set_title(
        f"Internal link graph by topic: {graph.pages:,} pages, {len(nodes)} topics, "
        f"{graph.links:,} content links",
        fontsize=12,
    )
    ax.legend(
        handles=[
            Line2D([], [], color=edge_colour(0), lw=3, label="links between two topics"),
            Line2D([], [], color=edge_colour(1), lw=3, label="... mostly judged off-topic"),
            Line2D([], [], marker="o", linestyle="", color="#555555", markersize=7,
                   label="node size = pages of the topic"),
        ],
        loc="lower left",
        fontsize=8,
        frameon=False,
    )
    return _save(figure, path)


# ---------------------------------------------------------------- distributions


def relevance_distribution(audit: Audit, path: Path) -> Path | None:
    """Histogram of the relevance of internal content links, with the off-topic threshold."""
    content = _content_links(audit.links)
    content = content[content["relevance"].notna()]
    if content.empty:
        return None
    relevance = content["relevance"].astype(float)
    off_topic = flags(content["off_topic"])
    figure = _new_figure(9, 5)
    ax = figure.add_subplot()
    # Real relevances rarely go near 1: zoom on the range they use, threshold included.
    upper = max(float(relevance.max()), audit.relevance_threshold or 0.0) + 0.05
    upper = min(1.0, math.ceil(upper * 10) / 10)
    bins = np.linspace(0, upper, 41)
    ax.hist(
        [relevance[~off_topic], relevance[off_topic]],
        bins=bins,
        stacked=True,
        color=["#4c72b0", OFF_TOPIC_RED],
        label=["on-topic link", "off-topic link"],
    )
    if audit.relevance_threshold is not None:
        ax.axvline(audit.relevance_threshold, color="black", linestyle="--", linewidth=1.2)
        ax.annotate(
            f"off-topic threshold = {audit.relevance_threshold:.2f}",
            (audit.relevance_threshold, 1),
            xycoords=("data", "axes fraction"),
            xytext=(5, -14),
            textcoords="offset points",
            fontsize=9,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85},
        )
    ax.set_xlim(0, upper)
    ax.set_xlabel("topical relevance of the linked page to the linking page (0-1)")
    ax.set_ylabel("internal content links")
    ax.set_title(f"Relevance of {len(content):,} internal content links")
    ax.legend(loc="upper right")
    return _save(figure, path)


def top_pages(audit: Audit, path: Path) -> Path | None:
    """The 20 strongest pages by link score."""
    pages = _site_pages(audit.pages)
    pages = pages[pages["pagerank"].notna()]
    if pages.empty:
        return None
    colours = topic_colours(pages)
    top = pages.nlargest(20, "pagerank").iloc[::-1]
    labels = [_plain(page_label(t, u, 50)) for t, u in zip(top["title"], top["url"], strict=True)]
    topics = list(_topics_of(top))
    figure = _new_figure(10, 0.32 * len(top) + 1.8)
    ax = figure.add_subplot()
    scores = top["pagerank"].astype(float).to_numpy()
    ax.barh(range(len(top)), scores, color=[colours[t] for t in topics])
    ax.set_yticks(range(len(top)), labels, fontsize=8)
    for i, score in enumerate(scores):
        ax.annotate(
            f"{score:.1f}",
            (score, i),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_xlim(0, max(scores.max() * 1.1, 1))
    ax.set_xlabel("link score (0-100, 100 = strongest page of the site)")
    ax.set_ylabel("page")
    ax.set_title(f"Strongest {len(top)} pages by internal link score")
    ax.legend(
        handles=_topic_legend_handles(colours, topics), fontsize=7, loc="lower right", title="topic"
    )
    return _save(figure, path)


def depth_distribution(audit: Audit, path: Path) -> Path | None:
    """Pages per click depth from the start URL, unreachable pages last."""
    pages = _site_pages(audit.pages)
    if pages.empty:
        return None
    depth = pages["depth"].astype("Int64")
    indexable = flags(pages["indexable"])
    levels = sorted(int(d) for d in depth.dropna().unique())
    labels = [str(d) for d in levels] + ["unreachable"]
    keys = [depth == d for d in levels] + [depth.isna()]
    yes = np.array([int((k.fillna(False) & indexable).sum()) for k in keys])
    no = np.array([int((k.fillna(False) & ~indexable).sum()) for k in keys])
    figure = _new_figure(max(6, 0.6 * len(labels) + 3), 4.8)
    ax = figure.add_subplot()
    x = np.arange(len(labels))
    ax.bar(x, yes, color="#4c72b0", label="indexable")
    ax.bar(x, no, bottom=yes, color="#c0c0c0", label="not indexable")
    for xi, total in zip(x, yes + no, strict=True):
        ax.annotate(
            f"{total:,}",
            (xi, total),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(x, labels)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("clicks from the start page")
    ax.set_ylabel("pages")
    ax.set_title("Pages per click depth")
    ax.legend()
    return _save(figure, path)


# ---------------------------------------------------------------- clusters and sections


def _cluster_counts(audit: Audit) -> pd.DataFrame:
    """Content links from cluster to cluster; small clusters merged into one row/column."""
    pages = _site_pages(audit.pages)
    topics = _topics_of(pages)
    kept = set(topics.value_counts().index[:MATRIX_MAX_TOPICS])
    topic_of = pd.Series(
        topics.where(topics.isin(kept), OTHER_TOPICS).to_numpy(), index=pages["url"]
    )
    topic_of = topic_of[~topic_of.index.duplicated()]
    content = _content_links(audit.links)
    pairs = pd.DataFrame(
        {"source": content["source"].map(topic_of), "target": content["target"].map(topic_of)}
    ).dropna()
    if pairs.empty:
        return pd.DataFrame()
    order = [t for t in topics.value_counts().index if t in kept]
    order += [OTHER_TOPICS] if (topic_of == OTHER_TOPICS).any() else []
    counts = pd.crosstab(pairs["source"], pairs["target"])
    return counts.reindex(index=order, columns=order, fill_value=0)


def cluster_matrix(audit: Audit, path: Path) -> Path | None:
    """Heatmap of content links between topic clusters, counts written in the cells."""
    counts = _cluster_counts(audit)
    if counts.empty:
        return None
    values = counts.to_numpy()
    size = 2.5 + 0.55 * len(counts)
    figure = _new_figure(size + 1.5, size)
    ax = figure.add_subplot()
    # The diagonal dwarfs everything on a linear scale; empty cells stay white.
    norm = LogNorm(vmin=1, vmax=max(int(values.max()), 2))
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_equal(values, 0), cmap=cmap, norm=norm)
    dark_from = math.sqrt(norm.vmax)  # halfway up the log scale
    for (row, col), value in np.ndenumerate(values):
        ax.text(
            col,
            row,
            f"{value:,}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > dark_from else "black",
        )
    labels = [_plain(_shorten(t, 24)) for t in counts.index]
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("cluster of the linked page")
    ax.set_ylabel("cluster of the linking page")
    ax.set_title("Content links between topic clusters")
    figure.colorbar(image, ax=ax, shrink=0.7, label="links (log scale)")
    return _save(figure, path)


def _pages_with_incoherent_sections(audit: Audit) -> list[str]:
    sections = audit.sections
    if sections.empty:
        return []
    flagged = sections[flags(sections["incoherent"])]
    ranking = flagged.groupby("url").agg(count=("score", "size"), worst=("score", "min"))
    ranking = ranking.sort_values(["count", "worst"], ascending=[False, True])
    return list(ranking.index[:SECTION_PANELS_MAX])


def _draw_section_panel(ax: Axes, sections: pd.DataFrame, title: str) -> None:
    sections = sections.sort_values("ord")
    labels = [
        _plain(_shorten(h, 30)) if isinstance(h, str) and h.strip() else "(before 1st heading)"
        for h in sections["heading"]
    ]
    scores = sections["score"].astype("Float64").fillna(0).to_numpy(dtype=float)
    colours = [OFF_TOPIC_RED if bad else "#4c72b0" for bad in flags(sections["incoherent"])]
    ax.barh(range(len(labels)), scores, color=colours)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("coherence with the page's topic", fontsize=8)
    ax.set_title(_plain(title), fontsize=8)
    ax.tick_params(axis="x", labelsize=7)


def section_coherence(audit: Audit, path: Path) -> Path | None:
    """One panel per page with an incoherent section: each section's score, drifting ones red."""
    urls = _pages_with_incoherent_sections(audit)
    if not urls:
        return None
    titles = page_titles(audit.pages)
    columns = min(3, len(urls))
    rows = math.ceil(len(urls) / columns)
    figure = _new_figure(5.2 * columns, 2.6 * rows + 0.8)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, url in zip(axes, urls, strict=False):
        _draw_section_panel(
            ax, audit.sections[audit.sections["url"] == url], page_label(titles.get(url), url, 45)
        )
    for ax in axes[len(urls) :]:
        ax.set_axis_off()
    figure.legend(
        handles=[
            Patch(color=OFF_TOPIC_RED, label="incoherent section"),
            Patch(color="#4c72b0", label="on-topic section"),
        ],
        loc="outside lower center",
        ncols=2,
        fontsize=8,
    )
    figure.suptitle("Sections that drift away from their page's topic", fontsize=12)
    return _save(figure, path)


# ---------------------------------------------------------------- all charts

CHARTS: dict[str, tuple[ChartFunction, str]] = {
    "link_graph.png": (link_graph, "Internal link graph"),
    "relevance_distribution.png": (relevance_distribution, "Relevance of internal content links"),
    "top_pages.png": (top_pages, "Strongest pages by link score"),
    "depth_distribution.png": (depth_distribution, "Pages per click depth"),
    "cluster_matrix.png": (cluster_matrix, "Links between topic clusters"),
    "section_coherence.png": (section_coherence, "Sections that drift off topic"),
}


def chart_caption(path: Path) -> str:
    """The caption the HTML report shows under a chart written by :func:`write_charts`."""
    entry = CHARTS.get(path.name)
    return entry[1] if entry else path.stem.replace("_", " ")


def write_charts(audit: Audit, out_dir: Path) -> list[Path]:
    """Write every chart that has something to show into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [draw(audit, out_dir / name) for name, (draw, _) in CHARTS.items()]
    return [path for path in written if path is not None]
