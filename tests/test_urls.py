"""URL normalisation, tracking parameters and site membership (crawler/urls.py)."""

from __future__ import annotations

import pytest

from linkaudit.crawler.urls import (
    DEFAULT_STRIP_PARAMS,
    host_of,
    is_internal,
    normalize_url,
    site_key,
    tracking_params,
)

BASE = "https://www.example.com/dir/page.html?x=1"

NORMALISED = [
    # (href, base, expected)
    ("http://EXAMPLE.com", None, "http://example.com/"),
    ("HTTPS://Example.COM/Path/Mixed", None, "https://example.com/Path/Mixed"),
    ("http://example.com:80/a", None, "http://example.com/a"),
    ("https://example.com:443/a", None, "https://example.com/a"),
    ("http://example.com:443/a", None, "http://example.com:443/a"),
    ("https://example.com:8443/a", None, "https://example.com:8443/a"),
    ("http://127.0.0.1:8080/x", None, "http://127.0.0.1:8080/x"),
    ("https://example.com/a#section", None, "https://example.com/a"),
    ("https://example.com/a/", None, "https://example.com/a/"),
    ("https://example.com/a/./b/../c", None, "https://example.com/a/c"),
    ("https://example.com/a/%2E%2E/b", None, "https://example.com/b"),
    ("https://example.com/%7euser/%c3%a9", None, "https://example.com/~user/%C3%A9"),
    ("https://example.com/a%2fb", None, "https://example.com/a%2Fb"),
    ("https://example.com/page avec espaces", None, "https://example.com/page%20avec%20espaces"),
    ("https://example.com/santé?q=été", None, "https://example.com/sant%C3%A9?q=%C3%A9t%C3%A9"),
    ("https://bücher.example/", None, "https://xn--bcher-kva.example/"),
    ("https://example.com/?b=2&a=1", None, "https://example.com/?b=2&a=1"),
    ("https://example.com/?utm_source=x&id=3&utm_medium=y", None, "https://example.com/?id=3"),
    ("https://example.com/?gclid=1&fbclid=2", None, "https://example.com/"),
    ("https://example.com/?UTM_Source=x&q=1", None, "https://example.com/?q=1"),
    ("https://example.com/?&&a=1&", None, "https://example.com/?a=1"),
    ("https://example.com?", None, "https://example.com/"),
    ("http://[::1]:8080/a", None, "http://[::1]:8080/a"),
    ("http://user@Example.com/a", None, "http://user@example.com/a"),
    ("  https://example.com/a \n", None, "https://example.com/a"),
    ("https://exa\nmple.com/a\tb", None, "https://example.com/ab"),
    # relative references
    ("other.html", BASE, "https://www.example.com/dir/other.html"),
    ("../x", BASE, "https://www.example.com/x"),
    ("../../../x", BASE, "https://www.example.com/x"),
    ("./", BASE, "https://www.example.com/dir/"),
    ("/root", BASE, "https://www.example.com/root"),
    ("//cdn.example.net/lib/x.js", BASE, "https://cdn.example.net/lib/x.js"),
    ("?q=1", BASE, "https://www.example.com/dir/page.html?q=1"),
    ("#frag", BASE, "https://www.example.com/dir/page.html?x=1"),
    ("  spaced.html  ", BASE, "https://www.example.com/dir/spaced.html"),
    ("HTTP://Other.example/", BASE, "http://other.example/"),
    ("x?utm_campaign=a", "https://example.com", "https://example.com/x"),
]


@pytest.mark.parametrize(("href", "base", "expected"), NORMALISED)
def test_normalize_url(href: str, base: str | None, expected: str) -> None:
    assert normalize_url(href, base) == expected


@pytest.mark.parametrize(("href", "base", "expected"), NORMALISED)
def test_normalize_url_is_idempotent(href: str, base: str | None, expected: str) -> None:
    once = normalize_url(href, base)
    assert once is not None
    assert normalize_url(once) == once
    assert normalize_url(once, BASE) == once


@pytest.mark.parametrize(
    "href",
    [
        "",
        "   ",
        "mailto:someone@example.org",
        "tel:+33123456789",
        "javascript:void(0)",
        "JavaScript:alert(1)",
        "data:text/html,hello",
        "ftp://example.com/file",
        "http://",
        "http://example.com:99999/",
        "http://example.com:port/",
        "relative/without/base",
    ],
)
def test_normalize_url_rejects_what_is_not_an_http_page(href: str) -> None:
    base = None if href.startswith("relative") else BASE
    assert normalize_url(href, base) is None


def test_normalize_url_keeps_params_when_strip_list_empty() -> None:
    url = "https://example.com/?utm_source=x&a=1"
    assert normalize_url(url, strip_params=()) == url


def test_normalize_url_custom_strip_patterns() -> None:
    url = "https://example.com/?ref=nav&sessionid=9&a=1"
    assert normalize_url(url, strip_params=("ref", "session*")) == "https://example.com/?a=1"


def test_tracking_params_lists_matching_names_in_order() -> None:
    url = "https://example.com/?utm_source=n&id=3&fbclid=x&utm_medium=e"
    assert tracking_params(url) == ["utm_source", "fbclid", "utm_medium"]


def test_tracking_params_empty_without_query() -> None:
    assert tracking_params("https://example.com/a") == []


def test_default_strip_params_cover_common_click_ids() -> None:
    assert {"utm_*", "gclid", "fbclid", "msclkid"} <= set(DEFAULT_STRIP_PARAMS)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.Example.com/a", "www.example.com"),
        ("http://127.0.0.1:8080/x", "127.0.0.1:8080"),
        ("https://example.com:443/", "example.com"),
        ("http://user:pw@example.com/", "example.com"),
        ("mailto:a@b.c", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://127.0.0.1:8080/x", "127.0.0.1_8080"),
        ("https://www.example.com/a", "www.example.com"),
        ("http://[::1]:9000/", "1_9000"),
        ("not a url", "unknown-site"),
    ],
)
def test_site_key_is_filesystem_safe(url: str, key: str) -> None:
    assert site_key(url) == key


@pytest.mark.parametrize(
    ("url", "hosts", "expected"),
    [
        ("https://example.com/a", {"example.com"}, True),
        ("https://www.example.com/a", {"example.com"}, True),
        ("https://example.com/a", {"www.example.com"}, True),
        ("https://EXAMPLE.com/a", {"Example.com"}, True),
        ("https://blog.example.com/a", {"example.com"}, False),
        ("https://other.org/", {"example.com"}, False),
        ("http://127.0.0.1:8080/", {"127.0.0.1:8080"}, True),
        ("http://127.0.0.1:9090/", {"127.0.0.1:8080"}, False),
        ("mailto:a@example.com", {"example.com"}, False),
    ],
)
def test_is_internal(url: str, hosts: set[str], expected: bool) -> None:
    assert is_internal(url, hosts) is expected


def test_site_membership_decided_per_origin_agrees_with_is_internal():
    from linkaudit.crawler.urls import Site, is_internal

    hosts = {"example.com", "127.0.0.1:8080"}
    site = Site(hosts)
    urls = ["https://www.example.com/a", "https://EXAMPLE.com:443/b", "http://example.com:80/",
            "http://example.com:8000/", "https://user@example.com/x", "http://127.0.0.1:8080/p",
            "http://127.0.0.1:9090/p", "http://127.0.0.1/p", "https://other.example/",
            "mailto:x@example.com", "//example.com/rel", "https://example.com?q=1",
            "https://example.com#top"]
    for url in urls + urls:  # the second pass answers from the remembered verdicts
        assert (url in site) == is_internal(url, hosts), url
