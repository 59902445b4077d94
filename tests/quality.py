"""Scoring linkaudit's link verdicts against a labelled site (labels.json).

    .venv/bin/python -m tests.quality tests/sites/labelled/labels.json DIR/links.csv
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd

TRACKING_PREFIXES = ("utm_",)


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0


def path_key(url: str) -> str:
    """Path and query of a URL, without tracking parameters (the crawler strips them)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith(TRACKING_PREFIXES)]
    return parts.path + (f"?{urlencode(query)}" if query else "")


def joined(labels: dict, links: pd.DataFrame) -> pd.DataFrame:
    """One row per labelled link with the tool's verdicts (labels without a match dropped)."""
    tool = links.assign(source_key=links["source"].map(path_key),
                        target_key=links["target"].fillna("").map(path_key))
    # Labels are about content links: when a page repeats a link (a menu copy in a
    # mobile popup, say), the content occurrence is the one judged.
    if "position" in tool:
        tool = tool.sort_values("position", key=lambda p: p.ne("content"), kind="stable")
    tool = tool.drop_duplicates(["source_key", "target_key", "anchor"])
    wanted = pd.DataFrame(labels["links"]).assign(
        source_key=lambda f: f["source"].map(path_key),
        target_key=lambda f: f["target"].map(path_key))
    return wanted.merge(tool, on=["source_key", "target_key", "anchor"],
                        suffixes=("_label", ""), how="inner")


def score(rows: pd.DataFrame, label: str, verdict: str) -> Score:
    rows = rows[rows[label].notna()]
    truth = rows[label].astype(bool)
    flagged = rows[verdict].astype(str).str.lower().eq("true")
    return Score(int((truth & flagged).sum()), int((~truth & flagged).sum()),
                 int((truth & ~flagged).sum()))


def scores(labels_path: Path, links_csv: Path) -> dict[str, Score]:
    labels = json.loads(labels_path.read_text("utf-8"))
    links = pd.read_csv(links_csv, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    rows = joined(labels, links)
    return {"off_topic": score(rows, "off_topic_label", "off_topic"),
            "promotional": score(rows, "promotional_label", "promotional")}


if __name__ == "__main__":
    for name, result in scores(Path(sys.argv[1]), Path(sys.argv[2])).items():
        print(f"{name}: precision {result.precision:.3f} recall {result.recall:.3f} "
              f"(tp {result.true_positives}, fp {result.false_positives}, "
              f"fn {result.false_negatives})")
