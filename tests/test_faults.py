"""A process killed during the analysis loses nothing: the store stays intact and the
next normal command completes (killed crawls: tests/test_resume.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import DEMO_SITE, REPO, run_cli, serve

pytestmark = pytest.mark.e2e
START = "articles/baclofene-systeme-nerveux-central.html"


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_a_kill_during_the_analysis_leaves_the_store_whole(tmp_path, delay):
    served = serve(DEMO_SITE)
    try:
        crawled = run_cli("crawl", served.url(START), "--store", "site/crawls.sqlite",
                          "--delay", "0", "--quiet", cwd=tmp_path)
    finally:
        served.process.terminate()
    assert crawled.returncode == 0, crawled.stderr
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    analysis = subprocess.Popen(
        [sys.executable, "-m", "linkaudit", "analyze", "--store", "site/crawls.sqlite"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    analysis.send_signal(signal.SIGKILL)
    analysis.wait(timeout=30)
    with sqlite3.connect(tmp_path / "site" / "crawls.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pages = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    again = run_cli("analyze", "--store", "site/crawls.sqlite", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    latest = tmp_path / "site" / "latest"
    assert latest.is_symlink() and (latest / "index.html").exists()
    with sqlite3.connect(tmp_path / "site" / "crawls.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == pages
    # The killed run's half-written staging folder is gone; reports are whole folders.
    leftovers = [p.name for p in (tmp_path / "site").iterdir() if p.name.endswith(".partial")]
    assert leftovers == []
