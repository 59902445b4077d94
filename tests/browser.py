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


def playwright_available() -> bool:
    """True when the ``playwright`` package is installed (it drives the system Chromium;
    no browser of its own is downloaded)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


class InteractiveBrowser:
    """The system Chromium driven by Playwright, to click and type in a report page.

    ``errors`` collects console errors, uncaught exceptions and dialogs (``alert``) of every
    page opened; the
    network is cut off (every request that is not the file itself fails), as the report
    must need none.
    """

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._manager = sync_playwright()
        self._playwright = self._manager.start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        self.errors: list[str] = []
        self.requests: list[str] = []

    def open(self, page_file: Path, width: int = 1280, height: int = 900):
        """A new tab showing ``page_file``, once its script has set ``data-ready``."""
        page = self._browser.new_page(viewport={"width": width, "height": height})
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)  # an alert() would be crawled markup run as script
        uri = Path(page_file).resolve().as_uri()

        def only_the_file(route) -> None:
            self.requests.append(route.request.url)
            if route.request.url == uri:
                route.continue_()
            else:
                route.abort()

        page.route("**/*", only_the_file)
        page.goto(uri)
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        return page

    def _dialog(self, dialog) -> None:
        self.errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        self._browser.close()
        self._manager.__exit__(None, None, None)
