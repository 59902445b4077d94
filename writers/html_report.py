"""DIR/index.html: one self-contained page summing up an audit.

The page opens from disk with no network: charts are embedded as data URIs,
the stylesheet and the script (sorting and filtering of tables) are inline, and
a Content-Security-Policy forbids any other source. Every crawled string goes
through :func:`html.escape`, in text and in attributes alike.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd

from analysis.model import (
    SEVERITY_ORDER,
    SUGGESTION_SEPARATOR,
    Audit,
    flags,
    page_titles,
    with_titles,
)
from writers.charts import chart_caption, page_label
from writers.summary import headline_counts, severity_counts

MAX_TABLE_ROWS = 2_000  # beyond this a browser table gets slow; the CSV has everything
TEMPLATES = Path(__file__).with_name("templates")
WIDE_CHARTS = {"link_graph.png", "section_coherence.png"}


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
    frame: pd.DataFrame, columns: list[Column], css_class: str, table_id: str = ""
) -> str:
    head = "".join(_header_cell(c.header, c.kind == "number") for c in columns)
    kinds = [c.kind for c in columns]
    rows = "".join(
        "<tr>" + "".join(_cell(v, k) for v, k in zip(values, kinds, strict=True)) + "</tr>"
        for values in frame[[c.key for c in columns]].itertuples(index=False, name=None)
    )
    id_attr = f' id="{table_id}"' if table_id else ""
    return (
        f'<div class="table-wrap"><table class="sortable {css_class}"{id_attr}>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _filtered_table(
    frame: pd.DataFrame, columns: list[Column], table_id: str, csv_name: str
) -> str:
    """A sortable table with its own filter box, capped at MAX_TABLE_ROWS rows."""
    columns = [c for c in columns if c.key in frame.columns]
    table_id = f"table-{table_id}"  # section ids use the bare names
    shown = frame.head(MAX_TABLE_ROWS)
    return (
        _filter_box(f"#{table_id}", f"{table_id}-count", "Filter rows…")
        + _cap_note(len(shown), len(frame), csv_name)
        + _table_html(shown, columns, "", table_id)
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


def _suggestions(value: object, titles: pd.Series) -> str:
    urls = [u.strip() for u in ("" if _missing(value) else str(value)).split(SUGGESTION_SEPARATOR)]
    items = [f"<li>{_link(u, page_label(titles.get(u), u, 60))}</li>" for u in urls if u]
    return f'<ul class="suggestions">{"".join(items)}</ul>' if items else ""


def _kind_badges(off_topic: bool, promotional: bool) -> str:
    badges = ['<span class="badge off-topic">off-topic</span>'] if off_topic else []
    badges += ['<span class="badge promotional">promotional</span>'] if promotional else []
    return " ".join(badges)


def _flagged_row(row: pd.Series, titles: pd.Series) -> str:
    target_title = row["target_title"]
    label = (
        str(row["target"])
        if _missing(target_title) or not str(target_title).strip()
        else page_label(target_title, str(row["target"]), 60)
    )
    target = _link(row["target"], label)
    return (
        f"<tr><td><strong>{_text(row['anchor'])}</strong><br>→ {target}</td>"
        f"<td>{_kind_badges(row['off_topic'], row['promotional'])}</td>"
        f"{_number_cell(row['relevance'])}"
        f'<td class="sentence">{_highlight(row["context"], row["anchor"])}</td>'
        f'<td class="why">{_text(row["reason"])}</td>'
        f"<td>{_suggestions(row['suggested_targets'], titles)}</td></tr>"
    )


def _flagged_group(source: str, rows: pd.DataFrame, titles: pd.Series) -> str:
    head = "".join(
        _header_cell(h, h == "Relevance")
        for h in ("Link", "Kind", "Relevance", "Sentence", "Why", "Suggested replacements")
    )
    body = "".join(_flagged_row(row, titles) for _, row in rows.iterrows())
    counts = (
        f"{int(rows['off_topic'].sum())} off-topic, {int(rows['promotional'].sum())} promotional"
    )
    return (
        f'<div class="group" data-group="1"><h3>{_text(page_label(titles.get(source), source, 90))}'
        f'</h3><div class="source-url">{_link(source)} · {counts}</div>'
        f'<div class="table-wrap"><table class="sortable flagged"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></div>"
    )


def _flagged_section(audit: Audit) -> str:
    flagged = flagged_links(audit)
    if flagged.empty:
        return "<p>No off-topic or promotional links were found.</p>"
    titles = page_titles(audit.pages)
    shown = flagged.head(MAX_TABLE_ROWS)
    groups = "".join(
        _flagged_group(str(source), rows, titles)
        for source, rows in shown.groupby("source", sort=False)
    )
    return (
        _filter_box("table.flagged", "flagged-count", "Filter links (page, anchor, topic…)")
        + _cap_note(len(shown), len(flagged), "offtopic_links.csv")
        + groups
    )


# ---------------------------------------------------------------- sections


def _cards(audit: Audit) -> str:
    counts = headline_counts(audit)
    labels = {
        "pages": "pages crawled",
        "indexable": "indexable pages",
        "links": "links",
        "internal_links": "internal links",
        "off_topic_links": "off-topic links",
        "promotional_links": "promotional links",
    }
    cards = [(f"{counts[key]:,}", label, "") for key, label in labels.items()]
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
    for path in charts:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        caption = escape(chart_caption(Path(path)))
        wide = ' class="wide"' if Path(path).name in WIDE_CHARTS else ""
        figures.append(
            f'<figure{wide}><img src="data:image/png;base64,{data}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return f'<div class="charts">{"".join(figures)}</div>' if figures else "<p>No charts.</p>"


def _findings_section(audit: Audit) -> str:
    findings = audit.findings
    if findings.empty:
        return "<p>No problems found.</p>"
    rank = findings["severity"].map(SEVERITY_ORDER).fillna(9)
    summary = (
        findings.assign(_rank=rank)
        .groupby(["_rank", "severity", "category"])
        .size()
        .reset_index(name="count")
        .sort_values(["_rank", "count"], ascending=[True, False])
    )
    summary_columns = [
        Column("severity", "Severity", "severity"),
        Column("category", "Category"),
        Column("count", "Findings", "number"),
    ]
    return _table_html(summary, summary_columns, "", "table-findings-summary")


def _all_findings_section(audit: Audit) -> str:
    findings = audit.findings
    if findings.empty:
        return "<p>No problems found.</p>"
    rank = findings["severity"].map(SEVERITY_ORDER).fillna(9)
    ordered = findings.assign(_rank=rank).sort_values(["_rank", "category", "url"])
    return _filtered_table(ordered, FINDING_COLUMNS, "findings", "findings.csv")


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


def _pages_section(audit: Audit) -> str:
    pages = audit.pages.sort_values("pagerank", ascending=False, na_position="last")
    return _filtered_table(pages, PAGE_COLUMNS, "pages", "pages.csv")


def _clusters_section(audit: Audit) -> str:
    clusters = audit.clusters.sort_values("size", ascending=False)
    return _filtered_table(clusters, CLUSTER_COLUMNS, "clusters", "pages.csv")


def _changes_section(changes: pd.DataFrame) -> str:
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
    ) + _filtered_table(changes, columns, "changes", "changes.csv")


# ---------------------------------------------------------------- page


def _sections(audit: Audit, charts: list[Path]) -> list[tuple[str, str, Callable[[], str]]]:
    sections = [
        ("overview", "Overview", lambda: _cards(audit)),
        ("charts", "Charts", lambda: _chart_figures(charts)),
        ("findings", "Findings by severity", lambda: _findings_section(audit)),
        (
            "links-to-fix",
            "Off-topic and promotional links, page by page",
            lambda: _flagged_section(audit),
        ),
    ]
    sections.append(("all-findings", "Every finding", lambda: _all_findings_section(audit)))
    if audit.changes is not None:
        sections.append(
            ("changes", "Changes since the previous crawl", lambda: _changes_section(audit.changes))
        )
    sections += [
        ("pages", "Pages", lambda: _pages_section(audit)),
        ("clusters", "Topic clusters", lambda: _clusters_section(audit)),
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


def render_html(audit: Audit, charts: list[Path]) -> str:
    """The whole report page as one string."""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    sections = _sections(audit, charts)
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
        f"<script>{script}</script></body></html>\n"
    )


def write_html(audit: Audit, out_dir: Path, charts: list[Path]) -> Path:
    """Write DIR/index.html and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(render_html(audit, charts), encoding="utf-8")
    return path
