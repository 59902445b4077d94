"""DIR/index.html: one self-contained page a consultant works in.

The page opens from disk with no network: charts are embedded as data URIs, the
stylesheet, the script and the data of the per-page view (JSON, :mod:`page_data`) are
inline, and a Content-Security-Policy forbids any other source and any other script.
Every crawled string goes through :func:`html.escape`, in text and in attributes alike;
the script shows the embedded data as text only.

Whatever the site size, the page stays bounded: issues are grouped by category (a few
example rows each, collapsed), flagged links by target and anchor, tables are capped
and scroll inside a box of fixed height, and every cap names the CSV file with all rows.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

import matplotlib.colors
import pandas as pd

from linkaudit.analysis.model import (
    SEVERITIES,
    SEVERITY,
    SEVERITY_ORDER,
    SUGGESTION_SEPARATOR,
    Audit,
    flags,
    page_titles,
    with_titles,
)
from linkaudit.writers.charts import PLAIN_GREY, chart_caption, page_label, topic_colours
from linkaudit.writers.issues import category_help
from linkaudit.writers.page_data import page_data, script_json
from linkaudit.writers.summary import HEADLINE_LABELS, headline_counts, severity_counts
from linkaudit.writers.topic_graph import (
    TopicGraph,
    edge_colour,
    edge_width,
    node_radius,
    short_label,
    site_pages,
    topic_graph,
)

# The table files the page links to, by table name: the CSV names unless told otherwise.
TABLE_FILES = {name: name for name in ("pages.csv", "links.csv", "findings.csv",
                                       "offtopic_links.csv", "changes.csv")}
MAX_TABLE_ROWS = 1_000  # a table the page shows; the CSV has every row, the per-page view the rest
MAX_LINK_GROUPS = 300  # rows of the grouped off-topic and promotional links
MAX_GROUP_SOURCES = 25  # source pages listed in one group
ISSUE_EXAMPLES = 10  # example findings shown under each category
SUGGESTIONS_SHOWN = 3
TEMPLATES = Path(__file__).with_name("templates")
WIDE_CHARTS = {"section_coherence.png"}
# link_graph.png stays in the folder (for slides); the page draws the same graph as SVG,
# whose topics can be clicked.
CHARTS_DRAWN_INLINE = {"link_graph.png"}


@dataclass(frozen=True)
class Column:
    """How one frame column shows in an HTML table."""

    key: str
    header: str
    kind: str = "text"  # text, url, number, bool, severity


# ---------------------------------------------------------------- cells


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value: object) -> str:
    return "" if _missing(value) else escape(str(value))


def _link(url: object, label: object = None) -> str:
    """A link to a crawled URL; anything but http(s) stays plain text."""
    if _missing(url):
        return ""
    shown = _text(label) if not _missing(label) and str(label).strip() else _text(url)
    if not str(url).lower().startswith(("http://", "https://")):
        return shown
    return f'<a href="{escape(str(url))}" rel="noreferrer noopener">{shown}</a>'


def _number_cell(value: object) -> str:
    if _missing(value):
        return '<td class="num" data-v=""></td>'
    number = float(value)
    shown = f"{number:,.0f}" if number.is_integer() else f"{number:,.3f}".rstrip("0")
    return f'<td class="num" data-v="{number!r}">{shown}</td>'


def _cell(value: object, kind: str) -> str:
    if kind == "number":
        return _number_cell(value)
    if kind == "url":
        return f"<td>{_link(value)}</td>"
    if kind == "bool":
        shown = "" if _missing(value) else ("yes" if bool(value) else "no")
        return f"<td>{shown}</td>"
    if kind == "severity" and not _missing(value):
        return (
            f'<td data-v="{SEVERITY_ORDER.get(value, 9)}">'
            f'<span class="badge {escape(str(value))}">{escape(str(value))}</span></td>'
        )
    return f"<td>{_text(value)}</td>"


# ---------------------------------------------------------------- tables


def _filter_box(selector: str, counter_id: str, placeholder: str) -> str:
    return (
        f'<div class="tools"><input type="search" data-filter="{escape(selector)}" '
        f'data-counter="{counter_id}" placeholder="{escape(placeholder)}" '
        f'aria-label="{escape(placeholder)}"><span class="count" id="{counter_id}"></span></div>'
    )


def _cap_note(shown: int, total: int, csv_name: str) -> str:
    if shown >= total:
        return ""
    return (
        f'<p class="note">Showing the first {shown:,} of {total:,} rows; every row is in '
        f'<a href="{escape(csv_name)}">{escape(csv_name)}</a>.</p>'
    )


def _header_cell(label: str, numeric: bool) -> str:
    type_attr = ' data-type="number"' if numeric else ""
    return f'<th scope="col"{type_attr}>{escape(label)}</th>'


def _table_html(
    frame: pd.DataFrame,
    columns: list[Column],
    css_class: str,
    table_id: str = "",
    row_attributes: list[str] | None = None,
) -> str:
    head = "".join(_header_cell(c.header, c.kind == "number") for c in columns)
    kinds = [c.kind for c in columns]
    attributes = row_attributes or [""] * len(frame)
    rows = "".join(
        f"<tr{extra}>" + "".join(_cell(v, k) for v, k in zip(values, kinds, strict=True))
        + "</tr>"
        for values, extra in zip(
            frame[[c.key for c in columns]].itertuples(index=False, name=None), attributes,
            strict=True)
    )
    id_attr = f' id="{table_id}"' if table_id else ""
    return (
        f'<div class="table-wrap"><table class="sortable {css_class}"{id_attr}>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _filtered_table(
    frame: pd.DataFrame,
    columns: list[Column],
    table_id: str,
    csv_name: str,
    row_attributes: Callable[[pd.DataFrame], list[str]] | None = None,
) -> str:
    """A sortable table with its own filter box, capped at MAX_TABLE_ROWS rows;
    ``row_attributes`` gives the attributes of each shown row's ``<tr>``."""
    columns = [c for c in columns if c.key in frame.columns]
    table_id = f"table-{table_id}"  # section ids use the bare names
    shown = frame.head(MAX_TABLE_ROWS)
    return (
        _filter_box(f"#{table_id}", f"{table_id}-count", "Filter rows…")
        + _cap_note(len(shown), len(frame), csv_name)
        + _table_html(shown, columns, "", table_id,
                      row_attributes(shown) if row_attributes else None)
    )


# ---------------------------------------------------------------- flagged links


def _offtopic_rows(audit: Audit) -> pd.DataFrame:
    """The audit's off-topic table, each link's promo_reason (if any) after its why."""
    off = audit.offtopic
    reason = off["why"].astype("string").fillna("")
    extra = (off["promo_reason"] if "promo_reason" in off.columns
             else pd.Series(pd.NA, index=off.index)).astype("string")
    reason = reason.where(extra.isna() | (extra == ""), reason + " · " + extra)
    return off.assign(off_topic=True, promotional=flags(off["promotional"]), reason=reason)


def _promotional_rows(audit: Audit) -> pd.DataFrame:
    """The links the audit judged promotional but not off-topic (those are in its
    off-topic table already), titled as the off-topic table is."""
    links = audit.links
    promo = links[flags(links["promotional"]) & ~flags(links["off_topic"])]
    return with_titles(promo, audit.pages).assign(
        off_topic=False, promotional=True, reason=promo["promo_reason"], suggested_targets="")


def flagged_links(audit: Audit) -> pd.DataFrame:
    """Off-topic and promotional links, one row each, grouped by source page.

    Nothing is judged here: the off-topic links are the audit's ``offtopic`` table, the
    promotional ones its links flagged ``promotional`` and not ``off_topic``. Sources with
    the most flagged links come first; within a page, links that are both off-topic and
    promotional lead, then the least relevant.
    """
    off = _offtopic_rows(audit)
    promo = _promotional_rows(audit)
    keep = [
        "source",
        "source_title",
        "target",
        "target_title",
        "anchor",
        "context",
        "off_topic",
        "promotional",
        "relevance",
        "reason",
        "suggested_targets",
    ]
    rows = pd.concat([off[keep], promo[keep]], ignore_index=True)
    per_source = rows.groupby("source")["target"].transform("size")
    both = rows["off_topic"] & rows["promotional"]
    return (
        rows.assign(_n=per_source, _both=both)
        .sort_values(
            ["_n", "source", "_both", "relevance"],
            ascending=[False, True, False, True],
            na_position="last",
        )
        .drop(columns=["_n", "_both"])
        .reset_index(drop=True)
    )


def anchor_key(anchor: object) -> str:
    """An anchor as links are grouped by it: case, accents' forms, spacing and the
    punctuation around it do not count ("Notre offre !" and "notre  offre" are one)."""
    text = "" if _missing(anchor) else unicodedata.normalize("NFKC", str(anchor))
    text = " ".join(text.casefold().split())
    return re.sub(r"^\W+|\W+$", "", text)


def _most_common(values: Iterable[object]) -> str:
    counted = Counter(str(v) for v in values if not _missing(v) and str(v).strip())
    return counted.most_common(1)[0][0] if counted else ""


GROUP_KEYS = ["target", "anchor_key"]


def _most_common_by_group(flagged: pd.DataFrame, column: str) -> pd.Series:
    """The most frequent non-empty value of ``column`` in each group (ties: the first)."""
    values = flagged[column].astype("string").str.strip()
    present = flagged.assign(_value=values)[values.fillna("").ne("").to_numpy(dtype=bool)]
    counted = (present.groupby([*GROUP_KEYS, "_value"], sort=False, dropna=False).size()
               .reset_index(name="_n").sort_values("_n", ascending=False, kind="stable")
               .drop_duplicates(GROUP_KEYS))
    return counted.set_index(GROUP_KEYS)["_value"]


def link_groups(audit: Audit) -> pd.DataFrame:
    """Flagged links grouped by target and anchor (:func:`anchor_key`): a template block or
    a call to action repeated on many pages is one row to fix, not one per page.

    Columns: target, anchor_key (:func:`anchor_key`), target_title, anchor (its most common
    spelling), links, pages (the distinct source pages), off_topic and promotional (how
    many of its links are), relevance (the lowest), reason (the most common). Groups with
    the most pages come first, then the least relevant. :func:`group_details` gives the
    suggestions and source pages of the groups shown.
    """
    flagged = _keyed_flagged(audit)
    if flagged.empty:
        return pd.DataFrame(columns=[*GROUP_KEYS, "target_title", "anchor", "links", "pages",
                                     "off_topic", "promotional", "relevance", "reason"])
    groups = flagged.assign(_relevance=pd.to_numeric(flagged["relevance"], errors="coerce")) \
        .groupby(GROUP_KEYS, sort=False, dropna=False).agg(
            links=("source", "size"), pages=("source", "nunique"),
            off_topic=("off_topic", "sum"), promotional=("promotional", "sum"),
            relevance=("_relevance", "min"))
    for column, source in (("target_title", "target_title"), ("anchor", "anchor"),
                           ("reason", "reason")):
        groups[column] = _most_common_by_group(flagged, source).reindex(groups.index).fillna("")
    return groups.reset_index().sort_values(["pages", "relevance"], ascending=[False, True],
                                            na_position="last", kind="stable"
                                            ).reset_index(drop=True)


def _keyed_flagged(audit: Audit) -> pd.DataFrame:
    flagged = flagged_links(audit)
    return flagged.assign(anchor_key=flagged["anchor"].map(anchor_key))


@dataclass
class GroupDetails:
    """What the row of one group lists: its suggested pages (those suggested for most of
    its links first) and its source pages, the least relevant first, as (source,
    source_title, relevance, context, anchor) tuples."""

    suggested: list[str]
    sources: list[tuple]


def group_details(audit: Audit, groups: pd.DataFrame) -> dict[tuple, GroupDetails]:
    """The :class:`GroupDetails` of each of ``groups`` (rows of :func:`link_groups`), by
    (target, key); at most :data:`MAX_GROUP_SOURCES` sources each."""
    flagged = _keyed_flagged(audit).merge(groups[GROUP_KEYS], on=GROUP_KEYS)
    flagged = flagged.sort_values([*GROUP_KEYS, "relevance"], na_position="last", kind="stable")
    details: dict[tuple, GroupDetails] = {}
    counts: dict[tuple, Counter[str]] = {}
    for row in flagged.itertuples(index=False):
        key = (row.target, row.anchor_key)
        entry = details.setdefault(key, GroupDetails([], []))
        if len(entry.sources) < MAX_GROUP_SOURCES and all(
                row.source != seen[0] for seen in entry.sources):
            entry.sources.append(
                (row.source, row.source_title, row.relevance, row.context, row.anchor))
        counted = counts.setdefault(key, Counter())
        if not _missing(row.suggested_targets):
            counted.update(u.strip() for u in str(row.suggested_targets).split(
                SUGGESTION_SEPARATOR) if u.strip())
    for key, entry in details.items():
        entry.suggested = [url for url, _ in counts[key].most_common(SUGGESTIONS_SHOWN)]
    return details


def _highlight(context: object, anchor: object) -> str:
    """The sentence with the anchor text marked, every part escaped."""
    sentence = "" if _missing(context) else str(context)
    needle = "" if _missing(anchor) else str(anchor).strip()
    start = sentence.lower().find(needle.lower()) if needle else -1
    if start < 0:
        return escape(sentence)
    end = start + len(needle)
    return (
        f"{escape(sentence[:start])}<mark>{escape(sentence[start:end])}</mark>"
        f"{escape(sentence[end:])}"
    )


def _suggestions(urls: list[str], titles: pd.Series) -> str:
    items = [f"<li>{_link(u, page_label(titles.get(u), u, 60))}</li>" for u in urls if u]
    return f'<ul class="suggestions">{"".join(items)}</ul>' if items else ""


def _kind_badges(off_topic: int, promotional: int, links: int) -> str:
    def badge(css: str, label: str, count: int) -> str:
        shown = label if count == links else f"{label} ×{count}"
        return f'<span class="badge {css}">{escape(shown)}</span>'

    badges = [badge("off-topic", "off-topic", off_topic)] if off_topic else []
    badges += [badge("promotional", "promotional", promotional)] if promotional else []
    return " ".join(badges)


def _file_link(files: Mapping[str, str], table: str) -> str:
    """A link to the report file holding ``table`` (``links.csv`` -> its file in this
    report's format: ``links.jsonl``, ...)."""
    name = files.get(table, table)
    return f'<a href="{escape(name)}">{escape(name)}</a>'


def _source_list(shown: list[tuple], total: int, files: Mapping[str, str]) -> str:
    items = "".join(
        f"<li>{_link(source, page_label(title, str(source), 70))}"
        f' <span class="rel">{_relevance_text(relevance)}</span>'
        f'<div class="sentence">{_highlight(context, anchor)}</div></li>'
        for source, title, relevance, context, anchor in shown
    )
    more = (f'<li class="note">and {total - len(shown):,} more pages: see '
            f'{_file_link(files, "offtopic_links.csv")} and '
            f'{_file_link(files, "links.csv")}</li>') if total > len(shown) else ""
    label = "1 page" if total == 1 else f"{total:,} pages"
    return (f'<details class="sources"><summary>{label}</summary>'
            f'<ul>{items}{more}</ul></details>')


def _relevance_text(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(number) else f"relevance {number:.2f}"


def _group_row(group: tuple, details: GroupDetails, titles: pd.Series,
               files: Mapping[str, str]) -> str:
    """One group's row; ``group`` is a row of :func:`link_groups` (from ``itertuples``)."""
    label = (str(group.target) if not group.target_title
             else page_label(group.target_title, str(group.target), 60))
    return (
        f'<tr data-group="1"><td><strong>{_text(group.anchor)}</strong><br>→ '
        f"{_link(group.target, label)}</td>"
        f"<td>{_kind_badges(group.off_topic, group.promotional, group.links)}</td>"
        f"{_number_cell(group.pages)}{_number_cell(group.relevance)}"
        f'<td class="why">{_text(group.reason)}</td>'
        f"<td>{_suggestions(details.suggested, titles)}</td>"
        f"<td>{_source_list(details.sources, int(group.pages), files)}</td></tr>"
    )


def _flagged_section(audit: Audit, files: Mapping[str, str]) -> str:
    groups = link_groups(audit)
    if groups.empty:
        return "<p>No off-topic or promotional links were found.</p>"
    titles = page_titles(audit.pages)
    shown = groups.head(MAX_LINK_GROUPS)
    head = "".join(
        _header_cell(h, h in ("Pages", "Lowest relevance"))
        for h in ("Link", "Kind", "Pages", "Lowest relevance", "Why", "Suggested replacements",
                  "Source pages")
    )
    details = group_details(audit, shown)
    body = "".join(
        _group_row(group, details[(group.target, group.anchor_key)], titles, files)
        for group in shown.itertuples(index=False)
    )
    links = int(groups["links"].sum())
    intro = (f'<p class="lead">{links:,} flagged links in {len(groups):,} groups: one row per '
             f"target and anchor, however many pages repeat it. Open <em>Source pages</em> "
             f"for the pages and the sentence around each link.</p>")
    cap = "" if len(shown) == len(groups) else (
        f'<p class="note">Showing the {len(shown):,} groups with the most pages of '
        f'{len(groups):,}; every link is in {_file_link(files, "offtopic_links.csv")} '
        f'(promotional ones in {_file_link(files, "links.csv")}).</p>')
    return (
        intro
        + _filter_box("table.flagged", "flagged-count", "Filter links (page, anchor, topic…)")
        + cap
        + f'<div class="table-wrap"><table class="sortable flagged"><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


# ---------------------------------------------------------------- issues


def _severity_filter(findings: pd.DataFrame) -> str:
    """Severity check boxes and a category list; report.js hides what they leave out."""
    by_severity = findings["severity"].value_counts()
    boxes = "".join(
        f'<label class="sev {severity}"><input type="checkbox" data-severity-filter='
        f'"{severity}" checked> {severity}s ({int(by_severity.get(severity, 0)):,})</label>'
        for severity in SEVERITIES
    )
    by_category = findings["category"].value_counts()
    options = "".join(
        f'<option value="{escape(str(category))}">{escape(category_help(category).title)} '
        f"({int(count):,})</option>"
        for category, count in sorted(by_category.items(), key=lambda item: (
            SEVERITY_ORDER.get(SEVERITY.get(item[0], ""), 9), -item[1]))
    )
    return (
        f'<div class="filters" id="issue-filters" role="group" aria-label="Filter findings">'
        f'<span class="legend">Show</span>{boxes}'
        f'<label>category <select id="category-filter"><option value="">every category'
        f"</option>{options}</select></label>"
        f'<span class="count" id="issue-filter-count"></span></div>'
    )


def _issue_block(category: str, severity: str, rows: pd.DataFrame,
                 files: Mapping[str, str]) -> str:
    help_text = category_help(category)
    examples = rows.head(ISSUE_EXAMPLES)
    body = "".join(
        f"<tr><td>{_link(row.url)}</td><td>{_text(row.detail)}</td>"
        f"<td>{_link(row.target)}</td></tr>"
        for row in examples.itertuples(index=False)
    )
    more = (f'<p class="note">{len(examples):,} of {len(rows):,} shown: the others are in '
            f'<em>Every finding</em> below and in {_file_link(files, "findings.csv")} '
            f"(category {escape(category)}).</p>") if len(rows) > len(examples) else ""
    meaning = (f'<p><strong>What it means.</strong> {escape(help_text.meaning)}</p>'
               if help_text.meaning else "")
    fix = (f'<p><strong>How to fix.</strong> {escape(help_text.fix)}</p>'
           if help_text.fix else "")
    return (
        f'<details class="issue" data-severity="{escape(severity)}" '
        f'data-category="{escape(category)}"><summary><span class="badge {escape(severity)}">'
        f"{escape(severity)}</span> <strong>{escape(help_text.title)}</strong> "
        f'<code>{escape(category)}</code> <span class="n">{len(rows):,}</span></summary>'
        f'<div class="issue-body">{meaning}{fix}<div class="table-wrap short"><table '
        f'class="examples"><thead><tr><th>Page</th><th>Detail</th><th>Link target</th>'
        f"</tr></thead><tbody>{body}</tbody></table></div>{more}</div></details>"
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _issues_section(audit: Audit, files: Mapping[str, str]) -> str:
    findings = audit.findings
    if findings.empty:
        return "<p>No problems found.</p>"
    groups = []
    for severity in [*SEVERITIES, *sorted(set(findings["severity"]) - set(SEVERITIES))]:
        here = findings[findings["severity"] == severity]
        if here.empty:
            continue
        blocks = "".join(
            _issue_block(str(category), str(severity), rows, files)
            for category, rows in sorted(here.groupby("category"), key=lambda kv: -len(kv[1]))
        )
        groups.append(
            f'<div class="severity-group" data-severity-group="{escape(str(severity))}">'
            f"<h3>{escape(str(severity)).capitalize()}s: {len(here):,} findings in "
            f"{_plural(here['category'].nunique(), 'category', 'categories')}</h3>{blocks}</div>"
        )
    return (
        _severity_filter(findings)
        + '<p class="hint">Open a category for what it means, how to fix it and examples; '
        "the filter also applies to <em>Every finding</em>.</p>"
        + "".join(groups)
    )


# ---------------------------------------------------------------- link graph


def _svg_colour(colours: dict, topic: str) -> str:
    return matplotlib.colors.to_hex(colours.get(topic, PLAIN_GREY))


def _graph_svg(graph: TopicGraph, colours: dict) -> str:
    """The topic graph as inline SVG: nodes on a circle, labels pointing outwards, each
    node a button that lists its pages (report.js)."""
    size, radius = 820, 180
    centre = size / 2
    nodes, edges = graph.nodes, graph.edges
    largest = int(nodes["pages"].max())
    most = int(edges["links"].max()) if len(edges) else 1

    def point(node: int, scale: float = 1.0) -> tuple[float, float]:
        return (centre + radius * scale * float(nodes.loc[node, "x"]),
                centre - radius * scale * float(nodes.loc[node, "y"]))

    paths = []
    for one, other, links, share in edges[["one", "other", "links", "off_topic"]].itertuples(
            index=False, name=None):
        (x1, y1), (x2, y2) = point(one), point(other)
        cx = centre + ((x1 + x2) / 2 - centre) * 0.35
        cy = centre + ((y1 + y2) / 2 - centre) * 0.35
        title = (f"{nodes.loc[one, 'topic']} ↔ {nodes.loc[other, 'topic']}: {int(links):,} "
                 f"content links, {share:.0%} judged off-topic")
        paths.append(
            f'<path d="M{x1:.1f} {y1:.1f}Q{cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}" '
            f'stroke="{edge_colour(share)}" stroke-width="{edge_width(int(links), most):.1f}" '
            f'data-one="{int(one)}" data-other="{int(other)}"><title>{_text(title)}</title>'
            f"</path>"
        )
    circles = []
    for node, row in nodes.iterrows():
        r = node_radius(int(row["pages"]), largest, 5, 24)
        x, y = point(node)
        degrees = -math.degrees(float(row["angle"]))
        right = math.cos(float(row["angle"])) >= 0
        lx, ly = point(node, 1 + (r + 6) / radius)
        rotate = degrees if right else degrees + 180
        label = f"{short_label(row['topic'], 24)} ({int(row['pages']):,})"
        title = (f"{row['topic']}: {int(row['pages']):,} pages, {int(row['within']):,} content "
                 f"links within the topic")
        circles.append(
            f'<g class="topic-node" data-node="{node}" tabindex="0" role="button" '
            f'aria-label="{_text(title)}"><title>{_text(title)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" '
            f'fill="{_svg_colour(colours, str(row["topic"]))}"></circle>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{"start" if right else "end"}" '
            f'dominant-baseline="middle" transform="rotate({rotate:.1f} {lx:.1f} {ly:.1f})">'
            f"{_text(label)}</text></g>"
        )
    return (
        f'<svg class="topic-graph" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="Internal links between topics">'
        f'<g class="edges">{"".join(paths)}</g><g class="nodes">{"".join(circles)}</g></svg>'
    )


def _graph_section(graph: TopicGraph | None, audit: Audit) -> str:
    if graph is None:
        return "<p>No page of the site answered 200: there is no link graph to draw.</p>"
    colours = topic_colours(site_pages(audit.pages))
    nodes = graph.nodes
    return (
        f'<p class="lead">{graph.pages:,} pages in {len(nodes)} topics, {graph.links:,} content '
        f"links. Each circle is a topic (its size: the pages), each curve the content links "
        f"between two topics (its width: how many; red: the share judged off-topic). "
        f"Click a topic for its pages; click a page to open it below.</p>"
        f'<div class="graph-layout">{_graph_svg(graph, colours)}'
        f'<div class="topic-panel" id="topic-panel" aria-live="polite"><p class="hint">'
        f"Click a topic (or focus it and press Enter) to list its pages.</p></div></div>"
    )


# ---------------------------------------------------------------- per-page view


def _page_view_section(data: dict, files: Mapping[str, str]) -> str:
    shown, total = data["shown"], data["total"]
    capped = [
        f"{shown[name]:,} of {total[name]:,} {label} (all in {_file_link(files, table)})"
        for name, label, table in (("pages", "pages", "pages.csv"),
                                   ("links", "distinct links", "links.csv"),
                                   ("findings", "findings", "findings.csv"))
        if shown[name] < total[name]
    ]
    note = (f'<p class="note" id="page-data-cap">This page embeds {"; ".join(capped)}: '
            f"flagged and content links first. The tables have every row.</p>"
            if capped else "")
    return (
        '<div class="tools"><input type="search" id="page-search" '
        'placeholder="Type part of a URL or title…" aria-label="Find a page by URL" '
        'autocomplete="off"><span class="count" id="page-search-count"></span></div>'
        f'{note}<ul class="page-results" id="page-results"></ul>'
        '<div class="page-view" id="page-view" hidden></div>'
    )


def _page_data_script(data: dict) -> str:
    return f'<script type="application/json" id="page-data">{script_json(data)}</script>'


# ---------------------------------------------------------------- sections


def _cards(audit: Audit) -> str:
    counts = headline_counts(audit)
    cards = [(f"{counts[key]:,}", label, "") for key, label in HEADLINE_LABELS.items()]
    cards += [
        (f"{n:,}", f"{severity}s", severity)
        for severity, n in severity_counts(audit.findings).items()
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {css}"><div class="value">{value}</div>'
            f'<div class="label">{escape(label)}</div></div>'
            for value, label, css in cards
        )
        + "</div>"
    )


def _chart_figures(charts: Iterable[Path]) -> str:
    figures = []
    for path in (p for p in charts if Path(p).name not in CHARTS_DRAWN_INLINE):
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        caption = escape(chart_caption(Path(path)))
        wide = ' class="wide"' if Path(path).name in WIDE_CHARTS else ""
        figures.append(
            f'<figure{wide}><img src="data:image/png;base64,{data}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return f'<div class="charts">{"".join(figures)}</div>' if figures else "<p>No charts.</p>"


def _all_findings_section(audit: Audit, files: Mapping[str, str]) -> str:
    findings = audit.findings
    if findings.empty:
        return "<p>No problems found.</p>"
    rank = findings["severity"].map(SEVERITY_ORDER).fillna(9)
    ordered = findings.assign(_rank=rank).sort_values(["_rank", "category", "url"])
    return _filtered_table(ordered, FINDING_COLUMNS, "findings", files["findings.csv"],
                           _finding_row_attributes)


def _finding_row_attributes(findings: pd.DataFrame) -> list[str]:
    """Each finding row's severity and category, for the filters of the Issues section."""
    return [f' data-severity="{escape(str(severity))}" data-category="{escape(str(category))}"'
            for severity, category in zip(findings["severity"], findings["category"],
                                          strict=True)]


FINDING_COLUMNS = [
    Column("severity", "Severity", "severity"),
    Column("category", "Category"),
    Column("url", "Page", "url"),
    Column("detail", "Detail"),
    Column("target", "Link target", "url"),
]
PAGE_COLUMNS = [
    Column("url", "URL", "url"),
    Column("title", "Title"),
    Column("status", "Status", "number"),
    Column("depth", "Depth", "number"),
    Column("indexable", "Indexable", "bool"),
    Column("inlinks", "Inlinks", "number"),
    Column("outlinks", "Outlinks", "number"),
    Column("pagerank", "Link score", "number"),
    Column("topic", "Topic"),
    Column("coherence", "Coherence", "number"),
    Column("word_count", "Words", "number"),
]
CLUSTER_COLUMNS = [
    Column("topic", "Topic"),
    Column("size", "Pages", "number"),
    Column("terms", "Terms"),
]


def _pages_section(audit: Audit, files: Mapping[str, str]) -> str:
    pages = audit.pages.sort_values("pagerank", ascending=False, na_position="last")
    return _filtered_table(pages, PAGE_COLUMNS, "pages", files["pages.csv"])


def _clusters_section(audit: Audit, files: Mapping[str, str]) -> str:
    clusters = audit.clusters.sort_values("size", ascending=False)
    return _filtered_table(clusters, CLUSTER_COLUMNS, "clusters", files["pages.csv"])


def _changes_section(changes: pd.DataFrame, files: Mapping[str, str]) -> str:
    if changes.empty:
        return "<p>Nothing changed since the previous crawl.</p>"
    counts = changes["change"].value_counts().rename_axis("change").reset_index(name="count")
    columns = [
        Column(
            c,
            c.replace("_", " ").capitalize(),
            "url" if c in ("url", "target", "source") else "text",
        )
        for c in changes.columns
    ]
    return _table_html(
        counts,
        [Column("change", "Change"), Column("count", "Rows", "number")],
        "",
        "table-changes-summary",
    ) + _filtered_table(changes, columns, "changes", files["changes.csv"])


# ---------------------------------------------------------------- page


def _sections(
    audit: Audit, charts: list[Path], graph: TopicGraph | None, data: dict,
    files: Mapping[str, str]
) -> list[tuple[str, str, Callable[[], str]]]:
    sections = [
        ("overview", "Overview", lambda: _cards(audit)),
        ("issues", "Issues by severity and category", lambda: _issues_section(audit, files)),
        (
            "links-to-fix",
            "Off-topic and promotional links, by target and anchor",
            lambda: _flagged_section(audit, files),
        ),
        ("page-lookup", "One page: its links and findings",
         lambda: _page_view_section(data, files)),
        ("link-graph", "Link graph by topic", lambda: _graph_section(graph, audit)),
        ("charts", "Charts", lambda: _chart_figures(charts)),
        ("all-findings", "Every finding", lambda: _all_findings_section(audit, files)),
    ]
    if audit.changes is not None:
        sections.append(
            ("changes", "Changes since the previous crawl",
             lambda: _changes_section(audit.changes, files))
        )
    sections += [
        ("pages", "Pages", lambda: _pages_section(audit, files)),
        ("clusters", "Topic clusters", lambda: _clusters_section(audit, files)),
    ]
    return sections


def _banners(audit: Audit) -> str:
    """What the reader must know before trusting the page: a crawl cut short by a limit,
    stages of the audit that failed."""
    html = ""
    limits = audit.findings.loc[audit.findings["category"] == "crawl_limit", "detail"]
    if len(limits):
        items = "".join(f"<li>{_text(detail)}</li>" for detail in limits)
        html += (f'<div class="banner limits" role="alert"><h2>Incomplete crawl</h2>'
                 f"<p>A crawl limit stopped the crawl before it reached every page: the "
                 f"reports cover only part of the site.</p><ul>{items}</ul></div>")
    if audit.failures:
        items = "".join(f"<li>stage {_text(f.stage)} failed on {_text(f.subject)}: "
                        f"{_text(f.error)}</li>" for f in audit.failures)
        html += (f'<div class="banner partial" role="alert"><h2>Partial audit</h2>'
                 f"<p>Part of the audit failed; what it would have shown is missing from "
                 f"these reports (the <code>audit_incomplete</code> findings say what). The "
                 f'tracebacks are in <a href="errors.log">errors.log</a>.</p>'
                 f"<ul>{items}</ul></div>")
    return html


def _csp(script: str) -> str:
    """Allow only the inline stylesheet, embedded images and this exact script."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def render_html(audit: Audit, charts: list[Path],
                files: Mapping[str, str] | None = None) -> str:
    """The whole report page as one string; ``files`` names the file each table was
    written to (``links.csv`` -> ``links.jsonl``), the CSV names if not given."""
    files = {**TABLE_FILES, **(files or {})}
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    graph = topic_graph(audit)
    data = page_data(audit, graph.node_of_page if graph is not None else None)
    data["topics"] = [] if graph is None else [str(t) for t in graph.nodes["topic"]]
    sections = _sections(audit, charts, graph, data, files)
    toc = "".join(f'<a href="#{key}">{escape(title)}</a>' for key, title, _ in sections)
    body = "".join(
        f'<section id="{key}"><h2>{escape(title)}</h2>{render()}</section>'
        for key, title, render in sections
    )
    finished = escape(audit.finished_at) if audit.finished_at else "not finished"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(_csp(script))}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>linkaudit: {_text(audit.site)}, crawl {audit.crawl_id}</title>"
        f"<style>{css}</style></head><body>"
        f'<header class="top"><h1>Link audit of {_text(audit.site)}</h1>'
        f"<p>Crawl {audit.crawl_id} from {_link(audit.start_url)}, "
        f"{_text(audit.started_at)} to {finished}</p></header>"
        f'{_banners(audit)}<nav class="toc">{toc}</nav><main>{body}</main>'
        f"{_page_data_script(data)}<script>{script}</script></body></html>\n"
    )


def write_html(audit: Audit, out_dir: Path, charts: list[Path],
               files: Mapping[str, str] | None = None) -> Path:
    """Write DIR/index.html and return its path; ``files`` as for :func:`render_html`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(render_html(audit, charts, files), encoding="utf-8")
    return path
