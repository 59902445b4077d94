"""Everything linkaudit reads from one HTML document, in one parse and one tree walk.

:func:`extract_page` is pure: bytes (or text) and the page URL in, a
:class:`~crawler.items.PageExtract` out, no Scrapy involved. It never raises on bad
markup; a document that cannot be parsed at all yields an empty ``PageExtract``.

The walk keeps, for every element, where it sits on the page (``content``, ``nav``,
``header``, ``footer`` or ``aside``), whether it is part of the main content, and
whether it is hidden. Text is gathered into *blocks* the way a browser lays it out:
each block-level element (p, li, td, div...) starts a new block, inline elements add
to the current one. Blocks give link paragraphs and context sentences, and the main
blocks, split at headings, give the sections. See ``docs/extraction.md``. Decoding and
parsing live in :mod:`linkaudit.crawler.decoding`, the whitespace, word and sentence helpers in
:mod:`linkaudit.crawler.sentences`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from linkaudit.crawler.decoding import MAX_DEPTH, parse_document
from linkaudit.crawler.items import Heading, Link, PageExtract, Section
from linkaudit.crawler.positions import (
    BLOCK_TAGS,
    CONTENT,
    ELEMENT_POSITIONS,
    FOOTER,
    HEADER,
    HEADING_LEVELS,
    INNER_GUARDED,
    LAYOUT_GUARD_SHARE,
    MAIN_SCOPING_TAGS,
    NAV,
    SKIPPED_TAGS,
    TextWeights,
    declared,
    is_hidden,
    main_region,
)
from linkaudit.crawler.sentences import (
    CONTEXT_CAP,
    collapse_whitespace,
    count_tokens,
    sentence_around,
    window_around,
)
from linkaudit.crawler.urls import DEFAULT_STRIP_PARAMS, normalize_url

# Per-page limits: one huge page costs no more than a limit's worth of work downstream.
# The page is still recorded; what was left out is said in PageExtract.limits.
MAX_LINKS = 20_000  # link occurrences recorded per page, in document order
MAX_HEADINGS = 2_000  # headings recorded per page
MAX_SECTIONS = 1_000  # main-content sections; later headings' text joins the last one
MAX_SECTION_WORDS = 100_000  # main-content words kept as section text (all are counted)
SEARCH_WINDOW = 2000  # characters after the previous link where a misplaced anchor is sought
REFRESH_MAX_DELAY = 100  # seconds: a slower meta refresh is a reload, not a redirect
PARAGRAPH_CAP = 1000  # characters of a link's paragraph

# Elements that change the frame even without attributes.
_FRAMING_TAGS = frozenset(ELEMENT_POSITIONS) | MAIN_SCOPING_TAGS | {"article"}
_REFRESH = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(?:[;,]\s*(?:url\s*=\s*)?(.*))?$", re.I | re.S)


def extract_page(
    body: bytes | str,
    url: str,
    encoding: str | None = None,
    strip_params: Sequence[str] = DEFAULT_STRIP_PARAMS,
) -> PageExtract:
    """Extract title, metadata, headings, sections and links of one HTML document.

    ``body`` is the raw response body (decoded with ``encoding`` when given, otherwise
    from its byte-order mark, ``<meta charset>``, or detection) or already decoded text.
    ``url`` is the page's own URL, against which (or its ``<base href>``) links resolve.
    """
    root, flattened = parse_document(body, encoding)
    if root is None:
        return PageExtract()
    walk = _PageWalk(root)
    walk.run()
    extract = _build_extract(walk, url, tuple(strip_params))
    extract.limits = _limit_notes(walk, flattened)
    return extract


def _limit_notes(walk: _PageWalk, flattened: bool) -> list[str]:
    """What the per-page limits left out, one sentence each (empty for most pages)."""
    notes = []
    if flattened:
        notes.append(f"markup nested deeper than 2,048 elements: levels past {MAX_DEPTH:,}"
                     " flattened (their text and links kept)")
    skipped = walk.skipped
    if skipped["links"]:
        notes.append(f"{MAX_LINKS + skipped['links']:,} links: the first {MAX_LINKS:,} recorded")
    if skipped["headings"]:
        notes.append(f"{MAX_HEADINGS + skipped['headings']:,} headings: the first "
                     f"{MAX_HEADINGS:,} recorded")
    if skipped["sections"]:
        notes.append(f"more than {MAX_SECTIONS:,} sections: later headings' text joins the "
                     "last section")
    if skipped["words"]:
        notes.append(f"main content over {MAX_SECTION_WORDS:,} words: {skipped['words']:,} "
                     "words counted but not kept as section text")
    return notes


# --- the walk -----------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Frame:
    """Where an element's subtree sits. Shared by children until something changes."""

    position: str = CONTENT
    in_region: bool = True  # inside the main region (<main>, the articles, or the body)
    hidden: bool = False
    main_scoped: bool = False  # inside main/aside/nav: <header>/<footer> are not the site's
    # A header declared in the content (an article's own header): its headings are the
    # article's title, content; the rest is its byline.
    content_header: bool = False

    @property
    def in_main(self) -> bool:
        return self.in_region and self.position == CONTENT and not self.hidden


@dataclass(slots=True)
class _Collector:
    """Text gathered inside one element (a link's anchor, a heading's text)."""

    visible_only: bool  # opened in visible content: ignore hidden descendants
    parts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _LinkDraft(_Collector):
    href: str = ""
    rel: str = ""
    position: str = CONTENT
    aria_label: str = ""
    image_alts: list[str] = field(default_factory=list)
    has_image: bool = False
    block: _Block | None = None
    start: int = 0  # index in block.parts where the anchor begins
    end: int | None = None  # index where it ends; None while open or if it left the block
    crossed_blocks: bool = False
    context: str = ""
    paragraph: str = ""


@dataclass(slots=True)
class _HeadingDraft(_Collector):
    level: int = 1
    in_main: bool = False
    section: _SectionDraft | None = None  # the section this heading opens (main content only)


class _Block:
    """Text of one block-level box, and the links that start in it."""

    __slots__ = ("in_main", "in_heading", "parts", "links")

    def __init__(self, in_main: bool = False, in_heading: bool = False) -> None:
        self.in_main = in_main
        self.in_heading = in_heading
        self.parts: list[str] = []
        self.links: list[_LinkDraft] = []


@dataclass(slots=True)
class _SectionDraft:
    level: int
    heading: str = ""
    texts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _HeadData:
    """What <head>-type elements declare (they may also turn up in a malformed body)."""

    title: str | None = None
    description: str | None = None
    robots: list[str] = field(default_factory=list)
    canonical: str | None = None
    base: str | None = None
    hreflang: list[tuple[str, str]] = field(default_factory=list)
    refresh: str | None = None  # the URL of a meta refresh that redirects


class _PageWalk:
    """One pass over the tree, start and end events, no recursion (deep pages are safe)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.head = _HeadData()
        self.weights = TextWeights()
        self.main_roots = main_region(root, self.weights)
        # Ancestors of the main region are never boilerplate by their names: a wrapper
        # such as div.content-sidebar-wrap around the content is not a sidebar.
        self.protected = {a for r in self.main_roots for a in r.iterancestors()}
        self.region_weight: int | None = None
        self.region_seen = False  # the walk has entered the main region
        self.frames = [_Frame(in_region=not self.main_roots)]
        self.collectors: list[_Collector] = []
        self.open_links: list[_LinkDraft | None] = []
        self.open_headings: list[_HeadingDraft] = []  # h1-h6 elements not yet closed
        self.active_heading: _HeadingDraft | None = None  # the one gathering text
        self.heading_drafts: list[_HeadingDraft] = []  # document order
        self.links: list[_LinkDraft] = []
        self.headings: list[Heading] = []  # filled when the walk ends
        self.sections = [_SectionDraft(level=0)]
        self.main_blocks: list[str] = []
        self.section_words = 0  # words kept as section text so far
        self.skipped = {"links": 0, "headings": 0, "sections": 0, "words": 0}
        self.max_depth = 0
        self.block = _Block(in_main=False, in_heading=False)

    def run(self) -> None:
        walker = etree.iterwalk(self.root, events=("start", "end"))
        for event, element in walker:
            if event == "start":
                if self._start(element):
                    walker.skip_subtree()
            else:
                self._end(element)
        self._flush_block()
        self.headings = [self._finish_heading(o, d) for o, d in enumerate(self.heading_drafts)]

    # -- events

    def _start(self, element: etree._Element) -> bool:
        """Handle an opening tag; True when its subtree must be skipped."""
        tag = element.tag
        frames = self.frames
        if not isinstance(tag, str) or tag in SKIPPED_TAGS:
            frames.append(frames[-1])
            if tag == "title" and self.head.title is None:
                self.head.title = collapse_whitespace(element.text)
            return True
        if tag in ("meta", "link", "base"):
            _read_head_element(element, tag, self.head)
        frame = frames[-1]
        # Most elements change nothing; a bare <div> may still be the main region.
        if tag in _FRAMING_TAGS or element.keys() or element in self.main_roots:
            frame = self._frame_for(element, tag, frame)
        is_block = tag in BLOCK_TAGS
        level = HEADING_LEVELS.get(tag) if is_block else None
        if level and frame.content_header and frame.in_region and self.main_roots:
            # The title in an article's own header is content; its byline is not.
            frame = _Frame(CONTENT, frame.in_region, frame.hidden, frame.main_scoped)
        frames.append(frame)
        if is_block:
            self._flush_block()
            if level:
                self._open_heading(level, frame)
            self._new_block(frame)
        if tag == "a":
            self._open_link(element, frame)
        elif tag == "img":
            self._note_image(element)
        elif tag == "br":
            self._add_text(" ", frame)
        text = element.text
        if text and (self.block.parts or self.collectors or not text.isspace()):
            self._add_text(text, frame)
        return False

    def _end(self, element: etree._Element) -> None:
        tag = element.tag
        is_block = tag in BLOCK_TAGS
        if is_block:
            self._flush_block()
            if tag in HEADING_LEVELS:
                self._close_heading()
        if tag == "a":
            self._close_link()
        self.frames.pop()
        frame = self.frames[-1]
        if is_block:
            self._new_block(frame)
        tail = element.tail
        # Whitespace before any text of the block would be trimmed anyway.
        if tail and (self.block.parts or self.collectors or not tail.isspace()):
            self._add_text(tail, frame)

    # -- state

    def _frame_for(self, element: etree._Element, tag: str, parent: _Frame) -> _Frame:
        is_main_root = element in self.main_roots
        if is_main_root:
            self.region_seen = True
        in_region = parent.in_region or is_main_root
        position, inner, layout = declared(element, tag, parent.main_scoped)
        if (inner or layout) and element not in self.protected:
            if inner is not None and inner in INNER_GUARDED and in_region:
                inner = self._unless_most_of_content(element, inner)
            if inner is not None:
                position = inner
            elif layout is not None and not (parent.main_scoped and layout in (HEADER, FOOTER)):
                position = self._unless_most_of_content(element, layout) if in_region else layout
        hidden = parent.hidden or is_hidden(element)
        main_scoped = tag in MAIN_SCOPING_TAGS or (
            (parent.main_scoped or (is_main_root and _is_main_landmark(element)))
            and tag != "article"
        )
        if position is None:
            content_header = parent.content_header
        else:
            content_header = position == HEADER and parent.position == CONTENT
        frame = _Frame(position or parent.position, in_region, hidden, main_scoped,
                       content_header)
        return parent if frame == parent else frame

    def _unless_most_of_content(self, element: etree._Element, position: str) -> str | None:
        """A position read from names, unless it names a box that holds most of the
        content's text: page builders call the article's containers widgets or columns,
        and a data table's wrapper "pagination-right"."""
        if self.region_weight is None:
            roots = self.main_roots or [self.root]
            self.region_weight = sum(map(self.weights, roots))
        if self.weights(element) >= LAYOUT_GUARD_SHARE * max(self.region_weight, 1):
            return None
        return position

    def _add_text(self, text: str, frame: _Frame) -> None:
        for collector in self.collectors:
            if not (collector.visible_only and frame.hidden):
                collector.parts.append(text)
        if not frame.hidden:
            self.block.parts.append(text)

    # -- blocks and sections

    def _new_block(self, frame: _Frame) -> None:
        # The flushed block is reused unless links still refer to it.
        block = self.block
        block.in_main = frame.in_main
        block.in_heading = self.active_heading is not None

    def _flush_block(self) -> None:
        if self.collectors:  # a block boundary inside an anchor separates words
            for collector in self.collectors:
                collector.parts.append(" ")
        block = self.block
        if not block.parts and not block.links:
            return
        text = collapse_whitespace("".join(block.parts))
        if block.links:
            search_from = 0
            prefix = _CollapsedPrefix(block.parts)
            for draft in block.links:
                preceding = prefix.length_before(draft.start)
                search_from = _place_link(draft, text, block.parts, search_from, preceding)
            self.block = _Block()
        else:
            block.parts = []
        if text and block.in_main:
            self.main_blocks.append(text)
            if not block.in_heading:
                words = text.count(" ") + 1
                room = MAX_SECTION_WORDS - self.section_words
                if words > room:  # keep what fits, count the rest
                    self.skipped["words"] += words - max(room, 0)
                    text = " ".join(text.split(" ", room)[:room]) if room > 0 else ""
                    words = max(room, 0)
                if text:
                    self.section_words += words
                    self.sections[-1].texts.append(text)

    # -- headings

    def _open_heading(self, level: int, frame: _Frame) -> None:
        # A heading opened inside another one ends it, as in browsers: libxml2 nests
        # "<h2>Title<h3>Sub</h3>" where the HTML standard closes the h2.
        self._deactivate_heading()
        draft = _HeadingDraft(visible_only=not frame.hidden, level=level, in_main=frame.in_main)
        self.open_headings.append(draft)
        if len(self.heading_drafts) >= MAX_HEADINGS:
            self.skipped["headings"] += 1
            return  # its text still counts as text; it is no heading of the record
        self.heading_drafts.append(draft)
        self.active_heading = draft
        self.collectors.append(draft)
        if draft.in_main:
            if len(self.sections) > MAX_SECTIONS:
                self.skipped["sections"] += 1
                return
            draft.section = _SectionDraft(level=level)
            self.sections.append(draft.section)

    def _close_heading(self) -> None:
        if self.open_headings and self.open_headings.pop() is self.active_heading:
            self._deactivate_heading()

    def _deactivate_heading(self) -> None:
        if self.active_heading is not None:
            self.collectors.remove(self.active_heading)
            self.active_heading = None

    @staticmethod
    def _finish_heading(order: int, draft: _HeadingDraft) -> Heading:
        text = collapse_whitespace("".join(draft.parts))
        if draft.section is not None:
            draft.section.heading = text
        return Heading(order, draft.level, text, draft.in_main)

    # -- links

    def _open_link(self, element: etree._Element, frame: _Frame) -> None:
        href = element.get("href")
        if href is None or len(self.links) >= MAX_LINKS:  # a named anchor, or over the limit
            if href is not None:
                self.skipped["links"] += 1
            self.open_links.append(None)
            return
        draft = _LinkDraft(
            visible_only=not frame.hidden,
            href=href,
            rel=element.get("rel") or "",
            position=self._link_position(frame, href),
            aria_label=collapse_whitespace(element.get("aria-label")),
            block=self.block,
            start=len(self.block.parts),
        )
        self.block.links.append(draft)
        self.links.append(draft)
        self.open_links.append(draft)
        self.collectors.append(draft)

    def _link_position(self, frame: _Frame, href: str) -> str:
        # Outside a detected main region, what declares nothing is page furniture:
        # the header before the content, the footer after it.
        if frame.position == CONTENT and self.main_roots and not frame.in_region:
            return FOOTER if self.region_seen else HEADER
        return frame.position

    def _close_link(self) -> None:
        draft = self.open_links.pop() if self.open_links else None
        if draft is None:
            return
        self.collectors.remove(draft)
        if draft.position == CONTENT and _is_page_tool(draft, self.active_heading):
            draft.position = NAV
        if draft.block is self.block:
            draft.end = len(self.block.parts)
        else:
            draft.crossed_blocks = True
        draft.block = None

    def _note_image(self, element: etree._Element) -> None:
        for draft in self.open_links:
            if draft is not None:
                draft.has_image = True
                alt = collapse_whitespace(element.get("alt"))
                if alt:
                    draft.image_alts.append(alt)


def _is_page_tool(draft: _LinkDraft, heading: _HeadingDraft | None) -> bool:
    """A link to a place on this very page that is not part of the text: back to top,
    a heading's permalink (often "¶" or "#"), an icon. In-text fragment links
    (footnotes, "see the section below") stay content."""
    href = draft.href.strip()
    if not href.startswith("#"):
        return False
    if href == "#" or heading is not None:
        return True
    return not any(ch.isalnum() for part in draft.parts for ch in part)


def _is_main_landmark(element: etree._Element) -> bool:
    return element.tag == "main" or (element.get("role") or "").strip().lower() == "main"


def _read_head_element(element: etree._Element, tag: str, head: _HeadData) -> None:
    if tag == "meta":
        name = (element.get("name") or "").strip().lower()
        content = element.get("content")
        if content is None:
            return
        if head.refresh is None and (element.get("http-equiv") or "").strip().lower() == "refresh":
            head.refresh = _refresh_target(content)
        if name == "description" and head.description is None:
            head.description = collapse_whitespace(content)
        elif name in ("robots", "googlebot"):
            head.robots.append(collapse_whitespace(content))
    elif tag == "link":
        rel = (element.get("rel") or "").lower().split()
        href = element.get("href")
        if href is None:
            return
        if "canonical" in rel and head.canonical is None:
            head.canonical = href
        elif "alternate" in rel and element.get("hreflang"):
            head.hreflang.append((element.get("hreflang", "").strip(), href))
    elif head.base is None and element.get("href") is not None:
        head.base = element.get("href")


def _refresh_target(content: str) -> str | None:
    """The URL of ``<meta http-equiv=refresh content="0; url=...">`` when it redirects soon
    (within REFRESH_MAX_DELAY seconds, as Scrapy's meta-refresh rule); a reload has none."""
    match = _REFRESH.match(content)
    if not match or float(match.group(1)) > REFRESH_MAX_DELAY:
        return None
    target = match.group(2).strip().strip("\"'").strip()
    return target or None


class _CollapsedPrefix:
    """Length of ``collapse_whitespace("".join(parts[:k]))`` for growing ``k``, in one pass
    over the parts: a block with 100,000 links costs linear time, not quadratic."""

    __slots__ = ("parts", "done", "length", "started", "pending_space")

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts
        self.done = 0
        self.length = 0
        self.started = False  # some non-space text seen
        self.pending_space = False  # the text so far ends with whitespace

    def length_before(self, index: int) -> int:
        for part in self.parts[self.done : index]:
            words = part.split()
            if not words:
                self.pending_space = self.pending_space or (bool(part) and self.started)
                continue
            if self.started and (self.pending_space or part[0].isspace()):
                self.length += 1
            self.length += sum(map(len, words)) + len(words) - 1
            self.started = True
            self.pending_space = part[-1].isspace()
        self.done = max(self.done, index)
        return self.length


def _place_link(draft: _LinkDraft, text: str, parts: list[str], search_from: int,
                preceding: int) -> int:
    """Set a link's paragraph and context from its block's collapsed ``text``.

    ``preceding`` is the collapsed length of the block's text before the link, so the
    anchor starts there or one space later; failing that (an anchor whose words the
    collapsing changed) it is searched for near the previous link. Returns where this
    anchor ends in ``text``.
    """
    end = draft.end if draft.end is not None else len(parts)
    anchor = collapse_whitespace("".join(parts[draft.start : end]))
    start_at = -1
    if anchor:
        low = max(preceding, search_from)
        start_at = text.find(anchor, low, low + len(anchor) + 1)
        if start_at < 0:
            start_at = text.find(anchor, search_from, search_from + len(anchor) + SEARCH_WINDOW)
    if start_at < 0:
        start_at = end_at = search_from
    else:
        end_at = start_at + len(anchor)
    draft.paragraph = window_around(text, start_at, end_at, PARAGRAPH_CAP)
    draft.context = sentence_around(text, start_at, end_at)
    return end_at


# --- assembly -----------------------------------------------------------------------


def _build_extract(walk: _PageWalk, url: str, strip_params: tuple[str, ...]) -> PageExtract:
    head = walk.head
    base_url = url
    base_href = None
    if head.base is not None:
        base_href = normalize_url(head.base, url, strip_params=())
        base_url = base_href or url
    resolve = _Resolver(base_url, strip_params)
    main_tokens = " ".join(walk.main_blocks).split()
    return PageExtract(
        title=head.title,
        meta_description=head.description,
        meta_robots=", ".join(r for r in head.robots if r) if head.robots else None,
        canonical=resolve(head.canonical) if head.canonical is not None else None,
        base_href=base_href,
        lang=_declared_lang(walk.root),
        hreflang=[(code, target) for code, href in head.hreflang if (target := resolve(href))],
        headings=walk.headings,
        sections=_build_sections(walk.sections),
        links=[_build_link(order, draft, resolve) for order, draft in enumerate(walk.links)],
        word_count=count_tokens(main_tokens),
        content_hash=_content_hash(main_tokens),
        refresh=resolve(head.refresh) if head.refresh else None,
    )


class _Resolver:
    """normalize_url against one base, remembering answers for this page only."""

    def __init__(self, base: str, strip_params: tuple[str, ...]) -> None:
        self.base = base
        self.strip_params = strip_params
        self.seen: dict[str, str | None] = {}

    def __call__(self, href: str) -> str | None:
        if href not in self.seen:
            self.seen[href] = normalize_url(href, self.base, self.strip_params)
        return self.seen[href]


def _build_link(order: int, draft: _LinkDraft, resolve: _Resolver) -> Link:
    text = collapse_whitespace("".join(draft.parts))
    is_image = not text and draft.has_image
    anchor = text or " ".join(draft.image_alts) or draft.aria_label
    context, paragraph = draft.context, draft.paragraph
    if draft.crossed_blocks:  # a link wrapping blocks (a card): its own text is its paragraph
        paragraph = window_around(text, 0, len(text), PARAGRAPH_CAP)
        context = window_around(text, 0, len(text), CONTEXT_CAP)
    return Link(
        order=order,
        href=draft.href,
        target=resolve(draft.href),
        anchor=anchor,
        rel=draft.rel,
        position=draft.position,
        context=context,
        paragraph=paragraph,
        is_image=is_image,
    )


def _build_sections(drafts: list[_SectionDraft]) -> list[Section]:
    kept = [d for d in drafts if d.level > 0 or d.texts]  # no empty preamble
    return [
        Section(order, draft.level, draft.heading, "\n\n".join(draft.texts))
        for order, draft in enumerate(kept)
    ]


def _declared_lang(root: etree._Element) -> str | None:
    lang = root.get("lang") or root.get("xml:lang")
    return lang.strip() if lang and lang.strip() else None


def _content_hash(main_tokens: list[str]) -> str | None:
    """sha1 of the main text, whitespace-normalised and lower-cased; None if there is none."""
    if not main_tokens:
        return None
    return hashlib.sha1(" ".join(main_tokens).lower().encode("utf-8")).hexdigest()
