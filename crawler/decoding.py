"""From response bytes to an lxml tree: the text's encoding (byte-order mark, the given or
declared encoding, UTF-8, then detection that keeps to windows-1252 for Latin scripts),
one lxml HTML parser per thread, and the flattening of markup nested too deep for
libxml2, so that the text and links buried there are kept.
"""

from __future__ import annotations

import codecs
import re
import threading

from bs4.dammit import EncodingDetector, UnicodeDammit
from lxml import etree

from linkaudit.crawler.positions import HEADING_LEVELS

MAX_DEPTH = 1_000  # element nesting kept as is; deeper markup is flattened (text, links kept)
_ENCODING_ALIASES = {
    # WHATWG: these labels mean windows-1252, which decodes the 0x80-0x9F range.
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}
# Single-byte code pages for Latin scripts (Python codec names).
_LATIN_CODECS = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "iso8859-1", "iso8859-2", "iso8859-3", "iso8859-4",
     "iso8859-9", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16",
     "mac-roman", "mac-latin2", "cp437", "cp850", "cp852", "ascii"}
)  # fmt: skip
_thread_state = threading.local()
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                        "meta", "param", "source", "track", "wbr"})
_FLAT_KEPT_TAGS = frozenset({"a", "p", "li", "br", "img", "script", "style", "title",
                             "textarea", "template", "noscript", *HEADING_LEVELS})


def decode_html(body: bytes, encoding: str | None = None) -> str:
    """Decode an HTML body: byte-order mark, then ``encoding``, then the document's own
    declaration, then UTF-8 if it fits, then detection. Undecodable bytes become U+FFFD."""
    data, bom_encoding = EncodingDetector.strip_byte_order_mark(body)
    if bom_encoding:
        return data.decode(bom_encoding, errors="replace")
    for candidate in (encoding, _declared_encoding(data)):
        codec = _codec(candidate)
        if codec:
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return data.decode(_detected_codec(data), errors="replace")


def parse_html(body: bytes | str, encoding: str | None = None) -> etree._Element | None:
    """Parse a document with lxml's HTML parser; None if there is nothing to parse.

    libxml2 drops whatever is nested deeper than 2,048 elements; such a document is
    parsed again with its markup beyond MAX_DEPTH levels flattened, so that the text and
    links buried there are kept.
    """
    return parse_document(body, encoding)[0]


def parse_document(body: bytes | str, encoding: str | None) -> tuple[etree._Element | None, bool]:
    """(root, whether deep markup had to be flattened)."""
    text = decode_html(body, encoding) if isinstance(body, bytes) else body
    root, too_deep = _parse_text(text)
    if too_deep:
        flat_root, _ = _parse_text(_flatten_deep(text))
        if flat_root is not None:
            return flat_root, True
    return root, False


def _parse_text(text: str) -> tuple[etree._Element | None, bool]:
    # Re-encoded as UTF-8 so that a stale <?xml encoding=...?> or <meta charset> in the
    # text cannot make libxml2 decode it a second time.
    data = text.encode("utf-8", errors="replace")
    parser = _html_parser()
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError):
        return None, False
    too_deep = any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log)
    return root, too_deep


def _flatten_deep(text: str, keep: int = MAX_DEPTH) -> str:
    """The document with the tags of elements nested deeper than ``keep`` removed, except
    those that carry meaning for the audit (links, paragraphs, headings, list items...).
    A tag count, not a parse: used only when libxml2 gave up on the depth."""
    out: list[str] = []
    depth = last = 0
    for match in _TAG.finditer(text):
        name = match.group(2).lower()
        if name in _VOID_TAGS or match.group(3).rstrip().endswith("/"):
            continue
        if match.group(1):  # closing tag
            deep = depth > keep
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deep = depth > keep
        if deep and name not in _FLAT_KEPT_TAGS:
            out += (text[last : match.start()], " ")
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def _html_parser() -> etree.HTMLParser:
    """One parser per thread: lxml parsers must not be shared between threads."""
    parser = getattr(_thread_state, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            huge_tree=True,  # keep content nested deeper than 256 levels (unclosed tags)
        )
        _thread_state.parser = parser
    return parser


def _detected_codec(data: bytes) -> str:
    """Guess for undeclared 8-bit text: windows-1252 unless detection finds another script.

    Statistical detectors confuse the Latin code pages with one another on short texts
    (French read as cp1250 turns "è" into "č"); they are reliable about the script.
    """
    dammit = UnicodeDammit(data, is_html=True, exclude_encodings=["utf-8"])
    detected = _codec(dammit.original_encoding)
    if detected is None or detected in _LATIN_CODECS:
        return "cp1252"
    return detected


def _declared_encoding(data: bytes) -> str | None:
    return EncodingDetector.find_declared_encoding(data, is_html=True)


def _codec(label: str | None) -> str | None:
    """Python codec for an encoding label, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label.startswith(("utf-16", "utf-32", "utf16", "utf32")):
        # Without a byte-order mark such a declaration cannot be true (HTML standard).
        return "utf-8"
    label = _ENCODING_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None
