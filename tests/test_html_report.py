import base64
import hashlib
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.audit_factory import make_audit
from tests.browser import chromium_available, dump_dom, screenshot
from writers.charts import write_charts
from writers.html_report import MAX_TABLE_ROWS, flagged_links, render_html, write_html

HOSTILE_URL = 'https://sante-exemple.fr/x"onmouseover="alert(2)'


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


def test_only_the_report_script_is_present(html):
    assert html.count("<script") == 1


def test_page_needs_no_network(html, report):
    _, charts = report
    assert not re.search(r"<(link|iframe)\b", html)
    sources = re.findall(r'\bsrc="([^"]*)"', html)
    assert len(sources) == len(charts)
    assert all(s.startswith("data:image/png;base64,") for s in sources)


def test_content_security_policy_allows_exactly_the_inline_script(html):
    script = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src &#x27;sha256-{digest}&#x27;" in html
    assert "default-src &#x27;none&#x27;" in html


def test_embedded_charts_are_the_written_pngs(html, report):
    _, charts = report
    for chart in charts:
        assert base64.b64encode(chart.read_bytes()).decode() in html


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


def test_every_source_page_with_an_off_topic_link_gets_a_group(html, audit):
    groups = html.count('data-group="1"')
    flagged_sources = set(audit.offtopic["source"]) | set(
        audit.links.loc[audit.links["promotional"], "source"]
    )
    assert groups == len(flagged_sources)


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
