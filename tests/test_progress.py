"""The progress display as a user sees it: on a terminal (a pseudo-terminal of a set width)
a live crawl bar with an estimate and a live line per audit phase, never wider than the
terminal; in a log (no terminal) plain lines, one a phase; nothing with --quiet."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

from tests.conftest import DEMO_SITE, REPO, run_cli, serve

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WIDTH = 60


def run_on_terminal(args: list[str], cwd, columns: int = WIDTH) -> str:
    """Run ``linkaudit ARGS`` with stdout and stderr on a pseudo-terminal ``columns`` wide;
    everything it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": str(columns), "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "linkaudit", *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                            start_new_session=True)
    os.close(follower)
    chunks, deadline = [], time.monotonic() + 240
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the other side closed: the program ended
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    assert proc.returncode == 0, b"".join(chunks).decode("utf-8", "replace")[-2000:]
    return b"".join(chunks).decode("utf-8", "replace")


def drawn(output: str) -> list[str]:
    """Each state of the screen's lines: split where the cursor went back or down."""
    return [part for part in re.split(r"[\r\n]", ANSI.sub("", output)) if part.strip()]


def test_terminal_shows_a_crawl_bar_with_an_estimate_and_the_audit_phases(tmp_path):
    served = serve(DEMO_SITE)
    try:
        output = run_on_terminal(["run", served.url("index.html"), "--store", "s.sqlite",
                                  "--delay", "0"], tmp_path)
    finally:
        served.process.terminate()
        served.process.wait(timeout=10)
    lines = drawn(output)
    bars = [line for line in lines if line.startswith("crawling ")]
    assert bars and all(re.match(r"crawling \d+/\d+ pages, (\?|[\d:]+) left", bar)
                        for bar in bars)
    assert any(re.search(r"pages, [\d:]+ left, \d+ errors, [\d.]+ pages/s", bar)
               for bar in bars)  # an estimate, once the rate is known
    phases = {line.split(" 00:")[0].strip() for line in lines if line.startswith("audit:")}
    assert {"audit: topic model", "audit: link relevance", "audit: writing links.csv",
            "audit: writing index.html"} <= phases
    progress = bars + [line for line in lines if line.startswith("audit:")]
    assert max(len(line.rstrip()) for line in progress) <= WIDTH  # never wraps
    assert "Reports in " in output  # the summary follows the cleared line


def test_a_log_gets_plain_lines_one_per_audit_phase(tmp_path, site_server):
    served = site_server(DEMO_SITE)
    result = run_cli("run", served.url("index.html"), "--store", "s.sqlite", "--delay", "0",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    phases = [line.rsplit(", ", 1)[0] for line in result.stderr.splitlines()
              if line.startswith("audit: ")]
    assert phases[0] == "audit: reading the crawl from the store"
    assert "audit: link relevance" in phases and "audit: writing tables" in phases
    assert len(phases) == len(set(phases)) or all(
        a != b for a, b in zip(phases, phases[1:], strict=False))  # no phase twice in a row
    assert all(re.fullmatch(r"audit: .+, \d+s", line) for line in result.stderr.splitlines()
               if line.startswith("audit: "))


def test_quiet_shows_no_progress(tmp_path, site_server):
    served = site_server(DEMO_SITE)
    result = run_cli("run", served.url("index.html"), "--store", "s.sqlite", "--delay", "0",
                     "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines()
                if line.startswith(("audit: ", "crawled "))]
