"""Shared fixtures: local site servers and running the command line as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_SITE = REPO / "demo" / "site"
LABELLED_SITE = REPO / "tests" / "sites" / "labelled"


@dataclass
class Served:
    """A site served by ``linkaudit.siteserver`` in a subprocess."""

    root: Path
    base_url: str
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


def serve(root: Path, log: Path | None = None) -> Served:
    """Serve ``root``; with ``log``, every request is logged to that file."""
    args = [sys.executable, "-m", "linkaudit.siteserver", str(root)]
    stderr = subprocess.PIPE
    if log is not None:
        args.append("--verbose")
        stderr = log.open("w")
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)
    line = process.stdout.readline().strip()
    if not line.startswith("http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"site server did not start: {line!r}")
    return Served(root=root, base_url=line, process=process)


@pytest.fixture
def site_server() -> Iterator[callable]:
    """Start servers for site folders; all are stopped at the end of the test."""
    started: list[Served] = []

    def start(root: Path) -> Served:
        served = serve(root)
        started.append(served)
        return served

    yield start
    for served in started:
        served.process.terminate()
        served.process.wait(timeout=10)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, timeout: float = 240) -> CliResult:
    """Run ``linkaudit ARGS`` in a subprocess, as a user would (one crawl per process)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "linkaudit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli
