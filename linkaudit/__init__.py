"""linkaudit: SEO and internal-link auditing crawler.

The Python API (linkaudit/api.py): ``crawl``, ``audit``, ``load`` and ``LinkauditError``,
imported on first use so that ``import linkaudit`` loads neither Scrapy nor pandas.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["LinkauditError", "__version__", "audit", "crawl", "load"]


def __getattr__(name: str) -> Any:
    if name in ("crawl", "audit", "load", "LinkauditError"):
        from linkaudit import api

        return getattr(api, name)
    raise AttributeError(f"module 'linkaudit' has no attribute {name!r}")
