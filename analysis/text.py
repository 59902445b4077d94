"""Language-aware text processing for topical analysis.

Pages are reduced to stems: lower case, stop words removed, stemmed with the Snowball
stemmer of the page's language, then accent-folded. Folding happens *after* stemming
because the French Snowball rules read accents (``é``, ``è``) to find suffixes; folding
first would give different stems for the same word.

The only I/O here is reading the bundled stop-word lists (``config/stopwords/<lang>.txt``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import pandas as pd
import snowballstemmer

STOPWORDS_DIR = Path(__file__).resolve().parents[1] / "config" / "stopwords"

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
_WORD_RE = re.compile(r"[^\W\d_]+")

# Stems shorter than this carry no topic (elisions, initials, "gaba-b" -> "b").
MIN_TOKEN_LENGTH = 3

# Language detection needs enough words to be trusted over the declared language.
MIN_WORDS_FOR_DETECTION = 12
# Share of distinctive stop words a text must reach to be called that language.
MIN_STOPWORD_SHARE = 0.06
# How many times more distinctive stop words than the declared language to override it.
OVERRIDE_RATIO = 2.0


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


@cache
def _distinctive_stopwords() -> dict[str, frozenset[str]]:
    """Per language, the stop words no other bundled language shares ('de', 'a', 'en'
    belong to several languages and would blur detection)."""
    lists = {lang: stopwords(lang) for lang in available_languages()}
    distinctive = {}
    for lang, own in lists.items():
        others = frozenset().union(*(w for other, w in lists.items() if other != lang))
        distinctive[lang] = own - others
    return distinctive


def normalise_language_tag(tag: str | None) -> str | None:
    """'fr-FR' / 'FR_ca' / ' en ' -> 'fr' / 'fr' / 'en'; empty or missing -> None."""
    if tag is None or (not isinstance(tag, str)):
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def stopword_shares(text: str) -> dict[str, float]:
    """Share of the text's words that are distinctive stop words of each bundled language."""
    tokens = words(text)
    if not tokens:
        return {lang: 0.0 for lang in _distinctive_stopwords()}
    return {
        lang: sum(t in vocab for t in tokens) / len(tokens)
        for lang, vocab in _distinctive_stopwords().items()
    }


def detect_language(text: str, declared: str | None = None) -> str:
    """Language of ``text`` as an ISO 639-1 code ('fr', 'en', ...).

    The declared language (``<html lang>``) is kept unless the text clearly reads as another
    bundled language: enough words, and that language's distinctive stop words are both
    frequent and ``OVERRIDE_RATIO`` times more frequent than the declared one's. Sites often
    ship a template-wide ``lang="en"`` on French articles, hence the override.
    Returns ``"und"`` when nothing is declared and the text gives no answer.
    """
    declared_lang = normalise_language_tag(declared)
    if len(words(text)) < MIN_WORDS_FOR_DETECTION:
        return declared_lang or UNKNOWN_LANGUAGE
    shares = stopword_shares(text)
    best = max(sorted(shares), key=lambda lang: shares[lang])
    # A declared language we have no list for (say 'it') cannot be measured, so only a
    # text that reads strongly as a bundled language overrides it.
    needed = MIN_STOPWORD_SHARE * (1 if declared_lang in (None, *shares) else 2)
    if shares[best] < needed:
        return declared_lang or UNKNOWN_LANGUAGE
    if declared_lang is None or declared_lang == best:
        return best
    declared_share = shares.get(declared_lang, 0.0)
    if shares[best] >= OVERRIDE_RATIO * declared_share:
        return best
    return declared_lang


@cache
def _stemmer(lang: str):
    name = SNOWBALL_NAMES.get(lang)
    return snowballstemmer.stemmer(name) if name else None


@lru_cache(maxsize=500_000)
@lru_cache(maxsize=1 << 17)
def stem(word: str, lang: str) -> str:
    """Stem one lower-case word, then fold its accents (see module docstring for the order)."""
    stemmer = _stemmer(lang)
    stemmed = stemmer.stemWord(word) if stemmer is not None else word
    return fold_accents(stemmed)


def analyse(text: str, lang: str) -> list[tuple[str, str]]:
    """(stem, surface word) pairs of the content words of ``text``, in order.

    The surface word is the lower-case original, kept so reports can show readable words
    instead of stems.
    """
    stop = stopwords(lang)
    pairs = []
    for word in words(text):
        if word in stop or fold_accents(word) in stop:
            continue
        token = stem(word, lang)
        if len(token) >= MIN_TOKEN_LENGTH:
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


def page_documents(
    pages: pd.DataFrame, sections: pd.DataFrame, headings: pd.DataFrame
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
        detect_language(f"{title}\n{text}", declared)
        for title, text, declared in zip(
            docs["title"], docs["text"], docs["declared_lang"], strict=True
        )
    ]
    return docs[["url", "lang", "text", "title", "h1", "headings"]]
