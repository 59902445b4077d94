from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.audit_factory import make_audit
from writers.xlsx import cell_value, neutralise, write_xlsx

SHEETS = ["pages", "links", "headings", "findings", "offtopic_links"]
HOSTILE_ANCHORS = ['=HYPERLINK("http://evil")', "+33 1 23", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture(scope="module")
def audit():
    audit = make_audit(40, with_changes=True)
    links = audit.links.copy()
    links.loc[: len(HOSTILE_ANCHORS) - 1, "anchor"] = HOSTILE_ANCHORS
    links.loc[len(HOSTILE_ANCHORS), "anchor"] = "bell\x07 and nul\x00 removed"
    return replace(audit, links=links)


@pytest.fixture(scope="module")
def workbook(audit, tmp_path_factory):
    path = write_xlsx(audit, tmp_path_factory.mktemp("xlsx") / "report.xlsx")
    return openpyxl.load_workbook(path)


def test_one_sheet_per_csv_plus_changes(workbook):
    assert workbook.sheetnames == [*SHEETS, "changes"]


def test_no_changes_sheet_without_a_comparison(audit, tmp_path):
    path = write_xlsx(replace(audit, changes=None), tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(path).sheetnames == SHEETS


@pytest.mark.parametrize("sheet", [*SHEETS, "changes"])
def test_header_row_is_frozen_and_filtered(workbook, audit, sheet):
    worksheet = workbook[sheet]
    assert worksheet.freeze_panes == "A2"
    frame = {"offtopic_links": audit.offtopic, "changes": audit.changes}.get(
        sheet, getattr(audit, sheet, None)
    )
    last_column = openpyxl.utils.get_column_letter(len(frame.columns))
    assert worksheet.auto_filter.ref == f"A1:{last_column}{len(frame) + 1}"
    assert [c.value for c in worksheet[1]] == list(frame.columns)
    assert worksheet["A1"].font.bold


def test_rows_round_trip(workbook, audit):
    pages = workbook["pages"]
    assert pages.max_row == len(audit.pages) + 1
    header = [c.value for c in pages[1]]
    first = dict(zip(header, [c.value for c in pages[2]], strict=True))
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
