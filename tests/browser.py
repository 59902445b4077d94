"""Run Debian's headless Chromium on a local file: dump the DOM after scripts ran, or screenshot.

Chromium is started with everything that talks to the network switched off, a
throw-away profile, and console logging on stderr so script errors
("Uncaught ...") can be asserted on.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


@dataclass(frozen=True)
class BrowserRun:
    """What Chromium printed: the DOM (for --dump-dom) and its log."""

    returncode: int
    dom: str
    log: str

    @property
    def console_errors(self) -> list[str]:
        """Log lines reporting an uncaught script error."""
        return [line for line in self.log.splitlines() if "Uncaught" in line]


def chromium_available() -> bool:
    return CHROMIUM.exists()


def _run(page: Path, extra_flags: list[str], timeout: float) -> BrowserRun:
    with tempfile.TemporaryDirectory(prefix="linkaudit-chromium-") as profile:
        command = [
            str(CHROMIUM),
            *QUIET_FLAGS,
            f"--user-data-dir={profile}",
            *extra_flags,
            Path(page).resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    return BrowserRun(done.returncode, done.stdout, done.stderr)


def dump_dom(page: Path, timeout: float = 90) -> BrowserRun:
    """Open ``page`` from disk and return the DOM as it stands after its scripts ran."""
    return _run(page, ["--dump-dom"], timeout)


def screenshot(
    page: Path, png: Path, width: int = 1280, height: int = 2000, timeout: float = 90
) -> BrowserRun:
    """Open ``page`` from disk and save a ``width`` x ``height`` screenshot to ``png``."""
    return _run(
        page, [f"--screenshot={Path(png).resolve()}", f"--window-size={width},{height}"], timeout
    )
