"""Memory an audit stage frees, handed back to the system before the next stage.

glibc's malloc keeps the pages a stage frees for the process, and Arrow's own allocator
(mimalloc) keeps its freed pages too: the resident size then only grows, stage after stage,
though most of what each stage allocates is freed when it ends. Arrow strings therefore
come from the system allocator (``ARROW_DEFAULT_MEMORY_POOL=system``, set by
``linkaudit/__init__.py`` unless the environment chooses another), and :func:`release`
trims both after each stage. On 20,000 generated pages the audit's peak went from 2,453 to
2,173 MiB, in the same time (docs/scale.md).
"""

from __future__ import annotations

import ctypes
import sys


def _trim_function():
    # The symbols already loaded into the process, libc's among them: no library search
    # (ctypes.util.find_library runs ldconfig in a subprocess).
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # TypeError: Windows has no process-wide handle
        return None


_MALLOC_TRIM = _trim_function()  # glibc only: None on macOS, Windows and musl


def release() -> None:
    """Hand the freed memory of the Arrow pool and of malloc back to the system."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
