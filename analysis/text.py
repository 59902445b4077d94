"""Language-aware text processing for topical analysis.

Pages are reduced to stems: lower case, stop words removed, stemmed with the Snowball
stemmer of the page's language, then accent-folded. Folding happens *after* stemming
because the French Snowball rules read accents (``é``, ``è``) to find suffixes; folding
first would give different stems for the same word.

The only I/O here is reading the bundled stop-word lists (``config/stopwords/<lang>.txt``)
and, once, py3langid's language model (a file of the installed package).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import pandas as pd
import snowballstemmer

from linkaudit.resources import config_file

STOPWORDS_DIR = config_file("stopwords")

# Snowball algorithm per ISO 639-1 code; a language without a stop-word list is still stemmed.
SNOWBALL_NAMES = {
    "fr": "french",
    "en": "english",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
}

UNKNOWN_LANGUAGE = "und"

# Letters only: digits, underscores, apostrophes and hyphens split words, so "l'activité"
# gives "l" + "activité" and "GABA-B" gives "gaba" + "b".
# A word, for the topic vectors and the comparison of pages: a run of letters.
_WORD_RE = re.compile(r"[^\W\d_]+")
# A word as a reader counts it in a sentence ("l'acide", "GABA-B", "2026" are one each).
# The crawler counts the words of the main content its own way (crawler/sentences.py) and
# stores the count; this one counts the words of stored fragments (anchors, paragraphs).
COUNTED_WORD = r"\w[\w'’-]*"

# Stems shorter than this carry no topic (elisions, initials, "gaba-b" -> "b").
MIN_TOKEN_LENGTH = 3

# Fewer letter words than this say nothing about a language: the declared one is kept.
MIN_WORDS_FOR_DETECTION = 3
# Only the start of a text is read: 2,000 characters decide as well as the whole page on
# the real-page corpus (benchmarks/compare_language.py) at a fraction of the time.
DETECTION_CHARS = 2_000
# Log-likelihood ratio (natural log, py3langid's scores) by which another language must
# beat the declared one to replace it. On the real-page corpus cut to 5, 10 and 20 words
# (benchmarks/compare_language.py), right declarations lost to a wrong language by at
# most 14.9 (an English product name as a French page's title); wrong declarations lost
# to the page's language by 19.4 or more, but for one five-word title (9.3).
OVERRIDE_MARGIN = 16.0


@lru_cache(maxsize=1 << 17)
def fold_accents(word: str) -> str:
    """Remove diacritics: 'spécialité' -> 'specialite'; 'ß' and ligatures are expanded."""
    decomposed = unicodedata.normalize("NFKD", word)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded.replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")


def words(text: str) -> list[str]:
    """Lower-case alphabetic words of ``text``, in order."""
    if not text:
        return []
    return _WORD_RE.findall(text.lower())


# A run of characters that str.split() does not split on: every Unicode space (\pZ), the
# ASCII ones, and the separators Python also counts (\x1c-\x1f, \x85). RE2's \s is
# ASCII only, hence the rest.
WHITESPACE_FREE_RUN = r"[^\s\v\x1c-\x1f\x85\pZ]+"


def word_counts(texts: pd.Series) -> pd.Series:
    """How many words ``str.split()`` finds in each text (0 for a missing one), counted
    in Arrow when the texts are Arrow strings: splitting 600,000 link paragraphs into
    Python lists took more memory than the whole link table."""
    texts = texts.fillna("")
    if getattr(texts.dtype, "storage", None) == "pyarrow":
        return texts.str.count(WHITESPACE_FREE_RUN).astype("int64")
    return texts.astype(object).str.split().str.len().fillna(0).astype("int64")


def available_languages() -> tuple[str, ...]:
    """Languages that have a bundled stop-word list, sorted."""
    return tuple(sorted(p.stem for p in STOPWORDS_DIR.glob("*.txt")))


@cache
def stopwords(lang: str) -> frozenset[str]:
    """Stop words for ``lang`` in both accented and folded forms (empty if no list)."""
    path = STOPWORDS_DIR / f"{lang}.txt"
    if not path.is_file():
        return frozenset()
    entries = [
        line.strip().lower()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return frozenset(entries) | frozenset(fold_accents(w) for w in entries)


def normalise_language_tag(tag: str | None) -> str | None:
    """'fr-FR' / 'FR_ca' / ' en ' -> 'fr' / 'fr' / 'en'; empty or missing -> None."""
    if tag is None or (not isinstance(tag, str)):
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def detection_languages() -> tuple[str, ...]:
    """Languages the text is measured against: those with a stop-word list or a stemmer."""
    return tuple(sorted(set(available_languages()) | set(SNOWBALL_NAMES)))


@cache
def _identifier():
    """py3langid's bundled model (loaded once, about 0.7 s); raw scores, not probabilities."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def language_scores(text: str) -> dict[str, float]:
    """py3langid's score (log-likelihood plus log-prior) of the start of ``text`` for every
    language its model knows. The difference of two scores is their log-likelihood ratio;
    restricting the choice to some languages is picking the best of their scores."""
    return dict(_identifier().rank(text[:DETECTION_CHARS]))


def detect_language(text: str, declared: str | None = None) -> str:
    """Language of ``text`` as an ISO 639-1 code ('fr', 'en', ...).

    The text is scored by py3langid against :func:`detection_languages` plus the declared
    language (``<html lang>``). The declared language is kept unless the text clearly reads
    as another of these: at least ``MIN_WORDS_FOR_DETECTION`` letter words, and a
    log-likelihood ratio of ``OVERRIDE_MARGIN`` or more over the declared language. Sites
    often ship a template-wide ``lang="en"`` on French articles, hence the override; a
    title and a few post titles are enough when they are plainly French.
    Without a declaration the best of those languages is returned, unless the text reads
    by that margin as a language outside them (then ``"und"``, like a text too short).
    """
    declared_lang = normalise_language_tag(declared)
    fallback = declared_lang or UNKNOWN_LANGUAGE
    if len(words(text[:DETECTION_CHARS])) < MIN_WORDS_FOR_DETECTION:
        return fallback
    scores = language_scores(text)
    candidates = set(detection_languages())
    if declared_lang in scores:
        candidates.add(declared_lang)
    best = max(sorted(candidates), key=lambda lang: scores[lang])
    anywhere = max(scores, key=lambda lang: scores[lang])
    if scores[anywhere] - scores[best] >= OVERRIDE_MARGIN:
        return fallback  # the text is in a language we do not measure
    if declared_lang is None or declared_lang == best:
        return best
    # A declared language the model does not know is measured by the runner-up instead.
    runner_up = max(sorted(candidates - {best}), key=lambda lang: scores[lang])
    reference = scores.get(declared_lang, scores[runner_up])
    return best if scores[best] - reference >= OVERRIDE_MARGIN else declared_lang


@cache
def _stemmer(lang: str):
    name = SNOWBALL_NAMES.get(lang)
    return snowballstemmer.stemmer(name) if name else None


@lru_cache(maxsize=1 << 17)
def stem(word: str, lang: str) -> str:
    """Stem one lower-case word, then fold its accents (see module docstring for the order)."""
    stemmer = _stemmer(lang)
    stemmed = stemmer.stemWord(word) if stemmer is not None else word
    return fold_accents(stemmed)


# Short texts (anchors, link sentences, titles) repeat across a site: their analysis is
# kept. Longer ones are analysed each time (keeping them would keep whole pages' text).
CACHED_TEXT_CHARS = 400


def analyse(text: str, lang: str) -> list[tuple[str, str]]:
    """(stem, surface word) pairs of the content words of ``text``, in order.

    The surface word is the lower-case original, kept so reports can show readable words
    instead of stems.
    """
    if len(text) <= CACHED_TEXT_CHARS:
        return list(_analysed(text, lang))
    return _analyse(text, lang)


@lru_cache(maxsize=1 << 16)
def _analysed(text: str, lang: str) -> tuple[tuple[str, str], ...]:
    return tuple(_analyse(text, lang))


# Each language's words seen so far -> their stem (None: a stop word or too short). A
# site's pages repeat a few tens of thousands of words: one dictionary look-up a word
# instead of the stop-word, accent and stemmer steps (on 40,000 generated sections, 8 to
# 25% less time; the regular expression that finds the words is most of the rest).
# Started afresh past this many words.
TOKEN_CACHE_WORDS = 1 << 18
_TOKENS: dict[str, dict[str, str | None]] = {}
_UNSEEN = object()


def _word_token(word: str, lang: str) -> str | None:
    stop = stopwords(lang)
    if word in stop or fold_accents(word) in stop:
        return None
    token = stem(word, lang)
    return token if len(token) >= MIN_TOKEN_LENGTH else None


def _analyse(text: str, lang: str) -> list[tuple[str, str]]:
    known = _TOKENS.get(lang)
    if known is None or len(known) > TOKEN_CACHE_WORDS:
        known = _TOKENS[lang] = {}
    pairs = []
    for word in words(text):
        token = known.get(word, _UNSEEN)
        if token is _UNSEEN:
            token = known[word] = _word_token(word, lang)
        if token is not None:
            pairs.append((token, word))
    return pairs


def tokenize(text: str, lang: str) -> list[str]:
    """Stems of the content words of ``text``: stop words removed, stemmed, accents folded."""
    return [token for token, _ in analyse(text, lang)]


def _join_texts(values: Iterable[object]) -> str:
    return "\n\n".join(str(v) for v in values if isinstance(v, str) and v.strip())


def main_texts(sections: pd.DataFrame) -> pd.Series:
    """url -> the page's main text (its sections in order, headings included)."""
    if sections.empty:
        return pd.Series(dtype="string")
    ordered = sections.sort_values(["url", "ord"], kind="stable")
    parts = ordered["heading"].fillna("").astype(str) + "\n\n" + ordered["text"].fillna("")
    return parts.groupby(ordered["url"], sort=False).agg(_join_texts)


def _heading_texts(headings: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(url -> first h1 text, url -> h2-h6 texts of the main content joined)."""
    if headings.empty:
        empty = pd.Series(dtype="string")
        return empty, empty
    ordered = headings.sort_values(["url", "ord"], kind="stable")
    h1 = ordered[ordered["level"] == 1].groupby("url", sort=False)["text"].first()
    in_main = ordered["in_main"].fillna(True).astype(bool) if "in_main" in ordered else True
    sub = ordered[(ordered["level"] > 1) & in_main]
    return h1, sub.groupby("url", sort=False)["text"].agg(_join_texts)


def _lookup(urls: pd.Series, values: pd.Series) -> list[str]:
    by_url = values.to_dict()
    return [str(v) if isinstance(v := by_url.get(u), str) else "" for u in urls]


def content_key(*parts: object) -> bytes:
    """A digest of ``parts`` (as text): what a result computed from them is kept under."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(str(part).encode("utf-8", "surrogatepass") + b"\x00")
    return digest.digest()


def page_documents(
    pages: pd.DataFrame, sections: pd.DataFrame, headings: pd.DataFrame,
    languages: dict[bytes, str] | None = None,
) -> pd.DataFrame:
    """One row per indexable HTML page: url, lang, text, title, h1, headings.

    ``pages`` must carry url, is_html, indexable, title and lang (declared); ``lang`` in the
    result is the detected language (see :func:`detect_language`). Pages marked
    ``internal`` False are left out when that column exists.
    """
    keep = pages["is_html"].fillna(False).astype(bool) & pages["indexable"].fillna(False).astype(
        bool
    )
    if "internal" in pages:
        keep &= pages["internal"].fillna(False).astype(bool)
    docs = pages.loc[keep, ["url", "title", "lang"]].drop_duplicates("url")
    docs = docs.rename(columns={"lang": "declared_lang"}).reset_index(drop=True)
    h1, sub_headings = _heading_texts(headings)
    texts = main_texts(sections)
    docs["text"] = _lookup(docs["url"], texts)
    docs["title"] = [t if isinstance(t, str) else "" for t in docs["title"]]
    docs["h1"] = _lookup(docs["url"], h1)
    docs["headings"] = _lookup(docs["url"], sub_headings)
    docs["lang"] = [
        _detected(f"{title}\n{text}", declared, languages)
        for title, text, declared in zip(
            docs["title"], docs["text"], docs["declared_lang"], strict=True
        )
    ]
    return docs[["url", "lang", "text", "title", "h1", "headings"]]


def _detected(text: str, declared: object, languages: dict[bytes, str] | None) -> str:
    """:func:`detect_language`, read from ``languages`` (digest -> language) when it was
    found before, and kept there."""
    if languages is None:
        return detect_language(text, declared)
    key = content_key(declared, text)
    lang = languages.get(key)
    if lang is None:
        lang = languages[key] = detect_language(text, declared)
    return lang
