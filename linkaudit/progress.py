"""What the command line shows while the analysis and the report writing run.

On a terminal: one line, redrawn in place and cut to the terminal's width (it never wraps),
naming the current phase and the time so far. Without a terminal (cron, CI, a pipe): one
plain line per phase, as a log would want. The crawl's own progress is the Scrapy
extension's (crawler/extensions.py); both use tqdm on a terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from linkaudit.writers.background import PAUSED_AT_FORK

# Stage names as the audit and the writers run them -> what the reader is told.
PHASES = {
    "load": "reading the crawl from the store",
    "graph": "link graph",
    "checks": "page checks",
    "documents": "page texts",
    "topics": "topic model",
    "coherence": "section coherence",
    "relevance": "link relevance",
    "promotional": "promotional links",
    "near_duplicates": "near-duplicates",
    "changes": "comparing with the previous crawl",
    "snapshot": "keeping the audit for the next comparison",
}
# The writers' stages, whose subject is the file: shown as "writing links.csv".
WRITERS = {"charts": "charts", "csv": "tables", "workbook": "report.xlsx", "html": "index.html"}


# The clocks running now: each stops while the process forks (the workbook is written in a
# forked child, writers/background.py) and starts again in the parent; the child has none.
_CLOCKS: list[Phases] = []


def _pause_clocks() -> None:
    for phases in _CLOCKS:
        phases._stop_clock()


def _resume_clocks() -> None:
    for phases in _CLOCKS:
        phases._start_clock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_pause_clocks, after_in_parent=_resume_clocks)


class Phases:
    """Told each stage's name as it starts (``Stages``' listener); shows it."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.started = time.monotonic()
        self.shown = ""
        self.bar = None
        self._clock: tuple[threading.Thread, threading.Event] | None = None
        if self.live:
            from tqdm import tqdm

            # No total: a phase has no count, the line shows what runs and for how long.
            # tqdm's own monitor thread is not wanted: it would keep the process from forking.
            tqdm.monitor_interval = 0
            self.bar = tqdm(file=self.stream, bar_format="{desc} {elapsed}", desc="audit:",
                            dynamic_ncols=True, leave=False, mininterval=0.2)
            # A stage can take a minute without telling anything: the clock ticks anyway.
            _CLOCKS.append(self)
            self._start_clock()

    def _start_clock(self) -> None:
        if self.bar is None or self._clock is not None:
            return
        stop = threading.Event()
        thread = threading.Thread(target=self._tick, args=(stop,), daemon=True,
                                  name=f"{PAUSED_AT_FORK}: audit clock")
        self._clock = thread, stop
        thread.start()

    def _stop_clock(self) -> None:
        if self._clock is None:
            return
        (thread, stop), self._clock = self._clock, None
        stop.set()
        if thread is not threading.current_thread():
            thread.join()

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            bar = self.bar
            if bar is not None:
                bar.refresh()

    def __call__(self, stage: str) -> None:
        if not self.enabled:
            return
        name, _, subject = stage.partition(": ")
        if name in WRITERS:
            phase, text = f"writing {WRITERS[name]}", f"audit: writing {subject or name}"
        else:
            phase = PHASES.get(name, name)
            text = f"audit: {phase}"
        if self.bar is not None:
            self.bar.set_description_str(text, refresh=True)
        elif phase != self.shown:  # a log gets one line a phase, not one a file
            self.stream.write(f"audit: {phase}, {time.monotonic() - self.started:.0f}s\n")
            self.stream.flush()
        self.shown = phase

    def close(self) -> None:
        """Clear the live line (the summary follows)."""
        if self.bar is not None:
            self._stop_clock()
            if self in _CLOCKS:
                _CLOCKS.remove(self)
            bar, self.bar = self.bar, None
            bar.close()
