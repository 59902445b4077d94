"""Plain-text helpers of the extraction: whitespace collapsing, word counts, the sentence
around a span of text (a link's context) and a window of text cut between words.
"""

from __future__ import annotations

import re
from itertools import filterfalse

CONTEXT_CAP = 300  # characters of a link's context sentence
# Letters or digits, hyphenated compounds as one word; an apostrophe splits (l'acide = 2).
_WORD = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:-[^\W_]+)*")
# End of a sentence: terminal punctuation, closing quotes (French « ... » included), then
# a space and a capital letter (possibly after an opening quote).
_SENTENCE_END = re.compile(r"[.!?…]+(?:\s?[»”\"’')\]])*(?=\s+(?:[«\"“(\[]\s?)?[A-ZÀ-ÖØ-ÞŒ])")
_TERMINATORS = ".!?…"
_EDGE_PUNCTUATION = ".,;:!?…«»“”\"'’()[]{}<>—–-/*•·"


def collapse_whitespace(text: str | None) -> str:
    """Runs of whitespace (non-breaking spaces included) to one space, ends stripped."""
    return " ".join(text.split()) if text else ""  # str.split: much faster than re.sub


def count_words(text: str) -> int:
    """Number of words: letter/digit runs, hyphenated compounds as one, ``l'acide`` as two."""
    return count_tokens(text.split())


def count_tokens(tokens: list[str]) -> int:
    """:func:`count_words` of text already split on whitespace."""
    # Same answer as counting _WORD matches, without running the regex on every token:
    # alphabetic tokens, bare or once edge punctuation is trimmed, are one word each.
    others = list(filterfalse(str.isalpha, tokens))
    trimmed = [token.strip(_EDGE_PUNCTUATION) for token in others]
    rest = " ".join(filterfalse(str.isalpha, trimmed))
    alphabetic = len(tokens) - len(others) + sum(map(str.isalpha, trimmed))
    return alphabetic + len(_WORD.findall(rest))


def sentence_around(text: str, start: int, end: int, cap: int = CONTEXT_CAP) -> str:
    """The sentence(s) of ``text`` holding ``text[start:end]``, at most ``cap`` characters.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or ``»``)
    followed by a space and a capital letter. An empty span gives the whole text
    (capped from its beginning).
    """
    if start >= end:
        return window_around(text, 0, 0, cap)
    # Boundaries further than ``cap`` from the anchor cannot show in the result.
    low, high = max(start - cap, 0), min(end + cap, len(text))
    around = text[low:high]
    marks = [mark for mark in _TERMINATORS if mark in around]
    first = _sentence_start(text, start, low, marks)
    stop = _sentence_stop(text, end, high, marks)
    sentence = text[first:stop]
    lead = len(sentence) - len(sentence.lstrip())
    return window_around(sentence.strip(), start - first - lead, end - first - lead, cap)


def _sentence_start(text: str, start: int, low: int, marks: list[str]) -> int:
    # Walks back over terminators with str.rfind: far cheaper than a regex scan.
    limit = start
    while marks:
        found = -1
        for mark in marks:
            found = max(found, text.rfind(mark, low, limit))
        if found < 0:
            break
        while found > low and text[found - 1] in _TERMINATORS:
            found -= 1
        boundary = _SENTENCE_END.match(text, found)
        if boundary and boundary.end() <= start:
            return boundary.end()
        limit = found
    return low


def _sentence_stop(text: str, end: int, high: int, marks: list[str]) -> int:
    origin = max(end - 1, 0)  # the anchor's own final "." may end the sentence
    while marks:
        hits = [hit for mark in marks if (hit := text.find(mark, origin, high)) >= 0]
        if not hits:
            break
        found = min(hits)
        boundary = _SENTENCE_END.match(text, found)
        if boundary and boundary.end() >= end:
            return boundary.end()
        origin = (boundary.end() if boundary else found) + 1
    return high


def window_around(text: str, start: int, end: int, cap: int) -> str:
    """At most ``cap`` characters of ``text`` centred on ``[start, end)``, cut between words."""
    if len(text) <= cap:
        return text
    centre = (max(start, 0) + max(end, 0)) // 2
    low = max(0, min(centre - cap // 2, len(text) - cap))
    high = low + cap
    window = text[low:high]
    if low > 0 and " " in window:
        window = window[window.index(" ") + 1 :]
    if high < len(text) and " " in window:
        window = window[: window.rindex(" ")]
    return window.strip()
