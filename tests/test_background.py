"""The workbook's background writer: a forked child's result, error or death reaches the
parent as if the writer had run there."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from linkaudit.progress import Phases
from linkaudit.writers import background
from linkaudit.writers.background import Background, WriterDied

needs_fork = pytest.mark.skipif(not background.can_fork(),
                                reason="no fork, one core, or other threads running")


@needs_fork
def test_the_child_writes_the_file_and_its_result_comes_back(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"

    def write() -> tuple[Path, int]:
        target.write_text("written", encoding="utf-8")
        return target, os.getpid()

    job = Background(write)
    assert job.forked
    path, pid = job.join()
    assert path == target and target.read_text(encoding="utf-8") == "written"
    assert pid != os.getpid()


@needs_fork
def test_an_error_in_the_child_is_raised_in_the_parent_with_where_it_happened() -> None:
    def fail() -> None:
        raise ValueError("bad cell")

    job = Background(fail)
    with pytest.raises(ValueError, match="bad cell") as caught:
        job.join()
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "raised in the writer's process" in notes and "in fail" in notes


@needs_fork
def test_a_child_killed_before_answering_is_a_writer_failure() -> None:
    def hang() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(WriterDied, match="signal 9"):
        Background(hang).join()


@needs_fork
def test_cancel_stops_a_running_child() -> None:
    job = Background(lambda: time.sleep(30))
    started = time.perf_counter()
    job.cancel()
    assert time.perf_counter() - started < 5 and not job.forked


def test_with_other_threads_running_the_writer_runs_in_place() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        job = Background(os.getpid)
        assert not job.forked
        assert job.join() == os.getpid()
    finally:
        stop.set()
        thread.join()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _clocks() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith("audit clock")]


@needs_fork
def test_the_live_progress_clock_stops_for_the_fork_and_ticks_again_after() -> None:
    phases = Phases(stream=_Terminal(), enabled=True)
    try:
        phases("topics")
        assert _clocks() and background.can_fork()
        job = Background(lambda: (os.getpid(), [t.name for t in threading.enumerate()]))
        assert job.forked
        pid, child_threads = job.join(timeout=60)
        assert pid != os.getpid()
        assert not any(name.endswith("audit clock") for name in child_threads)
        assert len(_clocks()) == 1 and _clocks()[0].is_alive()  # started again in the parent
    finally:
        phases.close()
    assert not _clocks()
    assert "audit: topic model" in phases.stream.getvalue()
