"""Reports that fit big sites: the full link table as compressed CSV or Parquet, and a
workbook whose big sheets are cut with their flagged rows first."""

from __future__ import annotations

import gzip
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest

from linkaudit.config import Config, ConfigError, apply_tables
from tests.audit_factory import make_audit
from writers.report import write_reports
from writers.tables import CONTRACT_COLUMNS
from writers.xlsx import write_xlsx


@pytest.fixture(scope="module")
def audit():
    return make_audit(40)


def test_gzipped_links_hold_the_same_bytes_as_links_csv(audit, tmp_path):
    _, plain = write_reports(audit, tmp_path / "plain", xlsx=False)
    _, packed = write_reports(audit, tmp_path / "packed", xlsx=False, links_format="csv.gz")
    names = {p.name for p in packed}
    assert "links.csv.gz" in names and "links.csv" not in names
    raw = gzip.decompress((tmp_path / "packed" / "links.csv.gz").read_bytes())
    assert raw == (tmp_path / "plain" / "links.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")


def test_parquet_links_keep_the_contract_order_and_the_types(audit, tmp_path):
    _, files = write_reports(audit, tmp_path, xlsx=False, links_format="parquet")
    assert "links.parquet" in {p.name for p in files}
    table = pd.read_parquet(tmp_path / "links.parquet")
    contract = CONTRACT_COLUMNS["links.csv"]
    assert list(table.columns[:len(contract)]) == contract
    assert len(table) == len(audit.links)
    assert table["off_topic"].dtype == bool
    assert table["off_topic"].sum() == audit.links["off_topic"].sum()
    assert "landing" not in table.columns


def test_a_cut_sheet_keeps_the_flagged_links_first_and_names_the_full_file(audit, tmp_path):
    links = audit.links
    broken = pd.to_numeric(links["target_status"], errors="coerce").ge(400).fillna(False)
    flagged = int((links["off_topic"] | links["promotional"] | broken).sum())
    assert 0 < flagged < len(links) - 5
    path = write_xlsx(audit, tmp_path / "r.xlsx", max_rows=flagged + 3,
                      full_files={"links": "links.parquet"})
    sheet = openpyxl.load_workbook(path)["links"]
    header = [c.value for c in sheet[1]]
    columns = [header.index(name) + 1 for name in ("off_topic", "promotional", "target_status")]
    kept = [[sheet.cell(r, c).value for c in columns] for r in range(2, flagged + 2)]
    assert all(off or promo or (status or 0) >= 400 for off, promo, status in kept)
    off, promo, status = (sheet.cell(flagged + 2, c).value for c in columns)
    assert not off and not promo and (status or 0) < 400
    assert sheet.cell(flagged + 3, 1).value.endswith("every row is in links.parquet")


def test_links_format_takes_only_the_known_formats():
    assert apply_tables(Config(), {"report": {"links_format": "parquet"}}) \
        .report.links_format == "parquet"
    with pytest.raises(ConfigError, match=r"\[report\] links_format must be one of csv, "
                                          r"csv.gz, parquet, not 'xls'"):
        apply_tables(Config(), {"report": {"links_format": "xls"}})


def test_a_small_site_keeps_every_row_in_the_workbook(audit, tmp_path):
    path = write_xlsx(replace(audit, changes=None), tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(path)["links"].max_row == len(audit.links) + 1
