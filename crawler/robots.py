"""Robots directives of a page: what its ``<meta name="robots">`` and X-Robots-Tag say."""

from __future__ import annotations

# Directives that take a value after a colon; any other "name:" is a user agent the
# directives after it apply to ("googlebot: noindex").
_VALUED = frozenset({"max-snippet", "max-image-preview", "max-video-preview",
                     "unavailable_after"})
_NOINDEX = frozenset({"noindex", "none"})


def directives(value: str | None) -> list[str]:
    """The lower-case directives of a robots meta tag or X-Robots-Tag header value."""
    found = []
    for part in (value or "").split(","):
        token = part.strip().lower()
        name, colon, rest = token.partition(":")
        if colon and name.strip() not in _VALUED:
            token = rest.strip()
        if token:
            found.append(token)
    return found


def noindex_source(meta_robots: str | None, x_robots_tag: str | None) -> str:
    """Which of the two says noindex ("meta robots" first, then "X-Robots-Tag"), or ""."""
    if _NOINDEX & set(directives(meta_robots)):
        return "meta robots"
    if _NOINDEX & set(directives(x_robots_tag)):
        return "X-Robots-Tag"
    return ""
