"""Links the site's template repeats: settled after the crawl, with the whole site in view.

Page by page, a block that a theme prints inside the content of every post (a "Read the
English version" line, a row of call-to-action buttons under every product page) looks
like the author's text. Across the site it is the same anchor in the same sentence on
page after page, which no author writes by hand.
"""

from __future__ import annotations

import pandas as pd

# A content link is a template link when the same anchor in the same sentence appears on
# at least this share of the pages that have content links, and on at least this many.
TEMPLATE_PAGE_SHARE = 0.3
TEMPLATE_MIN_PAGES = 3


def template_links(links: pd.DataFrame) -> pd.Series:
    """True for each content link whose anchor and sentence repeat across the site.

    ``links`` needs source, anchor, context and position, and href when it has one;
    the result shares its index. Anchors without words (``[1]``, ``→``) and links to a
    place on the same page (footnote calls and back-references) are never template.
    """
    result = pd.Series(False, index=links.index, dtype=bool)
    if links.empty:
        return result
    anchor = links["anchor"].fillna("").astype("str").str.strip().str.lower()
    content = links["position"].eq("content") & anchor.str.count(r"[^\W\d_]").ge(3)
    if "href" in links:
        content &= ~links["href"].fillna("").astype("str").str.strip().str.startswith("#")
    if not content.any():
        return result
    context = links.loc[content, "context"].fillna("").astype("str").str.strip().str.lower()
    key = anchor[content] + "\x1f" + context
    sources = links.loc[content, "source"]
    pages_per_key = sources.groupby(key, sort=False).nunique()
    threshold = max(TEMPLATE_MIN_PAGES, TEMPLATE_PAGE_SHARE * sources.nunique())
    repeated = pages_per_key.index[pages_per_key >= threshold]
    result.loc[key.index] = key.isin(repeated).to_numpy()
    return result
