"""DIR/report.xlsx: a Summary sheet, then every CSV of the report as one sheet.

The Summary sheet comes first: the headline counts, the findings by severity and category
(with what each category means and how to fix it) and the crawl's identity. Each table
sheet has the columns of its CSV file in the same order: the report contract's columns
first, then the others (``tables.write_csv``), without the working columns the CSV files
leave out.

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

from linkaudit.analysis.model import SEVERITIES, SEVERITY_ORDER, Audit, flags
from linkaudit.writers import SHEET_ROWS
from linkaudit.writers.issues import category_help
from linkaudit.writers.summary import HEADLINE_LABELS, headline_counts
from linkaudit.writers.tables import CONTRACT_COLUMNS, neutralise

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


def csv_order(frame: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """``frame`` with the columns of its CSV file, in the file's order: the contract's
    columns first (those the frame has), then the others; the working columns the CSV
    files leave out (``writers.report.HIDDEN_COLUMNS``) are dropped."""
    # Imported here: writers.report imports this module to write the workbook.
    from linkaudit.writers.report import CSV_FILES, HIDDEN_COLUMNS

    hidden = HIDDEN_COLUMNS.get(CSV_FILES.get(f"{sheet}.csv", sheet), [])
    frame = frame.drop(columns=hidden, errors="ignore")
    contract = [c for c in CONTRACT_COLUMNS.get(f"{sheet}.csv", []) if c in frame.columns]
    return frame[[*contract, *(c for c in frame.columns if c not in contract)]]


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
    return {name: csv_order(frame, name) for name, frame in tables.items()}


SUMMARY_WIDTHS = {"A": 34, "B": 14, "C": 12, "D": 70, "E": 70}


def summary_rows(audit: Audit) -> list[list[object]]:
    """The Summary sheet's rows: crawl, headline counts, findings by severity and
    category; a row whose only cell is text ending with ``:`` starts a part."""
    counts = headline_counts(audit)
    rows: list[list[object]] = [
        [f"Link audit of {audit.site}, crawl {audit.crawl_id}"],
        [],
        ["Crawl:"],
        ["site", audit.site],
        ["crawl", audit.crawl_id],
        ["start URL", audit.start_url],
        ["started", audit.started_at],
        ["finished", audit.finished_at or "not finished"],
        ["partial audit", "yes: see the audit_incomplete findings" if audit.partial else "no"],
        [],
        ["Headline counts:"],
        *[[label, int(counts[key])] for key, label in HEADLINE_LABELS.items()],
    ]
    findings = audit.findings
    by_severity = findings["severity"].value_counts()
    rows += [*[[f"{severity}s", int(by_severity.get(severity, 0))] for severity in SEVERITIES],
             [], ["Issues by severity and category:"],
             ["category", "severity", "findings", "what it means", "how to fix"]]
    grouped = findings.groupby(["severity", "category"]).size().reset_index(name="n")
    grouped = grouped.assign(_rank=grouped["severity"].map(SEVERITY_ORDER).fillna(9))
    for row in grouped.sort_values(["_rank", "n"], ascending=[True, False]).itertuples():
        help_text = category_help(str(row.category))
        rows.append([str(row.category), str(row.severity), int(row.n), help_text.meaning,
                     help_text.fix])
    limits = findings.loc[findings["category"] == "crawl_limit", "detail"]
    if len(limits):
        rows += [[], ["Crawl limits reached (the reports cover part of the site):"],
                 *[[str(detail)] for detail in limits]]
    return rows


def _write_summary(sheet: WriteOnlyWorksheet, audit: Audit) -> None:
    for column, width in SUMMARY_WIDTHS.items():
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    title = Font(bold=True, size=14)
    for index, values in enumerate(summary_rows(audit)):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=cell_value(value))
            if index == 0:
                cell.font = title
            elif len(values) == 1 or values[0] == "category":
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)


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
    """Write the workbook (the Summary sheet, then one sheet per CSV of the report, its
    columns in the CSV's order) and return its path.

    ``max_rows`` is the sheet's row limit, header included (at most Excel's); longer
    tables are cut and end with a row saying so, naming the file that holds every row
    (``full_files``: sheet name -> file name; ``<sheet>.csv`` by default).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    max_rows = min(max_rows, EXCEL_MAX_ROWS)
    workbook = Workbook(write_only=True)
    _write_summary(workbook.create_sheet("Summary"), audit)
    for name, frame in _sheet_tables(audit).items():
        full = (full_files or {}).get(name, f"{name}.csv")
        _write_sheet(workbook.create_sheet(name), full, frame, max_rows)
    workbook.save(path)
    return path
