"""Records the crawl produces: plain dataclasses, one per requested URL (and one per
external link target checked).

The extraction functions in :mod:`linkaudit.crawler.extract` fill the HTML parts; the
spider adds what only the response knows (status, timing, depth...). The store
pipeline writes a :class:`PageItem` and everything it carries in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Heading:
    """An h1-h6 element, in document order (all of the document, not only main content)."""

    order: int
    level: int
    text: str
    in_main: bool = True


@dataclass(slots=True)
class Section:
    """A slice of the main content between two headings.

    Section 0 holds what comes before the first heading (level 0, heading "").
    ``text`` is the section's paragraphs (block elements) joined by a blank line.
    """

    order: int
    level: int
    heading: str
    text: str


@dataclass(slots=True)
class Link:
    """One ``<a href>`` occurrence on an HTML page."""

    order: int
    href: str  # raw attribute value as written
    target: str | None  # normalised absolute URL, fragment removed; None if not http(s)
    anchor: str  # visible text, or the alt text of an image link
    rel: str = ""
    position: str = "content"  # content, nav, header, footer or aside
    context: str = ""  # the sentence around the link
    paragraph: str = ""  # the text of the enclosing block element (capped)
    is_image: bool = False


@dataclass(slots=True)
class PageExtract:
    """What one parse of an HTML document yields.

    Filled by :func:`linkaudit.crawler.extract.extract_page`.
    """

    title: str | None = None
    meta_description: str | None = None
    meta_robots: str | None = None
    canonical: str | None = None  # absolute, normalised
    base_href: str | None = None
    lang: str | None = None  # <html lang> as declared
    hreflang: list[tuple[str, str]] = field(default_factory=list)  # (hreflang, absolute url)
    headings: list[Heading] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    word_count: int = 0
    content_hash: str | None = None  # sha1 of the normalised main-content text
    refresh: str | None = None  # where a <meta http-equiv=refresh> sends the reader (absolute)
    limits: list[str] = field(default_factory=list)  # per-page limits that applied


@dataclass(slots=True)
class PageItem:
    """Everything recorded for one requested URL, successful or not."""

    url: str
    status: int | None = None  # None: no response (timeout, refused, DNS, blocked)
    error: str | None = None  # why there is no response, or why the body was not parsed
    redirect_to: str | None = None  # Location of this hop (normalised absolute URL)
    content_type: str | None = None
    response_time: float | None = None  # seconds
    size: int | None = None  # body bytes
    depth: int | None = None  # clicks from the start URL as discovered; None if only in a sitemap
    found_via: str = "link"  # start, link, sitemap, redirect, resume
    referrer: str | None = None
    x_robots_tag: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    blocked_by_robots: bool = False
    fetched_at: str | None = None  # ISO 8601, UTC
    extract: PageExtract | None = None  # None for non-HTML or failed responses
    carried_from: int | None = None  # 304: the crawl whose records of this page still hold


@dataclass(slots=True)
class ExternalCheckItem:
    """The answer one external link target gave (``check_external``), redirects followed."""

    url: str  # the link target as the links name it
    status: int | None = None  # its own answer (a 3xx when it redirects); None: no response
    final_url: str | None = None  # where its redirects ended; None when it did not redirect
    final_status: int | None = None  # the answer at final_url (or at url); None: no response
    error: str | None = None  # why there is no final answer (DNS, refused, redirect loop...)
    method: str = "HEAD"  # the method of the recorded answer: HEAD, or GET after a refused HEAD
    redirects: int = 0  # hops followed
    response_time: float | None = None  # seconds of the last request
    checked_at: str | None = None  # ISO 8601, UTC
