"""A crawl killed halfway keeps what it fetched, and --resume finishes it without refetching."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO, serve

pytestmark = pytest.mark.e2e
PAGES = 24


def write_chain_site(root: Path) -> Path:
    """Page i links to pages i+1 and i+2; each answers after a short delay."""
    root.mkdir()
    routes = []
    for i in range(PAGES):
        links = " ".join(f'<a href="p{j}.html">page {j}</a>' for j in (i + 1, i + 2) if j < PAGES)
        (root / f"p{i}.html").write_text(
            f"<html><head><title>Page {i}</title></head><body><main><h1>Page {i}</h1>"
            f"<p>Texte de la page {i}. {links}</p></main></body></html>")
        routes.append(f"delay 0.25 /p{i}.html")
    (root / "_routes.txt").write_text("\n".join(routes) + "\n")
    return root


def crawl_process(base: str, work: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "linkaudit", "crawl", base + "p0.html", "--store", "s.sqlite",
         "--concurrency", "1", "--delay", "0", "--quiet", *extra],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored_pages(work: Path) -> int:
    try:
        conn = sqlite3.connect(work / "s.sqlite")
        return conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    except sqlite3.Error:
        return 0


def wait_for_pages(work: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while stored_pages(work) < count:
        assert time.monotonic() < deadline, "the crawl did not progress"
        time.sleep(0.1)


def requests_per_page(log: Path) -> Counter:
    return Counter(re.findall(r'"GET /(p\d+\.html)', log.read_text()))


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_resume_after_a_crawl_stopped_halfway(tmp_path, how):
    log = tmp_path / "requests.log"
    served = serve(write_chain_site(tmp_path / "site"), log=log)
    work = tmp_path / "work"
    work.mkdir()
    try:
        first = crawl_process(served.base_url, work)
        wait_for_pages(work, 6)
        first.send_signal(signal.SIGKILL if how == "kill" else signal.SIGINT)
        first.wait(timeout=60)
        kept = stored_pages(work)
        assert 6 <= kept < PAGES
        conn = sqlite3.connect(work / "s.sqlite")
        state = conn.execute("SELECT state FROM crawls").fetchone()[0]
        assert state == ("running" if how == "kill" else "interrupted")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()

        second = crawl_process(served.base_url, work, "--resume")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
    finally:
        served.process.terminate()
        served.process.wait()
    conn = sqlite3.connect(work / "s.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM crawls").fetchone()[0] == 1
    assert conn.execute("SELECT state FROM crawls").fetchone()[0] == "complete"
    urls = [r[0] for r in conn.execute("SELECT url FROM pages")]
    missing = {f"p{i}.html" for i in range(PAGES)} - {u.rsplit("/", 1)[1] for u in urls}
    assert not missing, (missing, requests_per_page(log))
    assert len(urls) == PAGES == len(set(urls))
    counts = requests_per_page(log)
    print(f"{how}: {kept} pages kept at the kill, {len(urls)} of {PAGES} after the resume, "
          f"{sum(counts.values())} page requests in all")
    assert len(counts) == PAGES
    # A page whose response was in flight at the kill may be asked again; a stored one never.
    assert sum(counts.values()) <= PAGES + 1
