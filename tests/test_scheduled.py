"""Scheduled runs: incremental crawls, what changed, alerts, locks, report folders."""

from __future__ import annotations

import fcntl
import shutil
import sqlite3

import pandas as pd
import pytest

from tests.conftest import DEMO_SITE, REPO, run_cli, serve

pytestmark = pytest.mark.e2e
START = "articles/baclofene-systeme-nerveux-central.html"
CONFIG = str(REPO / "config/sites/demo.toml")


def run(served, work, *extra):
    return run_cli("run", served.url(START), "--config", CONFIG, "--store",
                   "site/crawls.sqlite", "--quiet", *extra, cwd=work)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The demo site audited, changed (a link removed, a page broken, an off-topic link
    added), and audited again."""
    tmp = tmp_path_factory.mktemp("scheduled")
    site = tmp / "site-files"
    shutil.copytree(DEMO_SITE, site)
    work = tmp / "work"
    work.mkdir()
    served = serve(site)
    try:
        first = run(served, work)
        assert first.returncode == 0, first.stderr
        unchanged = run_cli("crawl", served.url(START), "--config", CONFIG, "--store",
                            "site/crawls.sqlite", "--quiet", cwd=work)
        assert unchanged.returncode == 0, unchanged.stderr
        change_site(site)
        second = run(served, work, "--fail-on", "new:broken_link", "--fail-on",
                     "off_topic_link>100")
    finally:
        served.process.terminate()
    return {"work": work, "site": work / "site", "first": first, "second": second,
            "base": served.base_url}


REMOVED_LINK = ('<a href="../soins/calvitie-greffe-cheveux.html">', "</a>")
BROKEN_PAGE = "articles/maladie-de-parkinson.html"
NEW_LINK_PAGE = "articles/sclerose-en-plaques.html"
NEW_LINK = ('<p>Pour en savoir plus sur nos soins esthétiques, découvrez notre article sur '
            'les <a href="../soins/botox-anti-rides.html">injections anti-rides</a>.</p>')


def change_site(site):
    start = site / START
    html = start.read_text("utf-8")
    opening, closing = REMOVED_LINK
    before, rest = html.split(opening, 1)
    anchor, after = rest.split(closing, 1)
    start.write_text(before + anchor + after, "utf-8")
    (site / BROKEN_PAGE).unlink()
    page = site / NEW_LINK_PAGE
    page.write_text(page.read_text("utf-8").replace("</main>", NEW_LINK + "</main>", 1), "utf-8")


def changes(two_runs) -> pd.DataFrame:
    path = two_runs["site"] / "3" / "changes.csv"
    frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    base = two_runs["base"].rstrip("/")
    for column in ("url", "target"):
        frame[column] = frame[column].str.removeprefix(base)
    return frame


def test_unchanged_site_is_recrawled_with_conditional_requests(two_runs):
    conn = sqlite3.connect(two_runs["site"] / "crawls.sqlite")
    html_pages = conn.execute("SELECT COUNT(*) FROM pages WHERE crawl_id = 1 AND status = 200 "
                              "AND is_html = 1").fetchone()[0]
    carried = conn.execute("SELECT COUNT(*) FROM pages WHERE crawl_id = 2 AND not_modified = 1"
                           ).fetchone()[0]
    assert carried == html_pages
    for table in ("pages", "links", "headings", "sections"):
        counts = conn.execute(f"SELECT crawl_id, COUNT(*) FROM {table} WHERE crawl_id IN (1, 2)"
                              " GROUP BY crawl_id").fetchall()
        assert counts[0][1] == counts[1][1], table


def test_status_change_of_the_broken_page(two_runs):
    rows = changes(two_runs)
    status = rows[rows["change"] == "status_changed"]
    assert list(status["url"]) == ["/" + BROKEN_PAGE]
    assert (status["old"].iloc[0], status["new"].iloc[0]) == ("200", "404")


def test_new_broken_links_point_at_the_broken_page(two_runs):
    rows = changes(two_runs)
    new = rows[(rows["change"] == "new_finding") & (rows["category"] == "broken_link")]
    assert set(new["target"]) == {"/" + BROKEN_PAGE}


def test_new_off_topic_link_is_the_added_one(two_runs):
    rows = changes(two_runs)
    new = rows[rows["change"] == "new_off_topic_link"]
    assert list(zip(new["url"], new["target"], strict=True)) == [
        ("/" + NEW_LINK_PAGE, "/soins/botox-anti-rides.html")]


def test_removed_off_topic_link_is_a_fixed_finding(two_runs):
    rows = changes(two_runs)
    fixed = rows[(rows["change"] == "fixed_finding") & (rows["category"] == "off_topic_link")]
    # Links to the page that broke are no longer judged: they are broken links now.
    fixed = fixed[fixed["target"] != "/" + BROKEN_PAGE]
    assert set(zip(fixed["url"], fixed["target"], strict=True)) == {
        ("/" + START, "/soins/calvitie-greffe-cheveux.html")}


def test_only_the_url_the_broken_page_linked_to_is_gone(two_runs):
    rows = changes(two_runs)
    assert not (rows["change"] == "page_added").any()
    # Only the deleted page linked to this (already missing) URL, so it is no longer requested.
    removed = rows[rows["change"] == "page_removed"]
    assert list(removed["url"]) == ["/articles/tremblement-essentiel.html"]


def test_fail_on_new_broken_link_exits_3_with_a_summary(two_runs):
    second = two_runs["second"]
    assert second.returncode == 3
    assert "new:broken_link" in second.stderr
    assert "off_topic_link>100" not in second.stderr


def test_latest_points_at_the_newest_complete_report(two_runs):
    latest = two_runs["site"] / "latest"
    assert latest.is_symlink()
    assert latest.resolve().name == "3"
    assert (latest / "index.html").exists()


def test_changes_show_in_summary_and_html(two_runs):
    assert "Changes since the previous crawl:" in two_runs["second"].stdout
    assert "status changed" in two_runs["second"].stdout
    html = (two_runs["site"] / "3" / "index.html").read_text("utf-8")
    assert "new_off_topic_link" in html


def test_history_lists_every_crawl(two_runs):
    result = run_cli("history", "--store", "site/crawls.sqlite", cwd=two_runs["work"])
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    crawls = [line.split() for line in lines[1:-1]]
    assert [row[0] for row in crawls] == ["1", "2", "3"]
    assert all(row[2] == "complete" for row in crawls)
    # crawl 2 was only crawled, then analysed as the previous crawl of crawl 3's comparison.
    assert all(row[5] != "-" for row in crawls)


def test_a_second_run_of_the_same_site_is_locked_out(tmp_path):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    with open(site_dir / "crawls.sqlite.lock", "w") as handle:  # the store's lock
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_cli("crawl", "http://127.0.0.1:9/", "--store", "site/crawls.sqlite",
                         cwd=tmp_path)
    assert result.returncode == 4
    assert "another linkaudit run holds" in result.stderr


def test_retention_keeps_the_newest_report_folders(tmp_path):
    from linkaudit.auditing import apply_retention

    for crawl_id in (1, 2, 3, 10):
        (tmp_path / str(crawl_id)).mkdir()
    (tmp_path / "jobs").mkdir()
    gone = apply_retention(tmp_path, keep=2)
    assert sorted(p.name for p in gone) == ["1", "2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["10", "3", "jobs"]


def test_diff_command_compares_the_last_two_complete_crawls(two_runs):
    result = run_cli("diff", "--store", "site/crawls.sqlite", "--out", "diff-out",
                     cwd=two_runs["work"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("crawl 2 → 3:")
    written = pd.read_csv(two_runs["work"] / "diff-out" / "changes.csv", encoding="utf-8-sig",
                          keep_default_na=False, dtype=str)
    assert "status_changed" in set(written["change"])


def test_diff_of_an_unanalysed_crawl_analyses_it_first(two_runs):
    result = run_cli("diff", "1", "2", "--store", "site/crawls.sqlite", "--out", "diff-12",
                     cwd=two_runs["work"])
    assert result.returncode == 0, result.stderr
    written = pd.read_csv(two_runs["work"] / "diff-12" / "changes.csv", encoding="utf-8-sig",
                          keep_default_na=False, dtype=str)
    # crawl 2 revalidated an unchanged site: nothing changed.
    assert written.empty
