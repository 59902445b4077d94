"""linkaudit's verdicts scored against the labelled links of real sites.

    .venv/bin/python -m tests.realsites.score

For each site of tests/realsites: unpack its crawl store, run `linkaudit analyze` on it,
join links.csv with labels.json, and print promotional precision/recall and how many
on-topic links were flagged off-topic, tuned and held-out parts apart.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from tests.quality import joined, score

ROOT = Path(__file__).parent
REPO = ROOT.parent.parent


def site_links(site: Path, work: Path) -> pd.DataFrame:
    with gzip.open(site / "crawls.sqlite.gz") as packed, (work / "s.sqlite").open("wb") as out:
        shutil.copyfileobj(packed, out)
    subprocess.run([sys.executable, "-m", "linkaudit", "analyze", "--store", "s.sqlite",
                    "--out", "out"], cwd=work, env={**os.environ, "PYTHONPATH": str(REPO)},
                   check=True, capture_output=True)
    return pd.read_csv(work / "out" / "links.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def main() -> int:
    for site in sorted(path.parent for path in ROOT.glob("*/labels.json")):
        with tempfile.TemporaryDirectory() as work:
            rows = joined(json.loads((site / "labels.json").read_text("utf-8")),
                          site_links(site, Path(work)))
        for split in ("tune", "holdout"):
            part = rows[rows["split"] == split]
            promo = score(part, "promotional_label", "promotional")
            judged = part[part["off_topic_label"].notna()]
            truth = judged["off_topic_label"].astype(bool)
            flagged = judged["off_topic"].str.lower().eq("true")
            print(f"{site.name:12} {split:8} {len(part):4d} links: promotional P "
                  f"{promo.precision:.2f} R {promo.recall:.2f}; off-topic flagged "
                  f"{int((flagged & ~truth).sum())} of {int((~truth).sum())} on-topic, "
                  f"{int((flagged & truth).sum())} of {int(truth.sum())} off-topic")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
