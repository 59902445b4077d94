"""The crawler's parts in one process, without a server: the spider's ``parse`` on a saved
real page (an ``HtmlResponse`` over its bytes), the store pipeline's writes into an
in-memory store, and the fetch-once guard. The end-to-end runs are in test_spider.py."""

from __future__ import annotations

import asyncio
import json

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from twisted.internet import defer

from linkaudit import storage
from linkaudit.crawler.items import Link, PageExtract, PageItem
from linkaudit.crawler.middlewares import (
    AlreadyFetched,
    FetchOnceMiddleware,
    OffSite,
    OnSiteOnlyMiddleware,
)
from linkaudit.crawler.options import CrawlOptions
from linkaudit.crawler.pipelines import StorePipeline, write_item
from linkaudit.crawler.settings import scrapy_settings
from linkaudit.crawler.spiders import site as site_module
from linkaudit.crawler.spiders.site import SiteSpider
from linkaudit.crawler.urls import Site
from tests.conftest import REPO

PAGE = REPO / "tests" / "corpus" / "pages" / "natbienetre" / "la-cerise-fruit-sante"
URL = json.loads(PAGE.with_suffix(".json").read_text("utf-8"))["url"]
HOST = "natbienetre.fr"


def make_spider(tmp_path, **options) -> SiteSpider:
    settings = scrapy_settings(CrawlOptions(**options), store=str(tmp_path / "s.sqlite"))
    crawler = get_crawler(SiteSpider, settings)
    spider = SiteSpider.from_crawler(crawler, start_url=URL)
    crawler.spider = spider
    return spider


def response(url: str, body: bytes, status: int = 200, depth: int = 0,
             headers: dict | None = None) -> Response:
    request = Request(url, meta={"la_page": True, "la_url": url, "la_depth": depth,
                                 "la_found_via": "link", "la_referrer": None})
    return HtmlResponse(url, status=status, body=body, request=request,
                        headers={"Content-Type": "text/html; charset=utf-8", **(headers or {})})


def parse(spider: SiteSpider, resp: Response) -> list:
    async def collect():
        return [output async for output in spider.parse(resp)]

    return asyncio.run(collect())


@pytest.fixture
def in_thread(monkeypatch):
    """The spider extracts in a worker thread of Twisted's pool; here, in this thread."""
    monkeypatch.setattr(site_module, "deferToThread",
                        lambda function, *args: defer.succeed(function(*args)))


def test_parse_of_a_real_page_yields_its_record_then_requests_for_its_on_site_links(
        tmp_path, in_thread):
    spider = make_spider(tmp_path)
    outputs = parse(spider, response(URL, PAGE.with_suffix(".html").read_bytes()))
    item, requests = outputs[0], outputs[1:]
    assert isinstance(item, PageItem) and item.url == URL and item.status == 200
    assert item.extract is not None and item.extract.title
    assert item.extract.word_count > 500
    targets = {link.target for link in item.extract.links if link.target}
    assert requests and all(isinstance(r, Request) for r in requests)
    assert {r.url for r in requests} <= targets | {item.extract.canonical}
    assert all(HOST in r.url for r in requests)  # the page's links to other sites: none asked
    assert any(HOST not in t for t in targets)
    assert {r.meta["la_depth"] for r in requests} == {1}
    assert {r.priority for r in requests} == {-1}


def test_parse_follows_no_link_past_the_depth_limit_and_counts_them(tmp_path, in_thread):
    spider = make_spider(tmp_path, max_depth=0)
    outputs = parse(spider, response(URL, PAGE.with_suffix(".html").read_bytes()))
    assert [type(o) for o in outputs] == [PageItem]
    assert spider.crawler.stats.get_value("linkaudit/cut/max_depth") > 0


def test_parse_records_a_redirect_hop_and_schedules_its_target(tmp_path, in_thread):
    spider = make_spider(tmp_path)
    moved = URL.replace("la-cerise", "cerise")
    outputs = parse(spider, response(moved, b"", status=301, headers={"Location": URL}))
    assert outputs[0].redirect_to == URL and outputs[0].extract is None
    assert [r.url for r in outputs[1:]] == [URL]
    assert outputs[1].meta["la_found_via"] == "redirect"


def item_with_links() -> PageItem:
    links = [Link(order=0, href="/a", target=f"https://{HOST}/a", anchor="A"),
             Link(order=1, href="https://other.example/", target="https://other.example/",
                  anchor="B"),
             Link(order=2, href="mailto:x@example.com", target=None, anchor="C")]
    extract = PageExtract(title="T", meta_robots="index, max-image-preview:none",
                          links=links, hreflang=[("fr", f"https://{HOST}/")], word_count=3)
    return PageItem(url=f"https://www.{HOST}/p", status=200, content_type="text/html",
                    depth=1, x_robots_tag="googlebot: noindex", extract=extract)


def test_pipeline_writes_a_page_with_the_crawlers_verdicts():
    conn = storage.connect(":memory:")
    crawl_id = storage.start_crawl(conn, "s", f"https://{HOST}/", {})
    write_item(conn, crawl_id, item_with_links(), Site({HOST}))
    page = conn.execute("SELECT internal, noindex, title, is_html FROM pages").fetchone()
    assert page == (1, "X-Robots-Tag", "T", 1)
    links = conn.execute("SELECT ord, internal FROM links ORDER BY ord").fetchall()
    assert links == [(0, 1), (1, 0), (2, 0)]
    assert conn.execute("SELECT hreflang, href FROM hreflang").fetchall() == [
        ("fr", f"https://{HOST}/")]


def test_pipeline_carries_an_unchanged_page_over_from_the_earlier_crawl():
    conn = storage.connect(":memory:")
    first = storage.start_crawl(conn, "s", f"https://{HOST}/", {})
    write_item(conn, first, item_with_links(), Site({HOST}))
    second = storage.start_crawl(conn, "s", f"https://{HOST}/", {})
    unchanged = PageItem(url=f"https://www.{HOST}/p", status=304, depth=2, carried_from=first)
    write_item(conn, second, unchanged, Site({HOST}))
    assert conn.execute("SELECT status, depth, not_modified, noindex FROM pages "
                        "WHERE crawl_id = ?", (second,)).fetchone() == (200, 2, 1, "X-Robots-Tag")
    assert conn.execute("SELECT COUNT(*) FROM links WHERE crawl_id = ?",
                        (second,)).fetchone() == (3,)


def test_pipeline_opens_the_configured_store_and_closes_the_crawl(tmp_path):
    spider = make_spider(tmp_path)
    pipeline = StorePipeline.from_crawler(spider.crawler)
    pipeline.open_spider()
    pipeline.process_item(item_with_links())
    with pytest.raises(TypeError):
        pipeline.process_item({"url": "x"})
    pipeline.spider_closed("finished")
    with storage.opened(tmp_path / "s.sqlite") as conn:
        assert storage.get_crawl(conn).state == "complete"
        assert storage.counts(conn, 1)["links"] == 3


def test_fetch_once_lets_each_page_through_once_and_a_retry_again(tmp_path):
    spider = make_spider(tmp_path)
    spider.resume_done = {f"https://{HOST}/done"}
    guard = FetchOnceMiddleware.from_crawler(spider.crawler)

    def page(url, **meta):
        return Request(url, meta={"la_page": True, "la_url": url, **meta})

    assert guard.process_request(page(f"https://{HOST}/new")) is None
    with pytest.raises(AlreadyFetched):
        guard.process_request(page(f"https://{HOST}/new"))
    with pytest.raises(AlreadyFetched):
        guard.process_request(page(f"https://{HOST}/done"))
    assert guard.process_request(page(f"https://{HOST}/new", retry_times=1)) is None
    assert guard.process_request(Request(f"https://{HOST}/robots.txt")) is None


def test_on_site_only_drops_requests_to_other_hosts(tmp_path):
    spider = make_spider(tmp_path, extra_hosts=("cdn.example",))
    guard = OnSiteOnlyMiddleware.from_crawler(spider.crawler)
    assert guard.process_request(Request(f"https://www.{HOST}/x")) is None
    assert guard.process_request(Request("https://cdn.example/x")) is None
    with pytest.raises(OffSite) as raised:
        guard.process_request(Request("https://other.example/robots.txt"))
    assert isinstance(raised.value, IgnoreRequest)
    assert spider.crawler.stats.get_value("linkaudit/offsite_dropped") == 1
