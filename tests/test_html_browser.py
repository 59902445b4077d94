"""The report page in a real browser: it loads with no error and no request, its filters
hide what they should, and a URL typed in the search box opens that page's view.

Runs Debian's Chromium through Playwright (no browser download); skipped when either is
missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from linkaudit.writers.charts import write_charts
from linkaudit.writers.html_report import write_html
from tests.audit_factory import make_audit
from tests.browser import InteractiveBrowser, chromium_available, playwright_available

pytestmark = [
    pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed"),
    pytest.mark.skipif(not playwright_available(), reason="playwright is not installed"),
]


@pytest.fixture(scope="module")
def audit():
    return make_audit(60, hostile_title=True)


@pytest.fixture(scope="module")
def report(audit, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    return write_html(audit, out, write_charts(audit, out))


@pytest.fixture(scope="module")
def browser():
    session = InteractiveBrowser()
    yield session
    session.close()


@pytest.fixture(scope="module")
def page(browser, report):
    tab = browser.open(report)
    yield tab
    tab.close()


def visible(page, selector: str) -> int:
    return page.locator(selector).evaluate_all(
        "nodes => nodes.filter(n => n.offsetParent !== null).length")


def test_page_loads_without_errors_or_requests(page, browser, report):
    assert page.title().startswith("linkaudit: sante-exemple.fr")
    assert browser.errors == []
    assert browser.requests == [report.resolve().as_uri()]


def test_crawled_markup_is_shown_as_text(page, browser):
    assert page.locator("text=<script>alert(1)</script>").count() >= 1
    assert not any(error.startswith("dialog") for error in browser.errors)


def test_severity_filter_hides_the_unchecked_severity(page, audit, browser):
    errors = int((audit.findings["severity"] == "error").sum())
    assert visible(page, "details.issue[data-severity='warning']") > 0
    page.uncheck("[data-severity-filter='warning']")
    page.uncheck("[data-severity-filter='notice']")
    assert visible(page, "details.issue[data-severity='warning']") == 0
    assert visible(page, "details.issue[data-severity='notice']") == 0
    assert visible(page, "details.issue[data-severity='error']") > 0
    assert visible(page, "#table-findings tbody tr") == min(errors, 1_000)
    page.check("[data-severity-filter='warning']")
    page.check("[data-severity-filter='notice']")
    assert visible(page, "#table-findings tbody tr") == min(len(audit.findings), 1_000)
    assert browser.errors == []


def test_category_filter_keeps_one_category_open(page, audit, browser):
    page.select_option("#category-filter", "missing_h1")
    assert visible(page, "details.issue") == 1
    assert page.locator("details.issue[data-category='missing_h1']").evaluate("d => d.open")
    assert visible(page, "#table-findings tbody tr") == int(
        (audit.findings["category"] == "missing_h1").sum())
    assert page.inner_text("#issue-filter-count").startswith("1 of ")
    page.select_option("#category-filter", "")
    assert visible(page, "details.issue") == audit.findings["category"].nunique()
    assert browser.errors == []


def test_searching_a_url_opens_its_view(page, audit, browser, tmp_path):
    url = audit.links.loc[audit.links["off_topic"], "source"].iloc[0]
    page.fill("#page-search", url.split("/")[-1])
    page.locator("#page-results button").first.click()
    view = page.locator("#page-view")
    assert view.is_visible()
    assert url in view.inner_text()
    outlinks = view.locator("h4", has_text="Outlinks")
    assert outlinks.count() == 1 and view.locator("h4", has_text="Inlinks").count() == 1
    assert view.locator("tr.flagged-row .badge.off-topic").count() >= 1
    assert "judged off-topic" in view.locator(".relevance-summary").inner_text()
    findings = int((audit.findings["url"] == url).sum())
    assert f"Findings ({findings})" in view.inner_text()
    page.screenshot(path=str(tmp_path / "view.png"))
    assert browser.errors == []


def test_clicking_a_topic_lists_its_pages_and_a_page_opens_its_view(page, audit, browser):
    node = page.locator(".topic-node").first
    node.click()
    panel = page.locator("#topic-panel")
    assert panel.locator("button[data-page]").count() >= 1
    topic = panel.locator("h3").inner_text().rsplit(":", 1)[0]
    count = int((audit.pages.loc[audit.pages["status"] == 200, "topic"] == topic).sum())
    assert panel.locator("h3").inner_text() == f"{topic}: {count} pages"
    panel.locator("button[data-page]").first.click()
    assert page.locator("#page-view").is_visible()
    assert browser.errors == []


def test_screenshot_is_not_blank(page, tmp_path):
    path = tmp_path / "report.png"
    page.screenshot(path=str(path), full_page=False)
    with Image.open(path) as image:
        assert np.asarray(image.convert("L"), dtype=float).var() > 0
