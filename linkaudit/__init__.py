"""linkaudit: SEO and internal-link auditing crawler.

The Python API (linkaudit/api.py): ``crawl``, ``audit``, ``load`` and ``LinkauditError``,
imported on first use so that ``import linkaudit`` loads neither Scrapy nor pandas.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Arrow strings (pandas' text columns) from the system allocator, whose freed memory the
# audit hands back between stages (linkaudit/analysis/memory.py). Read by pyarrow when it
# is first imported; an environment that names another pool keeps it.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# Installed, linkaudit.crawler, .analysis, .storage and .writers are folders of this package.
# In a clone of the repository they are its top-level folders, beside this one: found there
# too, so that `scrapy crawl` and `python -m linkaudit` work from the repository's root.
_REPOSITORY = Path(__file__).resolve().parent.parent
if (_REPOSITORY / "crawler" / "__init__.py").is_file() and str(_REPOSITORY) not in __path__:
    __path__.append(str(_REPOSITORY))

__version__ = "0.1.0"
__all__ = ["LinkauditError", "__version__", "audit", "crawl", "load"]


def __getattr__(name: str) -> Any:
    if name in ("crawl", "audit", "load", "LinkauditError"):
        from linkaudit import api

        return getattr(api, name)
    raise AttributeError(f"module 'linkaudit' has no attribute {name!r}")
