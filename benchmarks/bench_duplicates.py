"""Near-duplicate detection on synthetic sites: time and recall, this checkout against the old code.

    .venv/bin/python benchmarks/bench_duplicates.py [--pages 2000 8000] [--template 0 300]
                                                    [--baseline REV] [--no-record]

Each site has N pages in French and English, 300 to 900 words drawn from the word
frequencies of the real-page corpus (tests/corpus), so that pages share the common words
and word pairs of their language as real pages do, in sentences and paragraphs. One page
in twenty is a lightly rewritten copy of another: every other paragraph reworded the way
tests/test_duplicates.py does it (two sentences swapped, synonyms, words dropped and
added). For this checkout's ``near_duplicates`` and the one at ``--baseline`` (read from
git; default 9c0235d, the 5-word-shingle Jaccard detector), with their default
thresholds: wall and CPU time, recall of the planted copies whose word-order share is at
least 0.85, and pages reported outside the planted pairs. ``--template`` runs each site
again with that many words of one shared paragraph (a template's text left in the main
content) at the top of every page. Appends a line to results.md.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
import types
from collections import Counter
from datetime import UTC, datetime

import pandas as pd
from common import REPO, record

sys.path.insert(0, str(REPO))

from linkaudit.analysis import duplicates  # noqa: E402
from tests.corpus.score import corpus_pages  # noqa: E402
from tests.test_duplicates import rewritten  # noqa: E402

COPY_EVERY = 20


def word_frequencies() -> dict[str, Counter]:
    """Language -> how often each word appears in the main text of the corpus pages."""
    counts: dict[str, Counter] = {"fr": Counter(), "en": Counter()}
    for page in corpus_pages():
        extract = page.extract()
        for section in extract.sections:
            counts[page.lang].update(w.strip(".,;:!?()«»\"'") for w in section.text.split())
    for counter in counts.values():
        counter.pop("", None)
    return counts


def synthetic_page(rng: random.Random, words: list[str], weights: list[int]) -> str:
    n_words = rng.randint(300, 900)
    drawn = rng.choices(words, weights=weights, k=n_words)
    paragraphs, sentence, paragraph = [], [], []
    for word in drawn:
        sentence.append(word)
        if len(sentence) >= rng.randint(8, 25):
            paragraph.append(" ".join(sentence).capitalize() + ".")
            sentence = []
            if len(paragraph) >= rng.randint(4, 8):
                paragraphs.append(" ".join(paragraph))
                paragraph = []
    paragraph.append(" ".join(sentence).capitalize() + ".")
    paragraphs.append(" ".join(paragraph))
    return "\n\n".join(paragraphs)


def synthetic_site(
    n_pages: int, template_words: int = 0, seed: int = 7
) -> tuple[pd.DataFrame, set[frozenset[str]]]:
    """N pages, one in COPY_EVERY a rewritten copy; the planted pairs at share >= 0.85."""
    rng = random.Random(seed)
    frequencies = word_frequencies()
    vocabularies = {lang: (list(c), list(c.values())) for lang, c in frequencies.items()}
    template = " ".join(synthetic_page(rng, *vocabularies["fr"]).split()[:template_words])
    urls, texts, langs, planted = [], [], [], set()
    for i in range(n_pages):
        url = f"https://site.test/page-{i}"
        if i % COPY_EVERY == COPY_EVERY - 1:
            source = i - rng.randint(1, COPY_EVERY - 1)
            text = rewritten(texts[source], langs[source], seed=i)
            share = duplicates.word_order_share(duplicates.text_words(texts[source]),
                                                duplicates.text_words(text))
            if share >= 0.85:
                planted.add(frozenset((urls[source], url)))
            langs.append(langs[source])
        else:
            langs.append("fr" if i % 2 else "en")
            text = synthetic_page(rng, *vocabularies[langs[-1]])
            text = f"{template}\n\n{text}" if template else text
        urls.append(url)
        texts.append(text)
    return pd.DataFrame({"url": urls, "text": texts}), planted


def baseline_module(rev: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{rev}:analysis/duplicates.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("baseline_duplicates")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:analysis/duplicates.py", "exec"), module.__dict__)
    return module


def measure(find, docs: pd.DataFrame, planted: set[frozenset[str]]) -> str:
    wall, cpu = time.perf_counter(), time.process_time()
    found = find(docs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pairs = {frozenset((row.url, row.duplicate_of)) for row in found.itertuples()}
    in_planted = {url for pair in planted for url in pair}
    outside = sum(url not in in_planted for url in found["url"])
    recall = len(pairs & planted) / len(planted) if planted else 1.0
    return (f"{wall:.1f} s (cpu {cpu:.1f} s), recall {recall:.3f}, {outside} pages outside "
            f"the planted pairs reported")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--template", type=int, nargs="+", default=[0, 300],
                        help="words of shared text at the top of every page")
    parser.add_argument("--baseline", default="9c0235d", help="git revision of the old code")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    old = baseline_module(args.baseline)
    parts = []
    for template_words in args.template:
        for n_pages in args.pages:
            docs, planted = synthetic_site(n_pages, template_words)
            parts.append(
                f"{n_pages:,} pages, {template_words} template words ({len(planted)} planted "
                f"copies at share >= 0.85 of {n_pages // COPY_EVERY}): this checkout "
                f"{measure(duplicates.near_duplicates, docs, planted)}; "
                f"{args.baseline} {measure(old.near_duplicates, docs, planted)}")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    line = (f"- {stamp} bench_duplicates (300-900 words from the corpus's word frequencies, "
            f"1 page in {COPY_EVERY} a rewritten copy, threshold 0.85, load "
            f"{os.getloadavg()[0]:.1f}): " + "; ".join(parts))
    if args.no_record:
        print(line)
    else:
        record(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
