"""The hostile site (tests/hostile_site.py) crawled and audited: wall time and peak RSS.

    .venv/bin/python benchmarks/bench_hostile.py

The benchmark twin of tests/test_hostile.py: same site, same settings; appends one line
to results.md.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO, record

sys.path.insert(0, str(REPO))
from tests.hostile_site import CASES  # noqa: E402
from tests.test_hostile import CONFIG  # noqa: E402


def main() -> int:
    server = subprocess.Popen([sys.executable, "-m", "tests.hostile_site"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as work:
            (Path(work) / "site.toml").write_text(CONFIG, "utf-8")
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "linkaudit", "run", base, "--config",
                            "site.toml", "--store", "s.sqlite", "--out", "out", "--quiet"],
                           cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    record(f"- {stamp} bench_hostile (tests/hostile_site.py, {len(CASES)} cases): "
           f"run {elapsed:.1f} s wall, peak RSS {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
