"""linkaudit's verdicts scored against the labelled links of real sites.

    .venv/bin/python -m tests.realsites.score

For each site of tests/realsites: unpack its crawl store, run `linkaudit analyze` on it,
join links.csv with labels.json, and print, tuned and held-out parts apart, promotional
precision / recall / F1 and, for off-topic verdicts, recall (where the site has off-topic
links) and specificity (the share of on-topic links left unflagged). The last lines pool
every site. tests/test_realsites_gate.py holds the minimums (tests/realsites/gate.json).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.quality import Score, joined, score

ROOT = Path(__file__).parent
REPO = ROOT.parent.parent
SITES = sorted(path.parent for path in ROOT.glob("*/labels.json"))


def site_links(site: Path, work: Path) -> pd.DataFrame:
    """links.csv of `linkaudit analyze` run on the site's stored crawl, as a user runs it."""
    with gzip.open(site / "crawls.sqlite.gz") as packed, (work / "s.sqlite").open("wb") as out:
        shutil.copyfileobj(packed, out)
    # The verdicts are in links.csv: the workbook and the charts are not needed here.
    (work / "gate.toml").write_text("[report]\nxlsx = false\ncharts = false\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "linkaudit", "analyze", "--store", "s.sqlite",
                    "--config", "gate.toml", "--out", "out"], cwd=work,
                   env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, capture_output=True)
    return pd.read_csv(work / "out" / "links.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def labelled_rows(site: Path) -> pd.DataFrame:
    """One row per label of the site with linkaudit's verdicts."""
    with tempfile.TemporaryDirectory() as work:
        return joined(json.loads((site / "labels.json").read_text("utf-8")),
                      site_links(site, Path(work)))


@dataclass(frozen=True)
class Figures:
    links: int
    promotional: Score
    off_topic: Score
    on_topic: int  # judged links labelled on-topic

    @property
    def specificity(self) -> float:
        """Share of on-topic links not flagged off-topic."""
        return 1 - self.off_topic.false_positives / self.on_topic if self.on_topic else 1.0


def f1(result: Score) -> float:
    total = result.precision + result.recall
    return 2 * result.precision * result.recall / total if total else 0.0


def figures(rows: pd.DataFrame) -> Figures:
    judged = rows[rows["off_topic_label"].notna()]
    return Figures(len(rows), score(rows, "promotional_label", "promotional"),
                   score(rows, "off_topic_label", "off_topic"),
                   int((~judged["off_topic_label"].astype(bool)).sum()))


def line(name: str, part: str, result: Figures) -> str:
    promo, off = result.promotional, result.off_topic
    positives = off.true_positives + off.false_negatives
    off_recall = f"R {off.recall:.2f} ({off.true_positives}/{positives})" if positives else "-"
    return (f"{name:12} {part:8} {result.links:4d} links | promotional P {promo.precision:.2f} "
            f"R {promo.recall:.2f} F1 {f1(promo):.2f} "
            f"(tp {promo.true_positives} fp {promo.false_positives} fn {promo.false_negatives})"
            f" | off-topic {off_recall}, on-topic left unflagged {result.specificity:.2f} "
            f"({result.on_topic - off.false_positives}/{result.on_topic})")


def main() -> int:
    pooled = []
    for site in SITES:
        rows = labelled_rows(site)
        pooled.append(rows)
        for part in ("tune", "holdout"):
            print(line(site.name, part, figures(rows[rows["split"] == part])))
    everything = pd.concat(pooled, ignore_index=True)
    for part in ("tune", "holdout"):
        print(line("all sites", part, figures(everything[everything["split"] == part])))
    print(line("all sites", "both", figures(everything)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
