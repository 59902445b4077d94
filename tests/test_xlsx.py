from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from linkaudit.analysis.model import SEVERITY
from linkaudit.writers.issues import CATEGORY_HELP
from linkaudit.writers.tables import write_csv
from linkaudit.writers.xlsx import cell_value, neutralise, write_xlsx
from tests.audit_factory import make_audit

SHEETS = ["Summary", "pages", "links", "headings", "findings", "offtopic_links"]
TABLES = SHEETS[1:]
HOSTILE_ANCHORS = ['=HYPERLINK("http://evil")', "+33 1 23", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture(scope="module")
def audit():
    audit = make_audit(40, with_changes=True)
    links = audit.links.copy()
    links.loc[: len(HOSTILE_ANCHORS) - 1, "anchor"] = HOSTILE_ANCHORS
    links.loc[len(HOSTILE_ANCHORS), "anchor"] = "bell\x07 and nul\x00 removed"
    # A working column the CSV files leave out, and the page columns in another order
    # than the contract's.
    links["landing"] = links["target"]
    pages = audit.pages[list(reversed(audit.pages.columns))]
    return replace(audit, links=links, pages=pages)


@pytest.fixture(scope="module")
def workbook(audit, tmp_path_factory):
    path = write_xlsx(audit, tmp_path_factory.mktemp("xlsx") / "report.xlsx")
    return openpyxl.load_workbook(path)


def test_one_sheet_per_csv_plus_changes(workbook):
    assert workbook.sheetnames == [*SHEETS, "changes"]


def test_no_changes_sheet_without_a_comparison(audit, tmp_path):
    path = write_xlsx(replace(audit, changes=None), tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(path).sheetnames == SHEETS


def frame_of(audit, sheet):
    return {"offtopic_links": audit.offtopic, "changes": audit.changes}.get(
        sheet, getattr(audit, sheet, None)
    )


def csv_header(frame, path):
    """The header row write_csv writes for ``frame`` as ``path``."""
    if path.name == "links.csv":
        frame = frame.drop(columns=["landing"])  # writers.report.HIDDEN_COLUMNS
    write_csv(frame, path)
    return path.read_text("utf-8-sig").splitlines()[0].split(",")


@pytest.mark.parametrize("sheet", [*TABLES, "changes"])
def test_header_row_is_frozen_and_filtered(workbook, audit, sheet):
    worksheet = workbook[sheet]
    assert worksheet.freeze_panes == "A2"
    frame = frame_of(audit, sheet)
    columns = len([c for c in frame.columns if c != "landing"])
    last_column = openpyxl.utils.get_column_letter(columns)
    assert worksheet.auto_filter.ref == f"A1:{last_column}{len(frame) + 1}"
    assert worksheet["A1"].font.bold


@pytest.mark.parametrize("sheet", [*TABLES, "changes"])
def test_columns_are_in_the_csv_files_order(workbook, audit, sheet, tmp_path):
    expected = csv_header(frame_of(audit, sheet), tmp_path / f"{sheet}.csv")
    assert [c.value for c in workbook[sheet][1]] == expected


def test_summary_sheet_comes_first_with_counts_and_categories(workbook, audit):
    summary = workbook["Summary"]
    assert workbook.sheetnames[0] == "Summary"
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    values = {row[0]: row[1] for row in rows if row and len(row) > 1}
    assert values["pages crawled"] == len(audit.pages)
    assert values["off-topic links"] == int(audit.links["off_topic"].sum())
    assert values["errors"] == int((audit.findings["severity"] == "error").sum())
    assert values["start URL"] == audit.start_url
    header = rows.index(["category", "severity", "findings", "what it means", "how to fix"])
    table = [row for row in rows[header + 1:] if row and row[0] in SEVERITY]
    counts = audit.findings.groupby("category").size()
    assert {row[0]: row[2] for row in table} == counts.to_dict()
    assert [row[1] for row in table] == sorted(
        (row[1] for row in table), key=["error", "warning", "notice"].index)
    broken = next(row for row in table if row[0] == "broken_link")
    assert broken[3] == CATEGORY_HELP["broken_link"].meaning
    assert summary["A1"].font.bold


def test_rows_round_trip(workbook, audit):
    pages = workbook["pages"]
    assert pages.max_row == len(audit.pages) + 1
    header = [c.value for c in pages[1]]
    first = dict(zip(header, [c.value for c in pages[2]], strict=True))
    assert header[0] == "url"
    assert first["url"] == audit.pages.loc[0, "url"]
    assert first["status"] == 200
    assert first["pagerank"] == pytest.approx(float(audit.pages.loc[0, "pagerank"]))


def test_booleans_are_excel_booleans(workbook):
    pages = workbook["pages"]
    column = [c.value for c in pages[1]].index("indexable") + 1
    values = {pages.cell(row, column).value for row in range(2, pages.max_row + 1)}
    assert values == {True, False}
    assert pages.cell(2, column).data_type == "b"


def test_missing_values_are_empty_cells(workbook, audit):
    links = workbook["links"]
    column = [c.value for c in links[1]].index("relevance") + 1
    assert links.cell(2, column).value is None  # a nav link has no relevance


@pytest.mark.parametrize("row, anchor", list(enumerate(HOSTILE_ANCHORS, start=2)))
def test_formula_like_text_is_neutralised(workbook, row, anchor):
    cell = workbook["links"].cell(row, 3)
    assert cell.value == "'" + anchor
    assert cell.data_type == "s"


def test_control_characters_are_removed(workbook):
    assert workbook["links"].cell(len(HOSTILE_ANCHORS) + 2, 3).value == "bell and nul removed"


def test_column_widths_follow_the_content(workbook):
    pages = workbook["pages"]
    assert pages.column_dimensions["A"].width > pages.column_dimensions["B"].width
    assert all(8 <= d.width <= 60 for d in pages.column_dimensions.values() if d.width)


def test_long_tables_are_cut_with_a_note_row(audit, tmp_path):
    path = write_xlsx(audit, tmp_path / "r.xlsx", max_rows=10)
    links = openpyxl.load_workbook(path)["links"]
    assert links.max_row == 10
    assert links.cell(10, 1).value.startswith("Truncated: Excel holds 8 of the")
    assert "links.csv" in links.cell(10, 1).value
    assert links.auto_filter.ref.endswith("9")


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.True_, True),
        (np.int64(3), 3),
        (np.float64("nan"), None),
        (pd.NA, None),
        (None, None),
        ("", None),
        ("=1+1", "'=1+1"),
        ("plain", "plain"),
        (1.5, 1.5),
    ],
)
def test_cell_value_converts_frame_values(value, expected):
    assert cell_value(value) == expected


def test_neutralise_leaves_ordinary_text_alone():
    assert neutralise("Épilation laser") == "Épilation laser"
    assert neutralise("a=b") == "a=b"
