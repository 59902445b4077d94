"""Reports that fit big sites and pipelines: the tables as CSV, compressed CSV, Parquet or
JSON Lines (every table, or the link table alone), and a workbook whose big sheets are cut
with their flagged rows first."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest

from linkaudit.config import Config, ConfigError, apply_tables
from linkaudit.writers.report import write_reports
from linkaudit.writers.tables import CONTRACT_COLUMNS
from linkaudit.writers.xlsx import write_xlsx
from tests.audit_factory import make_audit


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
    with pytest.raises(ConfigError, match=r'\[report\] links_format must be one of "", csv, '
                                          r"csv.gz, parquet, jsonl, not 'xls'"):
        apply_tables(Config(), {"report": {"links_format": "xls"}})
    with pytest.raises(ConfigError, match=r"\[report\] format must be one of csv, csv.gz, "
                                          r"parquet, jsonl, not 'json'"):
        apply_tables(Config(), {"report": {"format": "json"}})


TABLES = {"pages": "pages", "links": "links", "headings": "headings",
          "findings": "findings", "offtopic_links": "offtopic"}


def test_every_table_as_json_lines_keeps_rows_order_and_types(audit, tmp_path):
    _, files = write_reports(audit, tmp_path, xlsx=False, table_format="jsonl")
    names = {p.name for p in files}
    assert {f"{stem}.jsonl" for stem in TABLES} <= names
    assert not any(name.endswith(".csv") for name in names)
    for stem, attribute in TABLES.items():
        lines = (tmp_path / f"{stem}.jsonl").read_bytes().splitlines()
        assert not lines or not lines[0].startswith(b"\xef\xbb\xbf")  # no byte-order mark
        rows = [json.loads(line) for line in lines]
        assert len(rows) == len(getattr(audit, attribute)), stem
        contract = CONTRACT_COLUMNS[f"{stem}.csv"]
        assert all(list(row)[:len(contract)] == contract for row in rows), stem
    links = [json.loads(line) for line in (tmp_path / "links.jsonl").read_text().splitlines()]
    assert {type(row["off_topic"]) for row in links} == {bool}
    assert sum(row["off_topic"] for row in links) == audit.links["off_topic"].sum()
    statuses = {type(row["target_status"]) for row in links}
    assert statuses <= {int, type(None)} and int in statuses
    assert all("\\/" not in line for line in (tmp_path / "links.jsonl").read_text().splitlines())
    assert links[0]["source"].startswith("http") and "landing" not in links[0]


def test_every_table_as_parquet_with_the_link_table_compressed_csv(audit, tmp_path):
    _, files = write_reports(audit, tmp_path, xlsx=False, table_format="parquet",
                             links_format="csv.gz")
    names = {p.name for p in files}
    assert "links.csv.gz" in names and "links.parquet" not in names
    for stem in ("pages", "headings", "findings", "offtopic_links"):
        assert len(pd.read_parquet(tmp_path / f"{stem}.parquet")) == \
            len(getattr(audit, TABLES[stem])), stem


def test_the_html_page_links_to_the_table_files_it_sits_beside(audit, tmp_path):
    write_reports(audit, tmp_path, xlsx=False, table_format="parquet", links_format="csv.gz")
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    targets = set(re.findall(r'href="([a-z_]+\.[a-z.]+)"', html))
    assert "findings.parquet" in targets
    assert not {t for t in targets if t.endswith(".csv")}
    assert all((tmp_path / target).exists() for target in targets)


def test_text_in_json_lines_is_not_guarded_as_a_formula(tmp_path):
    from linkaudit.writers.tables import write_table

    path = write_table(pd.DataFrame({"url": ["=HYPERLINK(1)"], "n": [1]}), tmp_path / "t.jsonl")
    assert json.loads(path.read_text()) == {"url": "=HYPERLINK(1)", "n": 1}


def test_a_small_site_keeps_every_row_in_the_workbook(audit, tmp_path):
    path = write_xlsx(replace(audit, changes=None), tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(path)["links"].max_row == len(audit.links) + 1
