"""DIR/report.xlsx: every CSV of the report as one sheet of a workbook.

Sheets are streamed with openpyxl's write-only mode so a 100,000-link site does
not need the whole workbook in memory. A table longer than the sheet limit
(``[report] xlsx_max_rows``, 50,000 rows by default: a workbook a spreadsheet still
opens quickly) is cut, its flagged rows (off-topic, promotional, broken) first, and
ends with a row pointing to the CSV file that holds every row. Text that a
spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
is prefixed with an apostrophe, as in the CSV files.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from analysis.model import Audit, flags
from writers import SHEET_ROWS
from writers.tables import neutralise

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
WIDTH_SAMPLE_ROWS = 500
MIN_WIDTH, MAX_WIDTH = 8, 60


def _safe_text(text: str) -> str:
    # Control characters make the file unreadable for Excel; huge cells are refused.
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return neutralise(text)[:EXCEL_MAX_CELL_CHARS]


def cell_value(value: object) -> object:
    """A frame value as openpyxl should store it: booleans stay TRUE/FALSE, gaps are empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).tz_localize(None).to_pydatetime()
    text = str(value)
    return _safe_text(text) if text else None


def _column_width(header: str, values: pd.Series) -> float:
    sample = values.head(WIDTH_SAMPLE_ROWS).dropna().astype(str).str.len()
    typical = float(sample.quantile(0.9)) if len(sample) else 0.0
    return float(min(MAX_WIDTH, max(MIN_WIDTH, len(header) + 2, typical + 2)))


def _sheet_tables(audit: Audit) -> dict[str, pd.DataFrame]:
    tables = {
        "pages": audit.pages,
        "links": audit.links,
        "headings": audit.headings,
        "findings": audit.findings,
        "offtopic_links": audit.offtopic,
    }
    if audit.changes is not None:
        tables["changes"] = audit.changes
    return tables


def _kept(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The rows a cut sheet keeps: flagged rows first, each part in table order."""
    if len(frame) <= limit:
        return frame
    flagged = pd.Series(False, index=frame.index)
    for column in ("off_topic", "promotional"):
        if column in frame.columns:
            flagged |= flags(frame[column])
    if "target_status" in frame.columns:
        flagged |= pd.to_numeric(frame["target_status"], errors="coerce").ge(400).fillna(False)
    order = np.concatenate([np.flatnonzero(flagged.to_numpy()),
                            np.flatnonzero(~flagged.to_numpy())])
    return frame.iloc[order[:limit]]


def _rows(frame: pd.DataFrame, limit: int) -> Iterator[list[object]]:
    for values in _kept(frame, limit).itertuples(index=False, name=None):
        yield [cell_value(v) for v in values]


def _write_sheet(sheet: WriteOnlyWorksheet, full_file: str, frame: pd.DataFrame,
                 max_rows: int) -> None:
    columns = [str(c) for c in frame.columns]
    fits = len(frame) <= max_rows - 1
    data_rows = len(frame) if fits else max_rows - 2  # header and note row take two
    for index, column in enumerate(columns, start=1):
        width = _column_width(column, frame.iloc[:, index - 1])
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{data_rows + 1}"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_safe_text(column))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in _rows(frame, data_rows):
        sheet.append(row)
    if not fits:
        sheet.append(
            [
                f"Truncated: Excel holds {data_rows:,} of the {len(frame):,} rows here "
                f"(flagged rows first); every row is in {full_file}"
            ]
        )


def write_xlsx(audit: Audit, path: Path, *, max_rows: int = SHEET_ROWS,
               full_files: Mapping[str, str] | None = None) -> Path:
    """Write the workbook (one sheet per CSV of the report) and return its path.

    ``max_rows`` is the sheet's row limit, header included (at most Excel's); longer
    tables are cut and end with a row saying so, naming the file that holds every row
    (``full_files``: sheet name -> file name; ``<sheet>.csv`` by default).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    max_rows = min(max_rows, EXCEL_MAX_ROWS)
    workbook = Workbook(write_only=True)
    for name, frame in _sheet_tables(audit).items():
        full = (full_files or {}).get(name, f"{name}.csv")
        _write_sheet(workbook.create_sheet(name), full, frame, max_rows)
    workbook.save(path)
    return path
