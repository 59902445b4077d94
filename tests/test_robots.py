"""The crawler's noindex verdict reads robots directives as tokens, as search engines do."""

from __future__ import annotations

import pytest

from linkaudit.crawler.robots import directives, noindex_source


@pytest.mark.parametrize(("meta", "header", "expected"), [
    ("noindex, follow", None, "meta robots"),
    ("NOINDEX", None, "meta robots"),
    ("none", None, "meta robots"),
    (None, "none", "X-Robots-Tag"),
    (None, "googlebot: noindex, nofollow", "X-Robots-Tag"),
    ("index, follow", "noindex", "X-Robots-Tag"),
    ("noindex", "noindex", "meta robots"),
    ("index, follow, max-image-preview:none", None, ""),
    (None, "max-snippet:-1, max-image-preview:none, max-video-preview:-1", ""),
    ("noindexer", None, ""),
    ("nonetheless", None, ""),
    ("", "", ""),
    (None, None, ""),
])
def test_noindex_is_a_whole_directive_not_a_substring(meta, header, expected):
    assert noindex_source(meta, header) == expected


def test_directives_drop_the_user_agent_prefix_but_keep_valued_directives():
    assert directives("googlebot: noindex, max-image-preview:large ,unavailable_after: 2026") \
        == ["noindex", "max-image-preview:large", "unavailable_after: 2026"]
