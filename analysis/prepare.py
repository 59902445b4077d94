"""Per-page work done ahead of the audit, while the crawl runs.

Most of a page's text analysis needs only the page: its language, the stems of its words.
:class:`Prepared` holds these for pages seen so far, each keyed on what it was computed
from (a digest of the page's text, title, headings and declared language), so the audit
reads a result only for a page that is still exactly what it was computed from and
computes the others as usual. What the audit finds is the same with or without it; only
the time differs. ``linkaudit run`` fills one in a second process while the crawl writes
the store (linkaudit/preparing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from linkaudit.analysis.text import page_documents
from linkaudit.analysis.topics import DocumentTerms


@dataclass
class Prepared:
    """Page languages (digest -> language) and page words, computed before the audit."""

    languages: dict[bytes, str] = field(default_factory=dict)
    terms: DocumentTerms = field(default_factory=DocumentTerms)
    waited: float = 0.0  # seconds the audit waited for these after the crawl

    def add(self, pages: pd.DataFrame, sections: pd.DataFrame, headings: pd.DataFrame) -> int:
        """Prepare these pages (store rows of HTML pages, with their sections and headings);
        returns how many were analysed. Any page may be: the audit only reads what matches."""
        pages = pages.assign(indexable=(pages["status"] == 200).fillna(False).astype(bool))
        docs = page_documents(pages, sections, headings, languages=self.languages)
        for row in docs.to_dict("records"):
            self.terms.add(row)
        return len(docs)

    def __len__(self) -> int:
        return len(self.terms)
