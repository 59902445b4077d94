"""URL normalisation and site membership, called for every link the crawler sees.

One normal form per address lets the crawl store deduplicate pages and lets the
link graph join sources to targets. The form is deliberately conservative: only
changes that cannot alter what a server returns (case of scheme and host, default
port, dot-segments, fragment, percent-encoding) plus the removal of tracking
parameters. A path's trailing slash and the order of query parameters are kept,
because servers do treat those differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import translate
from functools import lru_cache
from urllib.parse import quote, unquote_plus, urlsplit

# Click identifiers and campaign tags: they name the visit, not the page.
DEFAULT_STRIP_PARAMS: tuple[str, ...] = (
    "utm_*",
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "msclkid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "igshid",
    "_hsenc",
    "_hsmi",
)

_HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# What browsers strip around an href and drop inside it (WHATWG URL parser).
_EDGE_CHARS = "".join(chr(code) for code in range(0x21))
_INNER_DROP = str.maketrans("", "", "\t\n\r")
# RFC 3986 pchar plus "/" (and "?" in the query); "%" is kept so encoding twice is a no-op.
_PATH_SAFE = "/!$&'()*+,;=:@%-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_NEEDS_PATH_QUOTING = re.compile(r"[^A-Za-z0-9/!$&'()*+,;=:@%._~-]")
_NEEDS_QUERY_QUOTING = re.compile(r"[^A-Za-z0-9/?!$&'()*+,;=:@%._~-]")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalize_url(
    url: str,
    base: str | None = None,
    strip_params: Sequence[str] = DEFAULT_STRIP_PARAMS,
) -> str | None:
    """Return the absolute normal form of ``url`` (resolved against ``base``), or None.

    None means the reference does not name an http(s) page: ``mailto:``, ``tel:``,
    ``javascript:``, ``data:``, an empty href, a relative href without a base, or an
    address with no host or a malformed port. The result is idempotent:
    ``normalize_url(normalize_url(u)) == normalize_url(u)``.
    """
    if not url:
        return None
    href = url.strip(_EDGE_CHARS)
    if "\n" in href or "\t" in href or "\r" in href:
        href = href.translate(_INNER_DROP)
    if not href:
        return None
    scheme_match = _SCHEME.match(href)
    if scheme_match and scheme_match.group()[:-1].lower() not in _HTTP_SCHEMES:
        return None
    absolute = _resolve(href, base) if base and not scheme_match else href
    return _normalize_absolute(absolute, tuple(strip_params))


@lru_cache(maxsize=16384)  # site-wide menus repeat the same targets on every page
def _normalize_absolute(absolute: str, strip_params: tuple[str, ...]) -> str | None:
    try:
        parts = urlsplit(absolute)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    scheme = parts.scheme.lower()
    if scheme not in _HTTP_SCHEMES:
        return None
    netloc = _normalize_netloc(parts.netloc, scheme)
    if netloc is None:
        return None
    path = _normalize_path(parts.path)
    query = _normalize_query(parts.query, strip_params)
    return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"


def tracking_params(url: str, patterns: Sequence[str] = DEFAULT_STRIP_PARAMS) -> list[str]:
    """Names of the query parameters of ``url`` that match the tracking ``patterns``."""
    query = urlsplit(url).query
    if not query:
        return []
    matcher = _param_matcher(tuple(patterns))
    names = (_param_name(field) for field in query.split("&") if field)
    return [name for name in names if matcher(name)]


def host_of(url: str) -> str:
    """The host of ``url`` with its port when the port is not the scheme's default.

    Lower-case, without user info: ``"www.example.com"``, ``"127.0.0.1:8080"``.
    Returns "" when the URL has no host.
    """
    parts = urlsplit(url.strip())
    netloc = _normalize_netloc(parts.netloc, parts.scheme.lower())
    if not netloc:
        return ""
    return netloc.rpartition("@")[2]


def site_key(url: str) -> str:
    """A file-system-safe name for the site ``url`` belongs to (``"127.0.0.1_8080"``)."""
    host = host_of(url) or "unknown-site"
    return re.sub(r"[^A-Za-z0-9.-]+", "_", host).strip("_") or "unknown-site"


def is_internal(url: str, hosts: Iterable[str]) -> bool:
    """True if ``url`` is on one of ``hosts`` (``"www."`` and the bare domain are one site).

    ``hosts`` holds values as :func:`host_of` returns them, so a non-default port is
    part of the identity: ``127.0.0.1:8080`` and ``127.0.0.1:9090`` are two sites.
    """
    host = _without_www(host_of(url))
    return bool(host) and any(host == _without_www(other.lower()) for other in hosts)


# A URL's scheme and authority, what decides whether it is on the site.
_ORIGIN_PREFIX = re.compile(r"[^:/?#]*:?//[^/?#]*")


class Site:
    """``url in site``: :func:`is_internal` over the site's hosts, decided once per origin
    (a crawl's links name few origins, and every link is asked about, some twice)."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self.hosts = frozenset(hosts)
        self._verdicts: dict[str, bool] = {}

    def __contains__(self, url: str) -> bool:
        match = _ORIGIN_PREFIX.match(url)
        key = match.group(0) if match else url
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = is_internal(url, self.hosts)
        return verdict


def rehost(url: str, aliases: Iterable[str], origin: str) -> str:
    """``url`` moved onto ``origin`` (``scheme://host[:port]``) when its host is one of
    ``aliases`` (a production site audited through a copy); otherwise unchanged."""
    if not aliases or not is_internal(url, aliases):
        return url
    parts = urlsplit(url)
    rest = url[len(parts.scheme) + 3 + len(parts.netloc):]
    return origin + rest


def _resolve(href: str, base: str) -> str:
    """RFC 3986 reference resolution, leaving dot-segments for the path normaliser.

    Equivalent to ``urljoin`` for the forms links take, at a fraction of its cost.
    """
    base_parts = urlsplit(base)
    origin = f"{base_parts.scheme}://{base_parts.netloc}"
    first = href[0]
    if first == "/":
        return f"{base_parts.scheme}:{href}" if href.startswith("//") else origin + href
    path = base_parts.path or "/"
    if first == "?":
        return origin + path + href
    if first == "#":
        query = f"?{base_parts.query}" if base_parts.query else ""
        return origin + path + query + href
    return origin + path[: path.rfind("/") + 1] + href


def _without_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _normalize_netloc(netloc: str, scheme: str) -> str | None:
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = _split_port(hostport)
    if not host:
        return None
    host = host.lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if port:
        if not port.isdigit() or int(port) > 65535:
            return None
        if int(port) != _DEFAULT_PORTS.get(scheme):
            host = f"{host}:{int(port)}"
    return f"{userinfo}@{host}" if userinfo else host


def _split_port(hostport: str) -> tuple[str, str]:
    if hostport.startswith("["):  # IPv6 literal: the port follows the closing bracket
        end = hostport.find("]")
        if end < 0:
            return "", ""
        return hostport[: end + 1], hostport[end + 2 :]
    host, _, port = hostport.partition(":")
    return host, port


def _normalize_path(path: str) -> str:
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    # Escapes first: a decoded "%2E" can form a dot-segment, which must then go too.
    if "%" in path:
        path = _PERCENT_ESCAPE.sub(_canonical_escape, path)
    if "/." in path:
        path = _remove_dot_segments(path)
    if _NEEDS_PATH_QUOTING.search(path):
        path = quote(path, safe=_PATH_SAFE)
    return path


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")
    return "/" + "/".join(kept)


def _canonical_escape(match: re.Match[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others (RFC 3986 6.2.2)."""
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _normalize_query(query: str, strip_params: tuple[str, ...]) -> str:
    if not query:
        return ""
    fields = [field for field in query.split("&") if field]
    if strip_params:
        matcher = _param_matcher(strip_params)
        fields = [f for f in fields if not matcher(_param_name(f))]
    query = "&".join(fields)
    if "%" in query:
        query = _PERCENT_ESCAPE.sub(_canonical_escape, query)
    if _NEEDS_QUERY_QUOTING.search(query):
        query = quote(query, safe=_QUERY_SAFE)
    return query


def _param_name(field: str) -> str:
    name = field.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name


@lru_cache(maxsize=64)
def _param_matcher(patterns: tuple[str, ...]):
    """One compiled regex for a set of fnmatch patterns (parameter names are case-insensitive)."""
    if not patterns:
        return lambda name: False
    regex = re.compile("|".join(translate(p.lower()) for p in patterns))
    return lambda name: regex.match(name.lower()) is not None
