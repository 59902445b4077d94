"""What every benchmark shares: serving a site on 127.0.0.1 and writing a result line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results.md")


@contextmanager
def served(root: Path) -> Iterator[str]:
    """Serve ``root`` with linkaudit's site server; yields its base URL."""
    server = subprocess.Popen([sys.executable, "-m", "linkaudit.siteserver", str(root)],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.wait()


def record(line: str) -> None:
    """Print a result line and append it to results.md."""
    print(line)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
