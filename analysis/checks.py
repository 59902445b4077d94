"""Page-level content checks: headings, metadata, indexability, thin pages, export leftovers.

Every check is a pure function that takes the analysis frames (see ``analysis/load.py``)
and returns a findings frame with ``FINDING_COLUMNS``. ``SEVERITY`` (analysis/model.py,
with the columns and the order of findings) is the one table that gives each finding
category its severity; every module that reports findings builds them with
:func:`make_findings` so they all look the same.

Which pages are checked (see docs/findings.md):

* content checks (h1, title, meta description, thin content, duplicates, artifacts) look
  at *audited* pages: internal and indexable (200 HTML, no noindex, self or no canonical).
  A page that asks not to be indexed is not judged on how it would rank.
* ``noindex`` and ``canonicalized`` look at internal 200 HTML pages.
* ``server_error`` and ``blocked_by_robots`` look at every internal URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from linkaudit.analysis.load import ProductionHost
from linkaudit.analysis.model import FINDING_COLUMNS, SEVERITY, flags, ordered_findings
from linkaudit.analysis.settings import THIN_CONTENT_WORDS

QUOTE_LIMIT = 80
EXAMPLE_URL_CAP = 150  # characters of an example URL shown in a finding
# How many other URLs a duplicate finding names before summarising the rest as "+N more".
MAX_NAMED_URLS = 3

Detail = str | Callable[[pd.DataFrame], pd.Series]


def make_findings(
    frame: pd.DataFrame,
    category: str,
    detail: Detail,
    *,
    url: str = "url",
    target: str | None = None,
) -> pd.DataFrame:
    """One finding per row of ``frame``.

    ``detail`` is a column name or a function of the frame returning one string per row;
    ``url`` and ``target`` name the columns holding the page and the linked URL.
    """
    if category not in SEVERITY:
        raise ValueError(f"unknown finding category {category!r}")
    if frame.empty:
        return empty_findings()
    details = frame[detail] if isinstance(detail, str) else detail(frame)
    targets = frame[target] if target is not None else ""
    findings = pd.DataFrame(
        {
            "url": frame[url].to_numpy(),
            "category": category,
            "severity": SEVERITY[category],
            "detail": pd.Series(details, index=frame.index).to_numpy(),
            "target": pd.Series(targets, index=frame.index).to_numpy(),
        }
    )
    return _as_text(findings)


def staging_copy_findings(production: ProductionHost | None, start_url: str) -> pd.DataFrame:
    """One site-wide finding when most canonicals name another host (not declared)."""
    if production is None or production.declared:
        return empty_findings()
    detail = (
        f"{production.pages} of {production.of_pages} pages name {production.host} as the "
        f"canonical host of their own path: this looks like a copy of that site (staging, "
        f"local build) and is audited as such; declare it with --alias {production.host} "
        f"(or [crawl] aliases) so that its sitemaps and absolute links are read too"
    )
    frame = pd.DataFrame({"url": [start_url], "detail": [detail], "target": [production.host]})
    return make_findings(frame, "staging_copy", "detail", target="target")


def limit_findings(limits: dict[str, dict[str, object]], start_url: str) -> pd.DataFrame:
    """One site-wide finding per crawl limit that kept URLs out of the crawl
    (``CrawlFrames.limits``): the reports then cover only part of the site."""
    rows = []
    for name, cut in sorted(limits.items()):
        count = int(cut.get("count", 0) or 0)
        value = cut.get("limit")
        shown = f"{value:g}" if isinstance(value, float) else value
        setting = f"{name} = {shown}" if value not in (None, "") else name
        if name == "max_seconds":
            detail = (f"{setting} stopped the crawl with {count:,} "
                      f"request{'s' if count != 1 else ''} still queued")
        elif name == "max_external":
            detail = (f"{setting} left {count:,} external URL{'s' if count != 1 else ''} "
                      "unchecked")
        else:
            detail = f"{setting} kept {count:,} URL{'s' if count != 1 else ''} out of the crawl"
        if cut.get("example"):
            example = str(cut["example"])
            if len(example) > EXAMPLE_URL_CAP:  # a 10,000-character URL is shown by its start
                example = f"{example[:EXAMPLE_URL_CAP]}… ({len(example):,} characters)"
            detail += f", e.g. {example}"
        rows.append({"url": start_url, "detail": detail, "target": name})
    return make_findings(pd.DataFrame(rows, columns=["url", "detail", "target"]),
                         "crawl_limit", "detail", target="target")


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and the standard columns."""
    return pd.DataFrame({column: pd.Series(dtype="str") for column in FINDING_COLUMNS})


def concat_findings(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack findings frames, ordered by severity, then URL, then category."""
    non_empty = [frame for frame in frames if not frame.empty]
    if not non_empty:
        return empty_findings()
    return ordered_findings(pd.concat(non_empty, ignore_index=True))


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """``text`` in double quotes on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split()) if isinstance(text, str) else ""
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f'"{flat}"'


def _as_text(findings: pd.DataFrame) -> pd.DataFrame:
    return findings.fillna("").astype("str")


# ---------------------------------------------------------------------------
# Which pages each check looks at


def audited_pages(pages: pd.DataFrame) -> pd.DataFrame:
    """Internal, indexable pages: the ones content checks judge."""
    return pages[flags(pages["internal"]) & flags(pages["indexable"])]


def _internal_html_ok(pages: pd.DataFrame) -> pd.DataFrame:
    ok = pages["status"].eq(200).fillna(False).astype(bool)
    return pages[flags(pages["internal"]) & flags(pages["is_html"]) & ok]


def _blank(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("str").str.strip().eq("")


# ---------------------------------------------------------------------------
# Headings


def heading_findings(pages: pd.DataFrame, headings: pd.DataFrame) -> pd.DataFrame:
    """missing_h1, multiple_h1, skipped_heading_level and empty_heading on audited pages."""
    urls = audited_pages(pages)["url"]
    own = headings[headings["url"].isin(urls)].sort_values(["url", "ord"], kind="stable")
    return concat_findings(
        [
            _missing_h1(urls, own),
            _multiple_h1(own),
            _skipped_levels(own),
            _empty_headings(own),
        ]
    )


def _missing_h1(urls: pd.Series, headings: pd.DataFrame) -> pd.DataFrame:
    with_h1 = set(headings.loc[headings["level"].eq(1), "url"])
    missing = pd.DataFrame({"url": urls[~urls.isin(with_h1)]})
    return make_findings(missing, "missing_h1", lambda f: pd.Series("no h1 element", f.index))


def _multiple_h1(headings: pd.DataFrame) -> pd.DataFrame:
    h1 = headings[headings["level"].eq(1)]
    h1 = h1[h1["url"].duplicated(keep=False)]
    grouped = h1.groupby("url", sort=True)["text"].agg(list).reset_index()

    def describe(frame: pd.DataFrame) -> pd.Series:
        return frame["text"].map(
            lambda texts: f"{len(texts)} h1 elements: " + ", ".join(quote(t) for t in texts[:5])
        )

    return make_findings(grouped, "multiple_h1", describe)


def _skipped_levels(headings: pd.DataFrame) -> pd.DataFrame:
    previous = headings.groupby("url", sort=False)[["level", "text"]].shift(1)
    level = headings["level"].astype("Int64")
    prev_level = previous["level"].astype("Int64")
    skipped = (level - prev_level).gt(1).fillna(False).astype(bool)
    rows = headings[skipped].assign(
        prev_level=prev_level[skipped], prev_text=previous.loc[skipped, "text"]
    )

    def describe(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [
                f"h{p} {quote(pt)} is followed by h{lv} {quote(t)}"
                for p, pt, lv, t in zip(
                    frame["prev_level"],
                    frame["prev_text"],
                    frame["level"],
                    frame["text"],
                    strict=True,
                )
            ],
            index=frame.index,
        )

    return make_findings(rows, "skipped_heading_level", describe)


def _empty_headings(headings: pd.DataFrame) -> pd.DataFrame:
    empty = headings[_blank(headings["text"])]

    def describe(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [
                f"empty h{lv} (heading {int(o) + 1} of the page)"
                for lv, o in zip(frame["level"], frame["ord"], strict=True)
            ],
            index=frame.index,
        )

    return make_findings(empty, "empty_heading", describe)


# ---------------------------------------------------------------------------
# Metadata


def metadata_findings(pages: pd.DataFrame, headings: pd.DataFrame) -> pd.DataFrame:
    """missing_title, duplicate_title (titles and h1s), missing_meta_description."""
    audited = audited_pages(pages)
    missing_title = audited[_blank(audited["title"])]
    missing_description = audited[_blank(audited["meta_description"])]
    return concat_findings(
        [
            make_findings(missing_title, "missing_title", _constant("no <title> or empty title")),
            _duplicates(audited[["url", "title"]].rename(columns={"title": "text"}), "title"),
            _duplicates(_first_h1(headings, audited["url"]), "h1"),
            make_findings(
                missing_description,
                "missing_meta_description",
                _constant("no meta description or empty meta description"),
            ),
        ]
    )


def _constant(text: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: pd.Series(text, index=frame.index)


def _first_h1(headings: pd.DataFrame, urls: pd.Series) -> pd.DataFrame:
    h1 = headings[headings["level"].eq(1) & headings["url"].isin(urls)]
    h1 = h1.sort_values(["url", "ord"], kind="stable").drop_duplicates("url")
    return h1[["url", "text"]]


def _duplicates(texts: pd.DataFrame, what: str) -> pd.DataFrame:
    """Pages sharing the same ``what`` (title or h1) text, compared case- and space-blind.

    A duplicated h1 is reported under ``duplicate_title``: the contract's category list is
    fixed, and two pages announcing the same subject compete for the same searches
    whichever of the two titles repeats.
    """
    texts = texts[~_blank(texts["text"])]
    key = texts["text"].astype("str").str.split().str.join(" ").str.casefold()
    texts = texts.assign(_key=key)
    shared = texts[texts.duplicated("_key", keep=False)]
    if shared.empty:
        return empty_findings()
    urls_by_key = shared.groupby("_key")["url"].agg(list)

    def describe(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [
                f"same {what} {quote(text)} as {_name_others(url, urls_by_key[k])}"
                for url, text, k in zip(frame["url"], frame["text"], frame["_key"], strict=True)
            ],
            index=frame.index,
        )

    return make_findings(shared, "duplicate_title", describe)


def _name_others(url: str, urls: list[str]) -> str:
    others = sorted(u for u in urls if u != url)
    named = ", ".join(others[:MAX_NAMED_URLS])
    rest = len(others) - MAX_NAMED_URLS
    return f"{named} (+{rest} more)" if rest > 0 else named


# ---------------------------------------------------------------------------
# Thin content, indexability, server errors


def thin_content_findings(pages: pd.DataFrame, min_words: int = THIN_CONTENT_WORDS) -> pd.DataFrame:
    """Audited pages whose main content has fewer than ``min_words`` words."""
    audited = audited_pages(pages)
    words = pd.to_numeric(audited["word_count"], errors="coerce")
    thin = audited[words.lt(min_words).fillna(False).astype(bool)]
    return make_findings(
        thin,
        "thin_content",
        lambda f: f["word_count"].map(
            lambda n: f"{int(n)} words in the main content (fewer than {min_words})"
        ),
    )


def indexability_findings(pages: pd.DataFrame) -> pd.DataFrame:
    """noindex, canonicalized, blocked_by_robots and server_error findings."""
    html = _internal_html_ok(pages)
    source = html["noindex"].fillna("").astype("str")  # decided by the crawler
    directive = html["meta_robots"].where(source == "meta robots", html["x_robots_tag"])
    why = source + ' "' + directive.fillna("").astype("str") + '"'
    noindex = html.assign(_why=why)[source.ne("")]
    canonical = html["canonical"].fillna("").astype("str")
    canonicalized = html[canonical.ne("") & canonical.ne(html["url"])]
    internal = pages[flags(pages["internal"])]
    blocked = internal[flags(internal["blocked_by_robots"])]
    status = internal["status"].astype("Int64")
    server_error = internal[status.between(500, 599).fillna(False).astype(bool)]
    return concat_findings(
        [
            make_findings(noindex, "noindex", lambda f: "noindex in " + f["_why"]),
            make_findings(
                canonicalized,
                "canonicalized",
                lambda f: "canonical points to " + f["canonical"].astype("str"),
            ),
            make_findings(
                blocked, "blocked_by_robots", _constant("disallowed by robots.txt, not crawled")
            ),
            make_findings(
                server_error,
                "server_error",
                lambda f: "HTTP " + f["status"].astype("Int64").astype("str") + " server error",
            ),
        ]
    )


# ---------------------------------------------------------------------------
# Leftovers of a broken export in the main text

_FORMAT_WORDS = (
    "xml|html|json|css|js|javascript|markdown|md|code|python|bash|shell|sh|yaml|yml|sql|php"
    "|text|plaintext|txt|csv|copy|copy code|copier|copier le code|copier code"
)
# (label, regex) pairs; the first that matches a paragraph names the problem.
ARTIFACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("format word left alone", re.compile(rf"(?i)^\s*(?:{_FORMAT_WORDS})\s*:?\s*$")),
    ("stray code fence", re.compile(r"```|~~~")),
    ("raw markdown heading", re.compile(r"(?m)^\s{0,3}#{1,6}\s+[^\W\d_]")),
    ("raw markdown link", re.compile(r"\[[^\]\n]+\]\(\s*(?:https?://|www\.|/|#)[^)\s]*\s*\)")),
    (
        "raw markdown bold",
        # __bold__ needs a space inside, so identifiers like __init__ are not taken for it.
        re.compile(r"\*\*[^*\n]+\*\*|(?<!\w)__[^_\s][^_\n]* [^_\n]*[^_\s]__(?!\w)"),
    ),
    (
        "unfilled placeholder",
        re.compile(
            r"\{\{\s*[^{}\s][^{}\n]*\}\}|\{%[^\n]*?%\}|%%[A-Za-z_][\w.]*%%|\$\{[A-Za-z_][\w.]*\}"
            r"|\[\[[^\[\]\n]+\]\]|\[(?:[A-Z0-9]+_)+[A-Z0-9]+\]"
            r"|\[(?:INSERT|INSÉRER|INSERER|LIEN|LINK|URL|CTA|ANCHOR|ANCRE|KEYWORD|MOT[- ]CLÉ"
            r"|MOT[- ]CLE|TODO|TBD|PLACEHOLDER)\b[^\]\n]*\]"
        ),
    ),
    ("lorem ipsum", re.compile(r"(?i)\blorem ipsum\b")),
]


# Matches a section's whole text wherever one of ARTIFACT_PATTERNS matches one of its
# paragraphs (and sometimes where none does): only these sections are split into
# paragraphs and checked. Each pattern is loosened so that it holds in the whole text (line
# anchors, no lookarounds, any letter; a paragraph's neighbours there are blank lines) and
# written for RE2 as well as Python: _SPACE is every character Python's \s and
# str.strip() take for a space (RE2's \s is ASCII only).
_SPACE = "[\t\n\v\f\r \x1c-\x1f\x85\\pZ]"
_ARTIFACT_SIGNS = "|".join((
    rf"(?im:^{_SPACE}*(?:{_FORMAT_WORDS}){_SPACE}*:?{_SPACE}*$)",
    r"```|~~~",
    rf"(?m:^{_SPACE}*#)",
    r"\[[^\]\n]+\]\(",
    r"\*\*[^*\n]+\*\*|__[^_]",
    r"\{\{|\{%|%%|\$\{|\[\[|\[[A-Z0-9]+_|\[(?i:INSERT|INSÉRER|INSERER|LIEN|LINK|URL|CTA"
    r"|ANCHOR|ANCRE|KEYWORD|MOT[- ]CLÉ|MOT[- ]CLE|TODO|TBD|PLACEHOLDER)",
    r"(?i:lorem ipsum)",
))
_ARTIFACT_SIGNS_RE = re.compile(_ARTIFACT_SIGNS.replace("\\pZ", "\\s"))


def _with_artifact_signs(texts: pd.Series) -> np.ndarray:
    """True for each text where :data:`_ARTIFACT_SIGNS` matches (RE2 in Arrow when the
    texts are Arrow strings: 0.14 s for 20,000 pages' sections, Python's re 2.9 s)."""
    texts = texts.fillna("").astype("str")
    if getattr(texts.dtype, "storage", None) == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.match_substring_regex(pa.array(texts.array), _ARTIFACT_SIGNS)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    return np.array([_ARTIFACT_SIGNS_RE.search(text) is not None for text in texts],
                    dtype=bool)


def artifact_findings(pages: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """content_artifact: one finding per main-text paragraph that is an export leftover."""
    own = sections[sections["url"].isin(audited_pages(pages)["url"])]
    # A site's sections split into paragraphs are millions of strings (+363 MiB and 4.4 s
    # at 20,000 generated pages): only the few sections with a sign of a leftover are.
    own = own[_with_artifact_signs(own["text"])]
    paragraphs = _paragraphs(own)
    # Boilerplate paragraphs repeat from page to page: classify each distinct one once.
    texts = paragraphs["paragraph"]
    labels = texts.map({text: artifact_kind(text) for text in texts.unique()}).astype("str")
    hits = paragraphs.assign(_label=labels)[labels.ne("")]

    def describe(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [
                f"{label} {quote(text)} in section {_section_name(heading, level)}"
                for label, text, heading, level in zip(
                    frame["_label"],
                    frame["paragraph"],
                    frame["heading"],
                    frame["level"],
                    strict=True,
                )
            ],
            index=frame.index,
        )

    return make_findings(hits, "content_artifact", describe)


# A code sample shown on purpose (a tech blog's <pre> block) is not an export leftover.
_CODE_MARKS = re.compile(r"-\*-|^\s*#!|^\s*(?:import|from|def|class|return|var|const|let)\s",
                         re.MULTILINE)
_CALL = re.compile(r"\w\(")
_CODE_CHARS = frozenset("{}()[];=<>$\\|&")
CODE_CHAR_SHARE = 0.15


def looks_like_code(paragraph: str) -> bool:
    """True for a paragraph that reads as source code: an encoding cookie or shebang, a
    line opening with a keyword, two function calls, or several lines dense in code
    punctuation."""
    if _CODE_MARKS.search(paragraph) or len(_CALL.findall(paragraph)) >= 2:
        return True
    visible = [c for c in paragraph if not c.isspace()]
    dense = sum(c in _CODE_CHARS for c in visible) >= CODE_CHAR_SHARE * max(len(visible), 1)
    return dense and "\n" in paragraph.strip()


def artifact_kind(paragraph: str) -> str:
    """What kind of export leftover ``paragraph`` is, or "" when it is ordinary text (or a
    code sample: checked only for the few paragraphs a pattern matches, it costs more)."""
    for label, pattern in ARTIFACT_PATTERNS:
        if pattern.search(paragraph):
            return "" if looks_like_code(paragraph) else label
    return ""


def _paragraphs(sections: pd.DataFrame) -> pd.DataFrame:
    # Without the section's text: each paragraph row would hold a copy of it (with Arrow
    # strings, a real copy: 3 GB for a 100,000-word section of 10,000 paragraphs).
    split = sections.drop(columns="text").assign(
        paragraph=sections["text"].fillna("").astype("str").str.split("\n\n"))
    exploded = split.explode("paragraph", ignore_index=True)
    exploded["paragraph"] = exploded["paragraph"].fillna("").astype("str").str.strip()
    return exploded[exploded["paragraph"].ne("")]


def _section_name(heading: object, level: object) -> str:
    if int(level) == 0 or not isinstance(heading, str) or not heading.strip():
        return "(before the first heading)"
    return quote(heading)


# ---------------------------------------------------------------------------


def page_findings(
    pages: pd.DataFrame,
    headings: pd.DataFrame,
    sections: pd.DataFrame,
    *,
    min_words: int = THIN_CONTENT_WORDS,
) -> pd.DataFrame:
    """Every finding of this module, ordered by severity then URL."""
    return concat_findings(
        [
            indexability_findings(pages),
            metadata_findings(pages, headings),
            heading_findings(pages, headings),
            thin_content_findings(pages, min_words),
            artifact_findings(pages, sections),
            page_limit_findings(pages),
        ]
    )


def page_limit_findings(pages: pd.DataFrame) -> pd.DataFrame:
    """One notice per page where an extraction limit applied (docs/extraction.md): the
    page is recorded, part of it was left out of the analysis."""
    if "limits" not in pages:
        return empty_findings()
    limited = pages[pages["limits"].fillna("").astype("str").ne("")]
    return make_findings(limited, "page_limit", "limits")
