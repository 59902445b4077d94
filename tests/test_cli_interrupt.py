"""Ctrl-C during a crawl exits 130 and says how to resume; --resume honours the limits."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, Served

pytestmark = pytest.mark.e2e
PAGES = 80


def write_tree_site(root: Path) -> Path:
    """Page i links to pages 2i+1 and 2i+2 (a wide frontier); each answers after 0.2 s."""
    root.mkdir()
    for i in range(PAGES):
        links = " ".join(f'<a href="p{j}.html">page {j}</a>' for j in (2 * i + 1, 2 * i + 2)
                         if j < PAGES)
        (root / f"p{i}.html").write_text(
            f"<html><head><title>Page {i}</title></head><body><main><h1>Page {i}</h1>"
            f"<p>Text of page {i}. {links}</p></main></body></html>")
    (root / "_routes.txt").write_text("".join(f"delay 0.2 /p{i}.html\n" for i in range(PAGES)))
    return root


def start(command: str, served: Served, work: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "linkaudit", command, served.url("p0.html"), "--store",
         "s.sqlite", "--concurrency", "2", "--delay", "0", "--quiet", *extra],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def pages(work: Path) -> int:
    try:
        with sqlite3.connect(work / "s.sqlite") as conn:
            return conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    except sqlite3.Error:
        return 0


def interrupt_after(process: subprocess.Popen, work: Path, count: int) -> tuple[int, str, str]:
    deadline = time.monotonic() + 60
    while pages(work) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the crawl did not progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    return finish(process)


def crawl_row(work: Path) -> tuple[str, str, dict]:
    with sqlite3.connect(work / "s.sqlite") as conn:
        state, reason, settings = conn.execute(
            "SELECT state, finish_reason, settings_json FROM crawls").fetchone()
    return state, reason, json.loads(settings)


@pytest.fixture
def tree(tmp_path, site_server):
    served = site_server(write_tree_site(tmp_path / "site"))
    work = tmp_path / "work"
    work.mkdir()
    return served, work


@pytest.mark.parametrize("command", ["crawl", "run"])
def test_ctrl_c_exits_130_with_one_line_saying_how_to_resume(tree, command):
    served, work = tree
    code, out, err = interrupt_after(start(command, served, work), work, 4)
    assert code == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("linkaudit: error: interrupted: crawl 1 stopped after ")
    assert lines[0].endswith(f"`linkaudit {command} {served.url('p0.html')} --store s.sqlite "
                             "--resume` continues it")
    assert "Traceback" not in err
    assert "crawl 1 (interrupted)" in out
    assert crawl_row(work)[:2] == ("interrupted", "shutdown")
    assert not (work / "1").exists()  # `run` wrote no report


def test_a_resume_below_what_the_crawl_holds_fetches_nothing_more(tree):
    served, work = tree
    code, _, _ = interrupt_after(start("crawl", served, work), work, 12)
    assert code == 130
    kept = pages(work)
    # Scrapy's JOBDIR queue holds requests the first run let in; they would be fetched
    # past the new limit if the resumed crawl did not start from an empty queue.
    code, out, err = finish(start("crawl", served, work, "--resume", "--max-pages", "5"))
    assert code == 0, err
    assert pages(work) == kept
    assert f"crawl 1 (complete): {kept} pages" in out
    state, _, settings = crawl_row(work)
    assert state == "complete"
    assert settings["crawl"]["max_pages"] == 5  # the limit it was completed under


def test_a_resume_stops_at_the_limit_the_crawl_started_with(tree):
    served, work = tree
    code, _, _ = interrupt_after(start("crawl", served, work, "--max-pages", "20"), work, 4)
    assert code == 130
    assert pages(work) < 20
    code, out, err = finish(start("crawl", served, work, "--resume"))  # no --max-pages now
    assert code == 0, err
    assert pages(work) == 20
    state, _, settings = crawl_row(work)
    assert state == "complete" and settings["crawl"]["max_pages"] == 20
    # A later flag replaces the recorded limit; the crawl then goes on to that one.
    with sqlite3.connect(work / "s.sqlite") as conn:
        conn.execute("UPDATE crawls SET state = 'interrupted'")
    code, _, err = finish(start("crawl", served, work, "--resume", "--max-pages", "26"))
    assert code == 0, err
    assert pages(work) == 26
