"""Quality gate on the labelled links of real sites (tests/realsites): per-site
promotional precision and recall, and the share of on-topic links left unflagged, never
below the minimums of tests/realsites/gate.json. Each site's stored crawl is analysed
with `linkaudit analyze`, as a user runs it."""

from __future__ import annotations

import json

import pytest

from tests.realsites.score import ROOT, SITES, figures, labelled_rows

pytestmark = pytest.mark.e2e
GATE = json.loads((ROOT / "gate.json").read_text("utf-8"))


def test_every_labelled_site_has_minimums() -> None:
    assert sorted(site.name for site in SITES) == sorted(k for k in GATE if not k.startswith("_"))


@pytest.mark.parametrize("site", SITES, ids=[site.name for site in SITES])
def test_verdicts_stay_above_the_gate(site) -> None:
    result = figures(labelled_rows(site))
    measured = {
        "promotional_precision": result.promotional.precision,
        "promotional_recall": result.promotional.recall,
        "specificity": result.specificity,
        "off_topic_recall": result.off_topic.recall,
    }
    minimums = GATE[site.name]
    below = {name: round(measured[name], 3) for name, floor in minimums.items()
             if measured[name] < floor}
    print(site.name, {name: round(measured[name], 3) for name in minimums})
    assert not below, f"{site.name} below the gate {minimums}: {below}"
