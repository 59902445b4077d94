import ast
import base64
import hashlib
import json
import re
from dataclasses import replace
from html import escape

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from linkaudit.analysis.model import SEVERITY
from linkaudit.writers import page_data, topic_graph
from linkaudit.writers.charts import write_charts
from linkaudit.writers.html_report import (
    CHARTS_DRAWN_INLINE,
    MAX_GROUP_SOURCES,
    MAX_TABLE_ROWS,
    anchor_key,
    flagged_links,
    link_groups,
    render_html,
    write_html,
)
from linkaudit.writers.issues import CATEGORY_HELP
from tests.audit_factory import make_audit
from tests.browser import chromium_available, dump_dom, screenshot
from tests.conftest import REPO

HOSTILE_URL = 'https://sante-exemple.fr/x"onmouseover="alert(2)'
HOSTILE_ANCHOR = "</script><script>alert(4)</script><!-- \u2028"


@pytest.fixture(scope="module")
def audit():
    audit = make_audit(40, hostile_title=True, with_changes=True)
    pages = pd.concat(
        [audit.pages, pd.DataFrame({"url": [HOSTILE_URL], "title": ["t"]})], ignore_index=True
    )
    return replace(audit, pages=pages)


@pytest.fixture(scope="module")
def report(audit, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    charts = write_charts(audit, out)
    return write_html(audit, out, charts), charts


@pytest.fixture(scope="module")
def html(report):
    return report[0].read_text(encoding="utf-8")


def test_report_is_written_as_index_html(report):
    path, _ = report
    assert path.name == "index.html" and path.stat().st_size > 0


def test_crawled_markup_shows_as_text(html):
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_crawled_urls_cannot_break_out_of_attributes(html):
    assert 'onmouseover="alert' not in html
    assert "x&quot;onmouseover=&quot;alert(2)" in html


def main_script(html: str) -> str:
    return re.search(r"<script>(.*?)</script>", html, re.S).group(1)


def embedded_data(html: str) -> dict:
    text = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html,
                     re.S).group(1)
    return json.loads(text)


def test_only_the_report_script_and_its_data_are_present(html):
    assert html.count("<script") == 2
    assert html.count("<script>") == 1  # the one script that runs
    assert html.count('<script type="application/json" id="page-data">') == 1
    assert html.count("</script>") == 2


def test_page_needs_no_network(html, report):
    _, charts = report
    assert not re.search(r"<(link|iframe)\b", html)
    sources = re.findall(r'\bsrc="([^"]*)"', html)
    assert len(sources) == len([c for c in charts if c.name not in CHARTS_DRAWN_INLINE])
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://www.w3.org" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_content_security_policy_allows_exactly_the_inline_script(html):
    script = main_script(html)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src &#x27;sha256-{digest}&#x27;" in html
    assert "default-src &#x27;none&#x27;" in html


def test_embedded_charts_are_the_written_pngs(html, report):
    _, charts = report
    for chart in charts:
        embedded = base64.b64encode(chart.read_bytes()).decode() in html
        assert embedded == (chart.name not in CHARTS_DRAWN_INLINE)


@pytest.mark.parametrize(
    "label",
    [
        "pages crawled",
        "indexable pages",
        "internal links",
        "off-topic links",
        "promotional links",
        "errors",
        "warnings",
        "notices",
    ],
)
def test_headline_figures_are_shown(html, label):
    assert f'<div class="label">{label}</div>' in html


def test_headline_figures_hold_the_counts(html, audit):
    assert f'<div class="value">{len(audit.pages)}</div><div class="label">pages crawled' in html
    off_topic = int(audit.links["off_topic"].sum())
    assert f'<div class="value">{off_topic}</div><div class="label">off-topic links' in html


def test_flagged_links_get_one_row_per_target_and_anchor(html, audit):
    flagged = flagged_links(audit)
    keys = set(zip(flagged["target"], flagged["anchor"].map(anchor_key), strict=True))
    assert html.count('data-group="1"') == len(keys) == len(link_groups(audit))
    assert len(keys) < len(flagged)  # the same link on several pages is one row


def test_a_link_repeated_on_many_pages_is_one_group_with_its_pages_and_suggestions(audit):
    offtopic = audit.offtopic
    row = offtopic.iloc[0]
    sources = [f"https://sante-exemple.fr/page-{i}" for i in range(30)]
    spellings = ["Notre offre !", "notre  offre", "NOTRE OFFRE"]
    repeated = pd.DataFrame([
        {**row.to_dict(), "source": source, "anchor": spellings[i % 3],
         "context": "Découvrez notre offre du moment.",
         "suggested_targets": "https://sante-exemple.fr/a | https://sante-exemple.fr/b"}
        for i, source in enumerate(sources)
    ])
    html = render_html(replace(audit, offtopic=pd.concat([offtopic, repeated])), [])
    row_html = next(part for part in html.split('<tr data-group="1">')
                    if "30 pages</summary>" in part)
    assert row_html.count('<a href="https://sante-exemple.fr/a"') == 1
    listed = row_html.split('<details class="sources">')[1]
    assert listed.count("<li>") == MAX_GROUP_SOURCES  # the least relevant pages first
    assert f"and {30 - MAX_GROUP_SOURCES} more pages" in listed
    assert "Découvrez <mark>notre offre</mark> du moment." in row_html


@pytest.mark.parametrize("anchor, key", [("Notre  Offre !", "notre offre"),
                                         ("« Épilation »", "épilation"), (None, "")])
def test_anchor_key_ignores_case_spacing_and_surrounding_punctuation(anchor, key):
    assert anchor_key(anchor) == key


def test_every_finding_category_has_what_it_means_and_how_to_fix(audit):
    emitted = set()
    for path in (REPO / "analysis").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                    node.func, "id", "")) == "make_findings" and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)):
                emitted.add(node.args[1].value)
    assert {"broken_link", "crawl_limit", "off_topic_link"} <= emitted
    for category in emitted | set(SEVERITY) | {"audit_incomplete"}:
        help_text = CATEGORY_HELP[category]
        assert help_text.title and help_text.meaning and help_text.fix, category


def test_issues_are_grouped_by_severity_and_category_with_their_help(html, audit):
    counts = audit.findings.groupby(["severity", "category"]).size()
    for (severity, category), count in counts.items():
        block = html.split(f'data-severity="{severity}" data-category="{category}"><summary>')[1]
        assert f'<span class="n">{count:,}</span>' in block.split("</summary>")[0]
        assert escape(CATEGORY_HELP[category].fix) in block.split("</details>")[0]
    assert html.count('<details class="issue"') == len(counts)
    for severity in ("error", "warning", "notice"):
        assert f'data-severity-filter="{severity}"' in html
    assert html.count('<option value="') == audit.findings["category"].nunique() + 1  # + every


def test_finding_rows_carry_severity_and_category_for_the_filters(html, audit):
    table = html.split('id="table-findings"')[1].split("</table>")[0]
    assert table.count("<tr data-severity=") == min(len(audit.findings), MAX_TABLE_ROWS)


def test_embedded_data_is_safe_against_crawled_script_tags(audit):
    links = audit.links.copy()
    links.loc[0, "anchor"] = HOSTILE_ANCHOR
    html = render_html(replace(audit, links=links), [])
    assert html.count("</script>") == 2 and "<!--" not in html
    data = embedded_data(html)
    assert " ".join(HOSTILE_ANCHOR.split()) in data["s"]  # spacing is collapsed


def test_embedded_data_lists_each_page_with_its_links_and_findings(html, audit):
    data = embedded_data(html)
    site = audit.pages.drop_duplicates("url")
    assert set(data["u"][: len(data["p"])]) == set(site["url"])
    url = audit.links.loc[audit.links["position"] == "content", "source"].iloc[0]
    index = data["u"].index(url)
    outlinks = [link for link in data["l"] if link[0] == index]
    distinct = audit.links[audit.links["source"] == url].drop_duplicates(
        ["source", "target", "anchor", "position"])
    assert len(outlinks) == len(distinct)
    assert len([f for f in data["f"] if f[0] == index]) == int(
        (audit.findings["url"] == url).sum())
    assert 'id="page-data-cap"' not in html  # nothing left out of a small site


def test_big_sites_embed_a_bounded_share_and_say_so(html, audit, monkeypatch):
    flagged = len([link for link in embedded_data(html)["l"] if link[5]])
    monkeypatch.setattr(page_data, "MAX_LINKS", flagged + 5)
    capped = render_html(audit, [])
    links = embedded_data(capped)["l"]
    assert len(links) == flagged + 5
    assert all(link[5] for link in links[:flagged])  # flagged links are kept first
    assert all(link[3] == 0 for link in links[flagged:])  # then content links
    note = capped.split('id="page-data-cap">')[1].split("</p>")[0]
    assert f"{flagged + 5} of" in note and "links.csv" in note


def test_topic_graph_has_one_clickable_node_per_topic(html, audit):
    graph = topic_graph.topic_graph(audit)
    svg = html.split('<svg class="topic-graph"')[1].split("</svg>")[0]
    assert svg.count('class="topic-node"') == len(graph.nodes) == audit.pages["topic"].nunique()
    assert svg.count("<path ") == len(graph.edges) > 0
    assert embedded_data(html)["topics"] == list(graph.nodes["topic"])


def test_topic_graph_of_a_big_site_keeps_few_nodes():
    graph = topic_graph.topic_graph(make_audit(600, n_topics=40))
    assert len(graph.nodes) == topic_graph.MAX_TOPICS
    assert graph.nodes["topic"].iloc[-1] == topic_graph.OTHER_TOPICS or (
        topic_graph.OTHER_TOPICS in set(graph.nodes["topic"]))
    assert len(graph.edges) <= topic_graph.EDGES_PER_TOPIC * len(graph.nodes)
    assert graph.nodes["pages"].sum() == graph.pages


def test_link_sentence_marks_the_anchor(html):
    assert "consultez notre article sur <mark>" in html


def test_suggested_replacements_are_links(html, audit):
    first = audit.offtopic["suggested_targets"].iloc[0].split(" | ")[0]
    assert f'<li><a href="{first}"' in html


def test_changes_section_only_when_changes_are_given(audit):
    assert 'id="changes"' in render_html(audit, [])
    assert 'id="changes"' not in render_html(replace(audit, changes=None), [])


def test_tables_are_marked_sortable_with_a_filter_box_each(html):
    for table_id in ("table-findings", "table-pages", "table-clusters", "table-changes"):
        assert f'id="{table_id}"' in html
        assert f'data-filter="#{table_id}"' in html


def test_flagged_links_put_off_topic_promotional_links_first_within_a_page(audit):
    flagged = flagged_links(audit)
    for _, rows in flagged.groupby("source", sort=False):
        both = (rows["off_topic"] & rows["promotional"]).to_numpy()
        assert list(both) == sorted(both, reverse=True)


def test_flagged_links_include_promotional_links_to_other_sites(audit):
    flagged = flagged_links(audit)
    external = flagged[flagged["target"].str.startswith("https://partenaire.")]
    assert len(external) == 3 and not external["off_topic"].any()
    assert (external["reason"] == "rel=sponsored").all()


def test_javascript_urls_are_not_made_links(audit):
    offtopic = audit.offtopic.copy()
    offtopic.loc[0, "target"] = "javascript:alert(3)"
    html = render_html(replace(audit, offtopic=offtopic), [])
    assert 'href="javascript:' not in html


def test_large_sites_cap_tables_and_point_to_the_csv(tmp_path):
    big = make_audit(MAX_TABLE_ROWS + 500, n_topics=10)
    html = write_html(big, tmp_path, []).read_text(encoding="utf-8")
    pages_table = html.split('id="table-pages"')[1].split("</table>")[0]
    assert pages_table.count("<tr>") == MAX_TABLE_ROWS + 1  # plus the header row
    assert f'of {len(big.pages):,} rows; every row is in <a href="pages.csv">' in html
    assert len(html.encode()) < 2_500_000


def test_audit_without_findings_or_flagged_links_still_renders(audit):
    empty = replace(
        audit,
        findings=audit.findings.head(0),
        offtopic=audit.offtopic.head(0),
        links=audit.links.assign(promotional=False),
    )
    html = render_html(empty, [])
    assert "No problems found." in html
    assert "No off-topic or promotional links were found." in html


needs_chromium = pytest.mark.skipif(
    not chromium_available(), reason="/usr/bin/chromium is not installed"
)


@needs_chromium
def test_browser_runs_the_script_without_errors(report):
    path, _ = report
    run = dump_dom(path)
    assert run.returncode == 0
    assert run.console_errors == []
    assert re.search(r'<body[^>]*data-ready="1"', run.dom)
    assert re.search(r'id="table-pages-count">\d+ of \d+ rows shown', run.dom)
    assert run.dom.count("<tr") > 40


@needs_chromium
def test_browser_screenshot_is_not_blank(report, tmp_path):
    path, _ = report
    png = tmp_path / "shot.png"
    run = screenshot(path, png)
    assert run.console_errors == []
    with Image.open(png) as image:
        assert image.size == (1280, 2000)
        assert np.asarray(image.convert("L"), dtype=float).var() > 0
