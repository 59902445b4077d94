"""Growth benchmark: the analysis and reports of generated sites of growing size, each in
its own process (bench_analysis.py --json), with the time and peak RSS of every stage and
the ratios to the smallest size.

    .venv/bin/python benchmarks/bench_growth.py [--sizes 2000,20000,100000]
        [--links-per-page 27]

The goals it measures against (issue "Audit at scale"): 10x the pages within 12x the
time, 20,000 pages within 1 GB, and the analysis of 100,000 pages / 3,000,000 links
within 60 s and 4 GB. Appends the table to results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import record

HERE = Path(__file__).resolve().parent


def run_size(pages: int, links_per_page: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        subprocess.run([sys.executable, str(HERE / "bench_analysis.py"), str(pages),
                        "--links-per-page", str(links_per_page), "--json", str(out)],
                       check=True)
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--links-per-page", type=int, default=27)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = []
    for pages in sizes:
        figures = run_size(pages, args.links_per_page)
        runs.append(figures)
        print(f"{pages:,} pages: load {figures['load']:.1f} s, analysis "
              f"{figures['analysis']:.1f} s, reports {figures['reports']:.1f} s, peak "
              f"{figures['peak']:.0f} MiB", flush=True)
    first = runs[0]
    total = {id(r): r["load"] + r["analysis"] + r["reports"] for r in runs}
    header = "| stage | " + " | ".join(f"{r['pages']:,} pages" for r in runs) + " |"
    rule = "|---|" + "---|" * len(runs)
    stage_names = list(dict.fromkeys(name for r in runs for name in r["stages"]))
    rows = []
    for name in stage_names:
        cells = []
        for r in runs:
            seconds, rss = r["stages"].get(name, (0.0, 0.0))
            cells.append(f"{seconds:.1f} s ({rss:.0f} MiB)")
        if max(r["stages"].get(name, (0.0, 0.0))[0] for r in runs) >= 0.3:
            rows.append(f"| {name} | " + " | ".join(cells) + " |")
    rows.append("| **load + analysis + reports** | " + " | ".join(
        f"**{total[id(r)]:.1f} s** ({total[id(r)] / total[id(first)]:.1f}x)" for r in runs)
        + " |")
    rows.append("| **peak RSS** | " + " | ".join(f"**{r['peak']:.0f} MiB**" for r in runs)
                + " |")
    rows.append("| links | " + " | ".join(f"{r['links']:,}" for r in runs) + " |")
    line = (f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC bench_growth (generated sites, "
            f"{args.links_per_page} links a page, 20 topics, one process per size, load "
            f"{os.getloadavg()[0]:.1f}; stage seconds and peak RSS at the stage's end):\n\n  "
            + "\n  ".join([header, rule, *rows]) + "\n")
    record(line)


if __name__ == "__main__":
    main()
