"""What a failed stage of the audit leaves empty in the audit's frames.

The named stages of an audit (``STAGES``), the runner that keeps their failures
(``Stages``) and the ``audit_incomplete`` findings are in analysis/model.py, where the
report writers find them too. ``build_audit`` (analysis/audit.py) runs its work through
``Stages``, then empties with :func:`blank_failed` the columns of every stage that failed
or did not run for want of another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkaudit.analysis.model import STAGES, StageFailure


def blank(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with ``columns`` emptied (missing values of a nullable dtype)."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    frame = frame.copy()
    for column in present:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        elif pd.api.types.is_integer_dtype(dtype):
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        elif pd.api.types.is_float_dtype(dtype):
            frame[column] = np.nan
        else:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype=object)
    return frame


def blank_failed(pages: pd.DataFrame, links: pd.DataFrame, failures: list[StageFailure]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pages and links with the columns of every failed or skipped stage emptied."""
    for failure in failures:
        for stage in (failure.stage, *failure.skipped):
            pages = blank(pages, STAGES[stage].pages)
            links = blank(links, STAGES[stage].links)
    return pages, links
