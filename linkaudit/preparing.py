"""`linkaudit run`: the per-page part of the audit done in a second process while the crawl
runs (analysis/prepare.py says what it computes and why the audit stays the same).

:class:`PagePreparer` forks before the crawl starts (no thread is running yet). The child
reads the pages the crawl writes to the store (a read-only connection: SQLite's WAL lets
it read while the crawl writes) and prepares each one. When the crawl is over,
:meth:`PagePreparer.finish` tells it so; it prepares what is left and sends its results
back through a pipe. Whatever goes wrong in the child (killed, out of memory, a bug), the
parent gets nothing and the audit computes everything itself: the child can make the audit
faster, never different. The child ends with its parent.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from pathlib import Path

import storage
from analysis.prepare import Prepared
from writers.background import can_fork, die_with_parent

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
    """Prepares, in a child process, the pages written to ``store_path`` from now on."""

    def __init__(self, store_path: Path) -> None:
        self._pid: int | None = None
        self.seconds = 0.0  # how long the parent waited for the answer
        if not can_fork():
            return
        store_path = Path(store_path)
        after = _last_row(store_path)
        done_read, done_write = os.pipe()
        answer_read, answer_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                os.close(done_write)
                os.close(answer_read)
                die_with_parent()
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
                data = pickle.dumps(_prepare(store_path, after, done_read),
                                    protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(answer_write, "wb") as pipe:
                    pipe.write(data)
            except BaseException:  # noqa: BLE001 - the parent goes on without it
                code = 1
            finally:
                os._exit(code)
        os.close(done_read)
        os.close(answer_write)
        self._pid, self._done, self._answer = pid, done_write, answer_read

    def finish(self, timeout: float = FINISH_SECONDS) -> Prepared | None:
        """The child's results (None if it could not give them in ``timeout`` seconds)."""
        if self._pid is None:
            return None
        started = time.perf_counter()
        try:
            os.write(self._done, b"x")
            chunks = []
            deadline = started + timeout
            while (left := deadline - time.perf_counter()) > 0:
                ready, _, _ = select.select([self._answer], [], [], left)
                if not ready:
                    break
                chunk = os.read(self._answer, 1 << 20)
                if not chunk:  # the child closed the pipe: its whole answer is in
                    if not chunks:
                        return None
                    prepared = pickle.loads(b"".join(chunks))
                    prepared.waited = time.perf_counter() - started
                    return prepared
                chunks.append(chunk)
            return None
        except Exception:  # a broken answer: the audit computes everything itself
            return None
        finally:
            self.seconds = time.perf_counter() - started
            self.cancel()

    def cancel(self) -> None:
        """Stop the child (the crawl failed or was interrupted, or its answer is in)."""
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self._pid, 0)
        for fd in (self._done, self._answer):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pid = None
