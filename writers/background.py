"""A writer run in a forked child process while the parent writes the other files.

The workbook is the slowest file of a report and needs nothing the other writers make, so
on a machine with a second core it is written beside them: :class:`Background` forks,
the child writes and sends back what the writer returned or raised, and :meth:`join`
returns or raises it in the parent, as if the writer had run there (an exception keeps
the child's traceback as a note). Without ``os.fork``, with one core, or with other threads
running (a fork would copy their locks, not them; a thread that stops for forks is no
obstacle, see :data:`PAUSED_AT_FORK`), the writer runs in place at :meth:`join`. The
child ends with its parent.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import select
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
PR_SET_PDEATHSIG = 1


class WriterDied(RuntimeError):
    """The child process ended without an answer (killed, out of memory)."""


# A thread whose name starts with this stops before the process forks and starts again
# after (its own os.register_at_fork hooks: the command line's progress clock), so it does
# not keep the process from forking.
PAUSED_AT_FORK = "linkaudit paused at fork"


def can_fork() -> bool:
    current = threading.current_thread()
    others = [thread for thread in threading.enumerate()
              if thread is not current and not thread.name.startswith(PAUSED_AT_FORK)]
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and not others


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the child may outlive a killed parent
        pass


def _outcome(work: Callable[[], T]) -> bytes:
    try:
        return pickle.dumps(("ok", work()))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        told = "".join(traceback.format_tb(exc.__traceback__))  # where, in the child
        try:
            return pickle.dumps(("raised", exc, told))
        except Exception:  # an exception that does not pickle: its text does
            return pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}"),
                                 told))


class Background(Generic[T]):
    """``work()`` started now in a child process (or kept for later); :meth:`join` gives
    its result."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work: Callable[[], T] | None = None
        self._pid: int | None = None
        self._read: int | None = None
        if not can_fork():
            self._work = work
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: write, answer, leave without running the parent's exits
            code = 0
            try:
                os.close(read)
                _die_with_parent()
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once
                data = _outcome(work)
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(data)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def cancel(self) -> None:
        """Stop the child if it is still running (the parent gave up writing)."""
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        if self._read is not None:
            os.close(self._read)
        self._pid = self._read = None

    def join(self, timeout: float | None = None) -> T:
        """The writer's result; what it raised is raised here. Without an answer within
        ``timeout`` seconds (None: no limit) the child is stopped and TimeoutError raised."""
        if self._work is not None:
            work, self._work = self._work, None
            return work()
        if self._pid is None or self._read is None:
            raise RuntimeError("joined twice")
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks = []
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not select.select([self._read], [], [], left)[0]:
                self.cancel()
                raise TimeoutError(f"no answer from the writer's process in {timeout:g} s")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:  # the child closed the pipe: the whole answer is in
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        os.close(self._read)
        _, status = os.waitpid(self._pid, 0)
        self._pid = self._read = None
        if not data:
            how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exit code {os.waitstatus_to_exitcode(status)}")
            raise WriterDied(f"the writer's process ended with {how} before it finished")
        outcome = pickle.loads(data)
        if outcome[0] == "ok":
            return outcome[1]
        _, exc, told = outcome
        if isinstance(exc, BaseException):
            exc.add_note(f"raised in the writer's process, at:\n{told.rstrip()}")
            raise exc
        raise RuntimeError(str(exc))
