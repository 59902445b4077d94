"""Which links are promotional (calls to action), and why.

A link is promotional for any of these reasons (``promo_reason`` lists every one that
matched, ``; ``-separated, each as ``reason: detail``):

* ``cta_phrase``: its context sentence or anchor holds a call-to-action phrase, or the
  whole anchor is one ("En savoir plus »");
* ``cta_paragraph``: its paragraph is short and exists only to send the reader elsewhere;
* ``sponsored``: its rel attribute says ``sponsored``;
* ``tracking_params``: its href or target carries click-tracking or affiliate parameters;
* ``commercial_url``: its target is a money page (prices, booking, quote, cart, shop...).

``sponsored`` counts wherever the link is on the page; the other reasons only count for
links in the main content, since navigation and footers are not editorial choices. Links
back to their own page (tables of contents) are never ``cta_*`` nor ``commercial_url``.
The rules and word lists live in ``config/promo.toml``; docs/promotional-links.md explains
them. Matching ignores case, accents and the apostrophe variant (’ or ').
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from linkaudit.analysis.checks import make_findings, quote
from linkaudit.analysis.model import flags
from linkaudit.analysis.text import COUNTED_WORD
from linkaudit.resources import config_file

DEFAULT_RULES_PATH = config_file("promo.toml")

REQUIRED_COLUMNS = (
    "source",
    "target",
    "href",
    "anchor",
    "rel",
    "position",
    "context",
    "paragraph",
    "internal",
)

_APOSTROPHES = "\u2019\u2018\u02bc\u02b9\u2032\u00b4\u0060\u201b\uff07"


def _fold_table() -> dict[int, str]:
    """One character for one character, so positions in folded text match the original."""
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        decomposed = unicodedata.normalize("NFD", chr(code))
        base, marks = decomposed[0], decomposed[1:]
        if marks and base.isascii() and all(unicodedata.combining(m) for m in marks):
            table[code] = base
    for apostrophe in _APOSTROPHES:
        table[ord(apostrophe)] = "'"
    for hyphen in "\u2010\u2011":
        table[ord(hyphen)] = "-"
    return table


_FOLD = _fold_table()


def display_text(text: object) -> str:
    """``text`` in NFC form with runs of whitespace collapsed to one space."""
    if not isinstance(text, str):
        return ""
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: str) -> str:
    """Accents removed and apostrophes unified, keeping the length of ``text``."""
    return text.translate(_FOLD)


# ---------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class PromoRules:
    """Compiled promotional-link rules; build with :meth:`from_mapping` or :func:`default_rules`.

    Each pattern is compiled alone (folded, case-insensitive) so a bad one is reported by
    name; :func:`phrase_matcher`, :func:`anchor_matcher` and :func:`url_token_matcher`
    join a rule's patterns into one regex with its boundary checks.
    """

    cta_phrases: tuple[re.Pattern[str], ...] = ()
    cta_anchors: tuple[re.Pattern[str], ...] = ()
    sales_phrases: tuple[re.Pattern[str], ...] = ()
    commercial_url_patterns: tuple[re.Pattern[str], ...] = ()
    priced_url_patterns: tuple[re.Pattern[str], ...] = ()
    priced_page_min_prices: int = 3
    tracking_params: tuple[str, ...] = ()
    tracking_param_prefixes: tuple[str, ...] = ()
    cta_paragraph_max_words: int = 45
    cta_paragraph_max_sentences: int = 2
    cta_paragraph_min_anchor_share: float = 0.5

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> PromoRules:
        """Validate and compile a parsed ``promo.toml`` table.

        Missing keys keep their defaults (no patterns, 45 words, 2 sentences, 0.5).
        Unknown keys, wrong types and invalid regexes raise ``ValueError`` naming the key.
        """
        unknown = sorted(set(data) - set(_READERS))
        if unknown:
            raise ValueError(f"promo rules: unknown key {unknown[0]!r}")
        values = {key: _READERS[key](key, value) for key, value in data.items()}
        return cls(**values)


def default_rules() -> PromoRules:
    """The rules bundled in ``config/promo.toml``."""
    return load_rules(DEFAULT_RULES_PATH)


def load_rules(path: Path) -> PromoRules:
    """Read and validate a promo rules TOML file."""
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"promo rules: {path}: {error}") from error
    return PromoRules.from_mapping(data)


def _fail(key: str, expected: str, value: object) -> ValueError:
    return ValueError(f"promo rules: {key!r} must be {expected}, got {value!r}")


def _positive_int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(key, "a positive integer", value)
    return value


def _share(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise _fail(key, "a number in (0, 1]", value)
    return float(value)


def _strings(key: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(key, "a list of non-empty strings", value)
    return value


def _names(key: str, value: object) -> tuple[str, ...]:
    return tuple(name.casefold() for name in _strings(key, value))


def _grouped_strings(key: str, value: object) -> list[tuple[str, str]]:
    """(key path, string) pairs from a list or from a table of lists (one per language)."""
    if isinstance(value, list):
        return [(f"{key}[{i}]", s) for i, s in enumerate(_strings(key, value))]
    if not isinstance(value, dict):
        raise _fail(key, "a list of strings or a table of lists", value)
    return [
        (f"{key}.{group}[{i}]", s)
        for group, items in value.items()
        for i, s in enumerate(_strings(f"{key}.{group}", items))
    ]


def _compile(key: str, source: str) -> re.Pattern[str]:
    try:
        return re.compile(fold(source), re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"promo rules: {key!r} is not a valid regex: {error}") from error


def _patterns(key: str, value: object) -> tuple[re.Pattern[str], ...]:
    return tuple(_compile(path, source) for path, source in _grouped_strings(key, value))


_READERS: dict[str, Callable[[str, object], object]] = {
    "cta_phrases": _patterns,
    "cta_anchors": _patterns,
    "sales_phrases": _patterns,
    "commercial_url_patterns": _patterns,
    "priced_url_patterns": _patterns,
    "priced_page_min_prices": _positive_int,
    "tracking_params": _names,
    "tracking_param_prefixes": _names,
    "cta_paragraph_max_words": _positive_int,
    "cta_paragraph_max_sentences": _positive_int,
    "cta_paragraph_min_anchor_share": _share,
}


# ---------------------------------------------------------------------------
# Each rule joins its patterns into one regex. The boundary checks sit outside the
# alternation so most positions of a text fail on one check instead of one per pattern.


def _joined(patterns: tuple[re.Pattern[str], ...], template: str) -> re.Pattern[str] | None:
    if not patterns:
        return None
    alternatives = "|".join(f"(?:{p.pattern})" for p in patterns)
    return re.compile(template.replace("ALTERNATIVES", alternatives), re.IGNORECASE)


def phrase_matcher(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """Any of ``patterns`` as whole words."""
    return _joined(patterns, r"(?<!\w)(?:ALTERNATIVES)(?!\w)")


def anchor_matcher(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """Any of ``patterns`` as the whole text, give or take punctuation and arrows."""
    return _joined(patterns, r"^\W*(?:ALTERNATIVES)[\s.!:…»›>→\-]*$")


# Tokens of a URL path or query are separated by these characters.
_URL_SEPARATORS = r"/\-_.?&=;+,"


def url_token_matcher(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """Any of ``patterns`` as a whole token of a URL path or query."""
    return _joined(patterns, rf"(?<=[{_URL_SEPARATORS}])(?:ALTERNATIVES)(?=[{_URL_SEPARATORS}#]|$)")


# ---------------------------------------------------------------------------
# Matching many texts: each distinct text is examined once (paragraphs and contexts
# repeat for every link they hold), then the answers are mapped back onto the rows.


def _matched_text(text: str, pattern: re.Pattern[str] | None) -> str:
    """The lower-cased original text of the first match of ``pattern``, or ""."""
    if pattern is None:
        return ""
    shown = display_text(text)
    found = pattern.search(fold(shown))
    return shown[found.start() : found.end()].lower() if found else ""


def _first_matches(texts: pd.Series, pattern: re.Pattern[str] | None) -> pd.Series:
    filled = texts.fillna("").astype("str")
    if pattern is None or filled.empty:
        return pd.Series("", index=texts.index, dtype="str")
    answers = {text: _matched_text(text, pattern) for text in filled.unique()}
    return filled.map(answers).astype("str")


def _reason(name: str, details: pd.Series) -> pd.Series:
    """``name: detail`` where ``details`` is non-empty, "" elsewhere."""
    return (name + ": " + details).where(details.ne(""), "")


def _join_reasons(parts: list[pd.Series]) -> pd.Series:
    joined = parts[0]
    for part in parts[1:]:
        separator = pd.Series("; ", index=joined.index).where(joined.ne("") & part.ne(""), "")
        joined = joined + separator + part
    return joined


# ---------------------------------------------------------------------------
# The rules; each takes the rows it applies to and returns one reason per row.


def _cta_phrase_reasons(links: pd.DataFrame, rules: PromoRules) -> pd.Series:
    phrases = phrase_matcher(rules.cta_phrases)
    found = _first_matches(links["context"], phrases)
    in_anchor = _first_matches(links["anchor"], phrases)
    found = found.where(found.ne(""), in_anchor)
    whole_anchor = _first_matches(links["anchor"], anchor_matcher(rules.cta_anchors))
    whole_anchor = whole_anchor.str.strip(" .!:…»›>→-")
    found = found.where(found.ne(""), whole_anchor)
    # "Read more" alone in its block is the entry of a list of teasers (related posts, a
    # blog index), not a sentence that sends the reader somewhere.
    alone = _word_count(links["paragraph"]).le(_word_count(links["anchor"]))
    found = found.where(~(alone & whole_anchor.ne("")), "")
    return _reason("cta_phrase", '"' + found + '"').where(found.ne(""), "")


def _sales_reasons(links: pd.DataFrame, rules: PromoRules) -> pd.Series:
    """Wording that sells: book, buy, sign up, enter a draw, an offer, a discount."""
    phrases = phrase_matcher(rules.sales_phrases)
    found = _first_matches(links["anchor"], phrases)
    in_context = _first_matches(links["context"], phrases)
    # A link back to its own page sells only through its own words ("Sign me up" to the
    # form further down); its sentence may be about anything.
    own_page = links["target"].notna() & links["target"].eq(links["source"])
    found = found.where(found.ne("") | own_page, in_context)
    return _reason("sales_phrase", '"' + found + '"').where(found.ne(""), "")


# A sentence ends at . ! ? or … followed by a space or the end of the paragraph.
_SENTENCE_END = r"[.!?…]+[\"'»”)\]]*(?=\s|$)"


def _word_count(texts: pd.Series) -> pd.Series:
    return texts.fillna("").astype("str").str.count(COUNTED_WORD)


def _sentence_counts(paragraphs: pd.Series) -> pd.Series:
    ends = paragraphs.str.count(_SENTENCE_END)
    unterminated = ~paragraphs.str.rstrip().str.contains(_SENTENCE_END + "$", regex=True)
    return ends + (unterminated & paragraphs.str.strip().ne("")).astype(int)


def _cta_paragraph_reasons(links: pd.DataFrame, rules: PromoRules) -> pd.Series:
    """The link's paragraph is short and holds a call to action, or is mostly the link.

    Only ever a second reason: a short paragraph that is mostly its link is as often the
    entry of a list (an index, "Autre article : ...") as a call to action.
    """
    paragraphs = links["paragraph"].fillna("").astype("str")
    words = paragraphs.str.count(COUNTED_WORD)
    short = words.between(1, rules.cta_paragraph_max_words) & _sentence_counts(paragraphs).le(
        rules.cta_paragraph_max_sentences
    )
    with_phrase = pd.Series(False, index=links.index)
    either = tuple(rules.cta_phrases) + tuple(rules.sales_phrases)
    phrase_hits = _first_matches(paragraphs[short], phrase_matcher(either)).ne("")
    with_phrase.loc[phrase_hits.index] = phrase_hits
    anchor_words = _word_count(links["anchor"])
    mostly_anchor = (
        short
        & flags(links["internal"])
        & ~flags(links.get("is_image", pd.Series(False, index=links.index)))
        & anchor_words.ge(rules.cta_paragraph_min_anchor_share * words)
        & anchor_words.lt(words)
    )
    why = pd.Series("", index=links.index, dtype="str")
    why = why.where(~mostly_anchor, words.astype("str") + " words, mostly link text")
    why = why.where(~with_phrase, words.astype("str") + " words, call to action")
    return _reason("cta_paragraph", why)


def _sponsored_reasons(links: pd.DataFrame) -> pd.Series:
    rel = links["rel"].fillna("").astype("str")
    sponsored = rel.str.contains(r"(?i)(?<![\w-])sponsored(?![\w-])", regex=True)
    return _reason("sponsored", ('rel="' + rel + '"').where(sponsored, ""))


def _tracking_regex(rules: PromoRules) -> re.Pattern[str] | None:
    names = [re.escape(name) for name in rules.tracking_params]
    names += [re.escape(prefix) + r"[^=&#;\s]*" for prefix in rules.tracking_param_prefixes]
    if not names:
        return None
    return re.compile(rf"[?&;]({'|'.join(names)})(?=[=&#;\s]|$)", re.IGNORECASE)


def _tracking_names(urls: str, pattern: re.Pattern[str]) -> str:
    """Tracking parameter names found in ``urls``, lower-cased, first occurrence order."""
    if "?" not in urls:
        return ""
    return ", ".join(dict.fromkeys(name.lower() for name in pattern.findall(urls)))


def _tracking_reasons(links: pd.DataFrame, rules: PromoRules) -> pd.Series:
    pattern = _tracking_regex(rules)
    if pattern is None:
        return pd.Series("", index=links.index, dtype="str")
    # href and target both: the crawler may strip tracking parameters when normalising.
    both = links["href"].fillna("").astype("str") + " " + links["target"].fillna("").astype("str")
    answers = {text: _tracking_names(text, pattern) for text in both.unique()}
    return _reason("tracking_params", both.map(answers).astype("str"))


_HOST_PART = r"^[a-z][a-z0-9+.\-]*://[^/?#]*"

# An amount with its currency: "45 €", "45,00 euros", "$19", "€ 120", "1 200 EUR".
PRICE_RE = re.compile(
    r"(?<![\w.,])\d{1,3}(?:[ \u00a0\u202f.,]\d{3})*(?:[.,]\d{1,2})?[ \u00a0\u202f]?"
    r"(?:€|euros?\b|eur\b|usd\b|gbp\b|\$|£|chf\b)"
    r"|(?:€|\$|£|\bus\$)[ \u00a0\u202f]?\d",
    re.IGNORECASE,
)


def price_counts(texts: pd.Series) -> dict[str, int]:
    """url -> number of amounts with a currency in that page's text (``texts`` indexed by
    url); pages without any are left out."""
    counts = texts.fillna("").astype("str").str.count(PRICE_RE)
    return {str(url): int(n) for url, n in counts.items() if n}


def _commercial_reasons(
    links: pd.DataFrame, rules: PromoRules, prices: Mapping[str, int]
) -> pd.Series:
    """The target is a money page: its URL says so.

    Some URL words are also ordinary words ("prix" is a prize, "commande" a command line,
    "offre" a job offer): those count only on a page that lists prices. A page that lists
    prices under a neutral URL is not enough on its own: a sentence may mention a product
    without selling it.
    """
    targets = links["target"].fillna("").astype("str")
    # Each distinct target once (a site's links repeat a few thousand targets), the host
    # cut with an inline flag: case=False would send Arrow strings through Python's re.
    distinct = pd.Series(targets.unique(), dtype="str")
    after_host = distinct.str.replace("(?i)" + _HOST_PART, "", regex=True)
    decoded = targets.map(dict(zip(distinct, map(unquote, after_host), strict=True))
                          ).astype("str")
    token = _first_matches(decoded, url_token_matcher(rules.commercial_url_patterns))
    n_prices = targets.map(prices).fillna(0).astype(int)
    priced = n_prices.ge(rules.priced_page_min_prices)
    maybe = _first_matches(decoded, url_token_matcher(rules.priced_url_patterns))
    token = token.where(token.ne("") | ~priced, maybe)
    return _reason("commercial_url", '"' + token + '"').where(token.ne(""), "")


# ---------------------------------------------------------------------------


def _on(rows: pd.Series, index: pd.Index, compute: Callable[[], pd.Series]) -> pd.Series:
    """Run a rule on the selected rows only; the others get ""."""
    out = pd.Series("", index=index, dtype="str")
    if rows.any():
        computed = compute()
        out.loc[computed.index] = computed
    return out


def classify_links(
    links: pd.DataFrame, rules: PromoRules, prices: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """``links`` plus ``promotional`` (bool) and ``promo_reason`` ("" when not promotional).

    ``prices`` (url -> amounts with a currency on that page, :func:`price_counts`) lets a
    link to a page that lists prices count as a link to a money page.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in links.columns]
    if missing:
        raise ValueError(f"links frame lacks column(s): {', '.join(missing)}")
    prices = prices or {}
    # A fresh positional index: the rules write their answers back by index label.
    work = links.reset_index(drop=True)
    content = work["position"].fillna("").astype("str").eq("content")
    to_elsewhere = work["target"].isna() | work["target"].ne(work["source"])
    editorial = content & to_elsewhere
    internal = flags(work["internal"])
    index = work.index
    tracking = _on(content, index, lambda: _tracking_reasons(work[content], rules))
    # Signs that make a link promotional on their own...
    signs = [
        _on(editorial, index, lambda: _cta_phrase_reasons(work[editorial], rules)),
        _on(content, index, lambda: _sales_reasons(work[content], rules)),
        _sponsored_reasons(work),
        tracking.where(~internal, ""),
        _on(editorial, index, lambda: _commercial_reasons(work[editorial], rules, prices)),
    ]
    # ...and details that only say more about a link already found promotional: a short
    # paragraph made of the link, campaign parameters on a link to one of our own pages.
    promotional = _join_reasons(signs).ne("")
    described = editorial & promotional
    details = [
        _on(described, index, lambda: _cta_paragraph_reasons(work[described], rules)),
        tracking.where(internal & promotional, ""),
    ]
    parts = [signs[0], details[0], signs[1], signs[2], signs[3], details[1], signs[4]]
    promo_reason = _join_reasons(parts).astype("str").to_numpy()
    return links.assign(
        promotional=promo_reason != "",
        promo_reason=pd.Series(promo_reason, index=links.index, dtype="str"),
    )


def promotional_findings(classified: pd.DataFrame) -> pd.DataFrame:
    """One ``promotional_link`` finding per promotional link of :func:`classify_links`."""
    promotional = classified[flags(classified["promotional"])]
    return make_findings(
        promotional,
        "promotional_link",
        lambda f: "anchor " + f["anchor"].map(quote) + ": " + f["promo_reason"].astype("str"),
        url="source",
        target="target",
    )
