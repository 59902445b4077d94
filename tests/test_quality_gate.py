"""Quality gate: off-topic and promotional verdicts scored on a labelled site the
detectors were not built on (tests/sites/labelled). Minimums in quality_gate.json only
ever go up."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pandas as pd
import pytest

from tests.conftest import LABELLED_SITE, REPO, run_cli, serve
from tests.quality import joined, scores

pytestmark = pytest.mark.e2e
GATE = json.loads((REPO / "tests" / "quality_gate.json").read_text("utf-8"))
LABELS = LABELLED_SITE / "labels.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    work = tmp_path_factory.mktemp("labelled")
    served = serve(LABELLED_SITE)
    try:
        result = run_cli("run", served.url("index.html"), "--store", "s.sqlite", "--out", "out",
                         "--delay", "0", "--concurrency", "8", "--quiet", cwd=work)
    finally:
        served.process.terminate()
    assert result.returncode == 0, result.stderr
    return work / "out"


@pytest.mark.parametrize("verdict,metric", [
    ("off_topic", "precision"), ("off_topic", "recall"),
    ("promotional", "precision"), ("promotional", "recall")])
def test_verdict_scores_stay_above_the_gate(report, verdict, metric):
    result = scores(LABELS, report / "links.csv")[verdict]
    measured = getattr(result, metric)
    print(f"{verdict} {metric}: {measured:.3f} (gate {GATE[verdict][metric]})")
    assert measured >= GATE[verdict][metric]


def test_every_labelled_link_was_found(report):
    links = pd.read_csv(report / "links.csv", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    labels = json.loads(LABELS.read_text("utf-8"))
    assert len(joined(labels, links)) == len(labels["links"])


def test_page_languages_are_detected(report):
    pages = pd.read_csv(report / "pages.csv", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    detected = dict(zip(pages["url"].map(lambda u: urlsplit(u).path), pages["detected_lang"],
                        strict=True))
    truth = json.loads(LABELS.read_text("utf-8"))["languages"]
    accuracy = sum(detected.get(path) == lang for path, lang in truth.items()) / len(truth)
    assert accuracy >= GATE["language"]["accuracy"]
