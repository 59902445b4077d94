"""`linkaudit run`: the per-page part of the audit done in a second process while the crawl
runs (analysis/prepare.py says what it computes and why the audit stays the same).

:class:`PagePreparer` forks before the crawl starts (no thread is running yet). The child
reads the pages the crawl writes to the store (a read-only connection: SQLite's WAL lets
it read while the crawl writes) and prepares each one. When the crawl is over,
:meth:`PagePreparer.finish` tells it so; it prepares what is left and sends its results
back (writers/background.py runs it). Whatever goes wrong in the child (killed, out of
memory, a bug), the parent gets nothing and the audit computes everything itself: the child
can make the audit faster, never different. The child ends with its parent.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from pathlib import Path

from linkaudit import storage
from linkaudit.analysis.prepare import Prepared
from linkaudit.writers.background import Background, can_fork

POLL_SECONDS = 0.5  # how often the child looks for new pages when it has none
BATCH_PAGES = 200  # pages read and prepared at a time
FINISH_SECONDS = 120.0  # at most this long for the child's last pages and its answer


def _last_row(store_path: Path) -> int:
    if not store_path.exists():
        return 0
    try:
        with contextlib.closing(storage.readonly(store_path)) as conn:
            return storage.last_page_row(conn)
    except Exception:  # an unreadable store: the crawl will say so
        return 0


def _prepare(store_path: Path, after: int, done_fd: int) -> Prepared:
    """The child's loop: prepare new pages until the parent says the crawl is over and no
    page is left."""
    prepared = Prepared()
    conn = None
    finished = False
    while True:
        if conn is None and store_path.exists():
            conn = storage.readonly(store_path)
        frames, last = storage.read_new_pages(conn, after, BATCH_PAGES) if conn else ({}, after)
        if frames:
            prepared.add(frames["pages"], frames["sections"], frames["headings"])
        if last != after:
            after = last
            continue
        if finished:
            return prepared
        ready, _, _ = select.select([done_fd], [], [], POLL_SECONDS)
        if ready:
            os.read(done_fd, 1)
            finished = True  # one more pass for the pages written since


class PagePreparer:
    """Prepares, in a child process (writers/background.py), the pages written to
    ``store_path`` from now on."""

    def __init__(self, store_path: Path) -> None:
        self._job: Background[Prepared] | None = None
        if not can_fork():
            return
        store_path = Path(store_path)
        after = _last_row(store_path)
        done_read, self._done = os.pipe()
        self._job = Background(lambda: _prepare(store_path, after, done_read))
        os.close(done_read)

    def finish(self, timeout: float = FINISH_SECONDS) -> Prepared | None:
        """The child's results (None if it could not give them in ``timeout`` seconds)."""
        if self._job is None:
            return None
        started = time.perf_counter()
        try:
            os.write(self._done, b"x")
            prepared = self._job.join(timeout)
            prepared.waited = time.perf_counter() - started
            return prepared
        except Exception:  # killed, too slow, a broken answer: the audit does it all
            return None
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the child (the crawl failed or was interrupted, or its answer is in)."""
        if self._job is None:
            return
        self._job.cancel()
        with contextlib.suppress(OSError):
            os.close(self._done)
        self._job = None
