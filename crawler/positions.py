"""Where an element sits on a page: the main content region and boilerplate positions.

Two questions, answered before and during :mod:`linkaudit.crawler.extract`'s tree walk:

- :func:`main_region` chooses the elements that hold the page's own content: a
  ``<main>`` landmark, else the substantial ``<article>`` elements, else the densest
  container (the smallest one that still holds nearly all of the page's non-link text).
- :func:`classify` says what an element itself declares: ``nav``, ``header``,
  ``footer`` or ``aside``, from its tag, its ARIA role and its class and id names.

Class names are read in two tiers. *Inner* words (comments, share buttons, related
posts, post navigation, tables of contents, bylines, tag lists) name what themes and
plugins put around or inside an article and hold everywhere. *Layout* words (nav,
menu, sidebar, widget, header, footer) hold outside the main region, and inside it
only on an element that does not carry most of the region's text: page builders put
``widget`` or ``column`` on the containers of the article itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from lxml import etree

CONTENT, NAV, HEADER, FOOTER, ASIDE = "content", "nav", "header", "footer", "aside"
POSITIONS = (CONTENT, NAV, HEADER, FOOTER, ASIDE)

HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul", *HEADING_LEVELS,
    }
)  # fmt: skip
# Subtrees whose text is never page text (code, fallbacks, embedded documents, widgets).
SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
     "select", "textarea", "title"}
)  # fmt: skip
# Class and id names are never read on these.
UNCLASSIFIED_TAGS = frozenset({"html", "body", "main", "article", "hgroup", *HEADING_LEVELS})
# Inside <main>, <header> and <footer> belong to the content (a listing's page header);
# inside <article>, even within <main>, they are the article's own byline and footer.
MAIN_SCOPING_TAGS = frozenset({"main", "aside", "nav"})
# Elements the densest-container search may descend into.
CONTAINER_TAGS = frozenset(
    {"div", "section", "article", "main", "form", "center", "table", "tbody", "tr", "td"}
)

ELEMENT_POSITIONS = {"nav": NAV, "aside": ASIDE, "header": HEADER, "footer": FOOTER}
ROLE_POSITIONS = {
    "navigation": NAV,
    "banner": HEADER,
    "contentinfo": FOOTER,
    "complementary": ASIDE,
}

# Inner words: any word of a name ("comment-respond", "jp-relatedposts", "ez-toc").
INNER_WORDS = {
    **dict.fromkeys(
        ("comment", "comments", "commentlist", "disqus", "share", "sharing", "sharedaddy",
         "addtoany", "shariff", "related", "relatedposts", "yarpp"),
        ASIDE,
    ),
    **dict.fromkeys(("breadcrumb", "breadcrumbs", "pagination", "pager", "toc"), NAV),
    **dict.fromkeys(("byline", "banner"), HEADER),
}  # fmt: skip
# Inner names: whole names themes and plugins use for the same parts.
INNER_NAMES = {
    **dict.fromkeys(
        ("respond", "author-box", "authorbox", "about-author", "author-bio", "author-info",
         "post-author", "entry-author", "newsletter", "social-share", "social-sharing"),
        ASIDE,
    ),
    **dict.fromkeys(
        ("post-navigation", "posts-navigation", "nav-links", "nav-previous", "nav-next",
         "post-nav", "postnav", "post-nav-links", "table-of-contents", "post-tags",
         "entry-tags", "tags-links", "tag-links", "cat-links", "tagcloud", "tag-cloud",
         "post-categories", "entry-categories", "taxonomy", "tags"),
        NAV,
    ),
    **dict.fromkeys(
        ("entry-meta", "post-meta", "article-meta", "posted-on", "post-info", "entry-byline",
         "post-byline", "article-byline", "post-date", "entry-date"),
        HEADER,
    ),
}  # fmt: skip
# Layout words: the first or last word of a name ("main-navigation", "sidebar-left").
LAYOUT_EDGE_WORDS = {
    **dict.fromkeys(
        ("nav", "navbar", "navigation", "menu", "menubar", "topnav", "subnav"), NAV
    ),
    **dict.fromkeys(("sidebar", "widgets", "aside"), ASIDE),
    "masthead": HEADER,
    "colophon": FOOTER,
}  # fmt: skip
# Layout words that only lead a name: "card-header", "entry-footer" and
# "elementor-widget" (a page builder's box, whatever it holds) do not count.
LAYOUT_LEADING_WORDS = {"header": HEADER, "topbar": HEADER, "footer": FOOTER, "widget": ASIDE}
LAYOUT_NAMES = {
    "site-header": HEADER, "global-header": HEADER, "main-header": HEADER, "top-bar": HEADER,
    "site-footer": FOOTER, "global-footer": FOOTER, "main-footer": FOOTER, "page-footer": FOOTER,
    "widget-area": ASIDE,
}  # fmt: skip
# A name starting with one of these describes a state or the page's taxonomy, not a
# part of the page: "has-sidebar", "no-comments", WordPress's "tag-related-posts".
STATE_WORDS = frozenset({"has", "no", "with", "without", "is", "show", "hide"})
IGNORED_FIRST_WORDS = STATE_WORDS | {
    "tag", "category", "format", "status", "type", "postid", "page", "single", "archive", "term",
}  # fmt: skip

# An element on which a layout name is ignored inside the main region: it holds at
# least this share of the region's text.
LAYOUT_GUARD_SHARE = 0.5
# Inner positions held to the same guard: navigation and bylines never carry much text,
# while comments, share blocks and related posts may (a long comment thread).
INNER_GUARDED = frozenset({NAV, HEADER})
# A <main> landmark is trusted when it holds this much text, or this share of the page's.
LANDMARK_MIN_CHARS = 1000
LANDMARK_MIN_SHARE = 0.2
# The densest-container search steps into the child holding the most text while what
# it leaves beside that child is under a quarter of the child's text, and everything it
# has left out stays under a quarter of the page's.
DENSE_SIBLING_SHARE = 0.25
DENSE_LOSS_SHARE = 0.25
# An <article> that holds less than this share of the largest one is a card (a
# related post, a teaser), not the page's content.
CARD_SHARE = 0.2

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# The whole text's length is one C call; only the text to leave out (links, scripts)
# comes back as strings. One query with ancestor:: predicates on every text node costs
# ten times as much on a page builder's deep markup.
_TEXT_LENGTH = etree.XPath("string-length(normalize-space(.))")
# Each member of the union is one scan of the subtree: only the elements that do hold
# text a reader does not read as prose (an <svg> title, a <math> formula are left in).
# Elements whose text is left out, read with iter() and itertext(): an XPath such as
# descendant::a//text() merges node sets with a pairwise duplicate check in libxml2,
# quadratic on a page of 100,000 links.
_NOT_COUNTED_TAGS = ("a", "script", "style", "noscript", "template", "select", "textarea")
# Attribute nodes first: four times faster than testing @role on every element.
_MAIN_LANDMARKS = etree.XPath("//main | //@role[.='main']/..")


def _text_length(texts: list[str]) -> int:
    return sum(map(len, map(str.strip, texts)))


class TextWeights:
    """Characters of text under an element, outside links and non-text elements
    (scripts, styles...), computed on demand and remembered for the page."""

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[etree._Element, int] = {}

    def __call__(self, element: etree._Element) -> int:
        weight = self.cache.get(element)
        if weight is None:
            left_out = sum(
                _text_length(list(node.itertext())) for node in element.iter(_NOT_COUNTED_TAGS)
            )
            weight = int(_TEXT_LENGTH(element)) - left_out
            self.cache[element] = max(weight, 0)
        return weight


def main_region(root: etree._Element, weights: TextWeights) -> set[etree._Element]:
    """The elements holding the page's main content (empty: the whole body).

    ``<main>`` (or ``role=main``) wins; failing that, the outermost ``<article>``
    elements outside boilerplate that are not cards; failing that, the densest
    container below ``<body>``.
    """
    body = root.find("body")
    top = body if body is not None else root
    roots = _MAIN_LANDMARKS(root)
    if roots and _substantial(sum(map(weights, roots)), lambda: weights(top)):
        return set(roots)
    articles = [
        article
        for article in root.iter("article")
        if classify(article, "article", False) is None
        and not any(
            ancestor.tag == "article" or classify(ancestor, ancestor.tag, False)
            for ancestor in article.iterancestors()
        )
    ]
    if articles:
        largest = max(map(weights, articles))
        kept = {article for article in articles if weights(article) >= CARD_SHARE * largest}
        return kept or set(articles)
    dense = _densest_container(top, weights)
    return {dense} if dense is not None else set()


def _substantial(weight: int, page_weight: Callable[[], int]) -> bool:
    """Whether a landmark holds enough of the page's text to be its content (an empty
    ``role=main`` placeholder beside the real content is not)."""
    return weight >= LANDMARK_MIN_CHARS or weight >= LANDMARK_MIN_SHARE * page_weight()


def _densest_container(top: etree._Element, weights: TextWeights) -> etree._Element | None:
    """Walk down from ``top`` while one container child holds most of the text."""
    node = top
    total = None
    lost = 0
    while True:
        children = [
            child
            for child in node
            if isinstance(child.tag, str)
            and child.tag not in SKIPPED_TAGS
            and classify(child, child.tag, False) is None
        ]
        kept = [weights(child) for child in children]
        own = max(weights(node) - sum(weights(c) for c in node if isinstance(c.tag, str)), 0)
        here = own + sum(kept)
        if total is None:
            total = here
            if total == 0:
                return None
        best = max(range(len(children)), key=kept.__getitem__, default=None)
        if best is None or children[best].tag not in CONTAINER_TAGS:
            break
        step_loss = here - kept[best]
        if step_loss > DENSE_SIBLING_SHARE * kept[best] or lost + step_loss > (
            DENSE_LOSS_SHARE * total
        ):
            break
        lost += step_loss
        node = children[best]
    return node if node is not top else None


def classify(element: etree._Element, tag: str, main_scoped: bool) -> str | None:
    """The boilerplate position an element itself declares, or None for none/content.

    ``main_scoped``: inside <main>, <aside> or <nav>, where <header>/<footer> are not
    the site's.
    """
    by_tag, inner, layout = declared(element, tag, main_scoped)
    if by_tag or inner:
        return by_tag or inner
    if layout and not (main_scoped and layout in (HEADER, FOOTER)):
        return layout
    return None


def declared(
    element: etree._Element, tag: str, main_scoped: bool
) -> tuple[str | None, str | None, str | None]:
    """(by tag or role, by inner names, by layout names) in one call: the walk's hot path."""
    by_tag = ELEMENT_POSITIONS.get(tag)
    if by_tag and not (main_scoped and by_tag in (HEADER, FOOTER)):
        return by_tag, None, None
    role = element.get("role")
    if role:
        by_role = ROLE_POSITIONS.get(role.strip().lower())
        if by_role:
            return by_role, None, None
    if tag not in BLOCK_TAGS or tag in UNCLASSIFIED_TAGS:
        return None, None, None
    names = element.get("class")
    element_id = element.get("id")
    if element_id:
        names = f"{names} {element_id}" if names else element_id
    if not names:
        return None, None, None
    return (None, *_positions_from_names(names))


@lru_cache(maxsize=8192)
def _positions_from_names(names: str) -> tuple[str | None, str | None]:
    inner = layout = None
    for name in names.lower().replace("_", "-").split():
        words = name.split("-")
        if words[0] in IGNORED_FIRST_WORDS:
            continue
        # "blog-post-with-toc" describes the post; the words after "with" are a state.
        stated = next((i for i, word in enumerate(words) if word in STATE_WORDS), None)
        if stated is not None:
            words = words[:stated]
        inner = inner or INNER_NAMES.get(name) or _first_of(words, INNER_WORDS)
        layout = layout or LAYOUT_NAMES.get(name) or _layout_word(words)
        if inner:
            break
    return inner, layout


def _first_of(words: list[str], table: dict[str, str]) -> str | None:
    for word in words:
        position = table.get(word)
        if position:
            return position
    return None


def _layout_word(words: list[str]) -> str | None:
    first, last = words[0], words[-1]
    return (
        LAYOUT_EDGE_WORDS.get(first) or LAYOUT_EDGE_WORDS.get(last)
        or LAYOUT_LEADING_WORDS.get(first)
    )  # fmt: skip


def is_hidden(element: etree._Element) -> bool:
    if element.get("hidden") is not None:
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))
