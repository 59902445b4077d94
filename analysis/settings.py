"""The analysis settings: the ``[analysis]`` table of the configuration, with its one set of
defaults (``config/defaults.toml`` documents the same values; a test holds them equal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUTO = "auto"  # decided from the site itself
THIN_CONTENT_WORDS = 200
NEAR_DUPLICATE_THRESHOLD = 0.85


@dataclass(frozen=True, slots=True)
class AuditSettings:
    off_topic_threshold: float | str = AUTO  # a relevance in 0-1, or calibrated on the site
    incoherent_threshold: float | str = AUTO
    topics: int | str = AUTO  # number of topic clusters
    thin_content_words: int = THIN_CONTENT_WORDS
    near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD


def given(value: Any) -> Any:
    """A setting's value, or None where it is left to the site ("auto")."""
    return None if value == AUTO else value
