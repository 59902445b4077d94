"""Language detection on real page texts: stop-word shares against py3langid.

    .venv/bin/python benchmarks/compare_language.py [--baseline REV] [--no-record]

Texts: every page of the real-page corpus (tests/corpus, truth: each page's labelled
language) and of the labelled site (tests/sites/labelled, truth: labels.json
"languages"), as the audit reads them: the page's <title>, then its main content
(crawler.extract). Each text is judged whole and cut to its first 5, 10 and 20 words.

Detectors:

- ``stopwords``: ``detect_language`` of analysis/text.py at ``--baseline`` (read from
  git; default 9c0235d, the last version that used distinctive stop-word shares);
- ``py3langid``: py3langid's best language among ``detection_languages()``;
- ``detect_language``: this checkout's ``linkaudit.analysis.text.detect_language``.

The stop-word detector and this checkout's are run twice: on the text alone and with the
page's declared ``<html lang>``, the way the audit calls them. The table gives correct
answers over pages ("und" counts as wrong). Below it, for the corpus texts cut to 5, 10
and 20 words: by how much a right declaration lost to another language at most, and by
how much wrong declarations lost to the page's language (the margins OVERRIDE_MARGIN
sits between).

A second table builds tag pages from real titles: a tag line ("Étiquette : voyage",
"Tag: travel") and every combination of 1, 2 or 3 article titles of one corpus site,
judged with no declaration and with the other language declared (a template-wide
``lang``). Appends both tables to results.md unless --no-record.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
import types
from dataclasses import dataclass
from datetime import UTC, datetime

from common import REPO, RESULTS

sys.path.insert(0, str(REPO))

from linkaudit.analysis import text  # noqa: E402
from linkaudit.crawler.extract import extract_page  # noqa: E402
from tests.corpus.score import corpus_pages  # noqa: E402

LABELLED = REPO / "tests" / "sites" / "labelled"
LENGTHS = (5, 10, 20, None)  # None: the whole text


@dataclass(frozen=True)
class Sample:
    source: str  # "corpus" or "labelled"
    page: str
    lang: str  # the truth
    declared: str | None  # <html lang> as the page declares it
    text: str


def page_text(raw: bytes, url: str) -> tuple[str, str | None]:
    extract = extract_page(raw, url)
    body = "\n\n".join(f"{s.heading}\n\n{s.text}" for s in extract.sections)
    return f"{extract.title or ''}\n{body}", extract.lang


def samples() -> list[Sample]:
    found = []
    for page in corpus_pages():
        content, declared = page_text(page.html.read_bytes(), page.truth["url"])
        found.append(Sample("corpus", page.id, page.lang, declared, content))
    languages = json.loads((LABELLED / "labels.json").read_text("utf-8"))["languages"]
    for path, lang in sorted(languages.items()):
        raw = (LABELLED / path.lstrip("/")).read_bytes()
        content, declared = page_text(raw, f"http://127.0.0.1{path}")
        found.append(Sample("labelled", path, lang, declared, content))
    return found


def cut(content: str, n_words: int | None) -> str:
    return content if n_words is None else " ".join(content.split()[:n_words])


def baseline_module(rev: str) -> types.ModuleType:
    """analysis/text.py as it was at ``rev``, reading this checkout's config/ files."""
    source = subprocess.run(["git", "show", f"{rev}:analysis/text.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("baseline_text")
    module.__file__ = str(REPO / "analysis" / "text.py")
    exec(compile(source, f"{rev}:analysis/text.py", "exec"), module.__dict__)
    return module


def py3langid_only(content: str, declared: str | None) -> str:
    scores = text.language_scores(content)
    return max(text.detection_languages(), key=lambda lang: scores[lang])


def margins(pages: list[Sample]) -> str:
    """Largest loss of a right declaration; losses of the wrong ones (corpus, 5-20 words)."""
    right_lost, wrong_lost = [], []
    for sample in pages:
        declared = text.normalise_language_tag(sample.declared)
        if declared is None:
            continue
        for n_words in LENGTHS[:-1]:
            scores = text.language_scores(cut(sample.text, n_words))
            best = max(text.detection_languages(), key=lambda lang: scores[lang])
            if declared == sample.lang and best != declared:
                right_lost.append(scores[best] - scores[declared])
            elif declared != sample.lang and best == sample.lang:
                wrong_lost.append(scores[best] - scores[declared])
    wrong = ", ".join(f"{m:.1f}" for m in sorted(wrong_lost))
    return (f"right declarations lost by at most {max(right_lost, default=0):.1f} "
            f"({len(right_lost)} times); wrong ones lost by {wrong}")


TAG_LINES = {"fr": "Étiquette : voyage", "en": "Tag: travel"}
WRONG_DECLARATION = {"fr": "en", "en": "fr"}


def tag_pages(n_titles: int) -> dict[str, list[str]]:
    """Language -> tag pages: the tag line and ``n_titles`` article titles of one site."""
    titles: dict[tuple[str, str], list[str]] = {}
    for page in corpus_pages():
        if page.truth["kind"] == "article":
            title = extract_page(page.html.read_bytes(), page.truth["url"]).title
            titles.setdefault((page.lang, page.site), []).append(title or "")
    pages: dict[str, list[str]] = {lang: [] for lang in TAG_LINES}
    for (lang, _), site_titles in sorted(titles.items()):
        for chosen in itertools.combinations(site_titles, n_titles):
            pages[lang].append("\n".join([TAG_LINES[lang], *chosen]))
    return pages


def tag_table(old: types.ModuleType, rev: str) -> list[str]:
    by_count = {n: tag_pages(n) for n in (1, 2, 3)}
    heads = [f"{lang} {n} title{'s' if n > 1 else ''}, {label}"
             for lang in TAG_LINES for n in by_count for label in ("none", "wrong lang")]
    lines = ["| detector | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for name, detect in ((f"stopwords ({rev})", old.detect_language),
                         ("detect_language (this checkout)", text.detect_language)):
        cells = []
        for lang in TAG_LINES:
            for pages in by_count.values():
                for declared in (None, WRONG_DECLARATION[lang]):
                    right = sum(detect(page, declared) == lang for page in pages[lang])
                    cells.append(f"{right}/{len(pages[lang])}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="9c0235d", help="git revision of the old code")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    args = parser.parse_args()

    pages = samples()
    old = baseline_module(args.baseline)
    text.language_scores("")  # load the model before any timing
    detectors = {
        f"stopwords ({args.baseline}), text alone": lambda t, d: old.detect_language(t),
        f"stopwords ({args.baseline}), with <html lang>": old.detect_language,
        "py3langid, text alone": py3langid_only,
        "detect_language (this checkout), text alone": lambda t, d: text.detect_language(t),
        "detect_language (this checkout), with <html lang>": text.detect_language,
    }
    sources = {"corpus": [s for s in pages if s.source == "corpus"],
               "labelled": [s for s in pages if s.source == "labelled"]}
    heads = [f"{source} {n or 'all'}" + (" words" if n else "") for source in sources
             for n in LENGTHS]
    lines = ["| detector | " + " | ".join(heads) + " | ms/page |",
             "|---|" + "---|" * (len(heads) + 1)]
    for name, detect in detectors.items():
        cells, started, calls = [], time.process_time(), 0
        for group in sources.values():
            for n_words in LENGTHS:
                right = sum(detect(cut(s.text, n_words), s.declared) == s.lang for s in group)
                calls += len(group)
                cells.append(f"{right}/{len(group)}")
        per_page = (time.process_time() - started) / calls * 1000
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {per_page:.2f} |")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"- {stamp} compare_language ({len(sources['corpus'])} corpus pages, "
            f"{len(sources['labelled'])} labelled-site pages; title + main text, whole and "
            f"cut to 5/10/20 words; correct answers, CPU time over all lengths, load "
            f"{os.getloadavg()[0]:.1f}): "
            + margins(sources["corpus"]))
    table = "\n".join("  " + line for line in lines)
    tags = "\n".join("  " + line for line in tag_table(old, args.baseline))
    tag_head = ("  Tag pages built from real corpus titles (correct answers; declared: none, "
                "or the other language):")
    print(head, table, tag_head, tags, sep="\n")
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(f"{head}\n\n{table}\n\n{tag_head}\n\n{tags}\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
