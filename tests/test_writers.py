from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkaudit.writers.tables import CONTRACT_COLUMNS, format_column, neutralise, write_csv

BOM = b"\xef\xbb\xbf"


def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    return raw[len(BOM) :].decode("utf-8").splitlines()


def test_file_starts_with_bom_and_one_header_row(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), tmp_path / "t.csv")
    assert _lines(path) == ["a,b", "1,x", "2,y"]


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        ([True, False], "bool", ["true", "false"]),
        ([True, None, False], "boolean", ["true", "", "false"]),
        ([3, None], "Int64", ["3", ""]),
        ([-5, 7], "int64", ["-5", "7"]),
        ([-5.0, 0.125], "float64", ["-5", "0.125"]),
        ([0.00001, 123456789012.5], "float64", ["0.00001", "123456789012.5"]),
        ([0.731, np.nan], "float64", ["0.731", ""]),
        (["=SUM(A1)", "+33 1 23", "-foo", "@cmd", "\tx", "\rx"], "str",
         ["'=SUM(A1)", "'+33 1 23", "'-foo", "'@cmd", "'\tx", "'\rx"]),
        (["-5", "plain", None], "str", ["'-5", "plain", ""]),
        (["=1", 2, True, None, -1.5], object, ["'=1", "2", "true", "", "-1.5"]),
    ],
)  # fmt: skip
def test_format_column(values: list, dtype: object, expected: list[str]) -> None:
    assert list(format_column(pd.Series(values, dtype=dtype))) == expected


def test_negative_number_is_written_as_a_number(tmp_path: Path) -> None:
    frame = pd.DataFrame({"delta": [-5], "note": ["-5"]})
    path = write_csv(frame, tmp_path / "n.csv")
    assert _lines(path)[1] == "-5,'-5"


def test_formula_is_neutralised_in_the_file(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"title": ["=SUM(A1)", "-foo", "@x"]}), tmp_path / "f.csv")
    assert _lines(path)[1:] == ["'=SUM(A1)", "'-foo", "'@x"]


def test_booleans_written_true_false(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ok": [True, False], "maybe": pd.array([pd.NA, True], "boolean")})
    assert _lines(write_csv(frame, tmp_path / "b.csv"))[1:] == ["true,", "false,true"]


def test_accents_and_quotes_survive(tmp_path: Path) -> None:
    text = 'Spasticité « sévère », l’alcool, "guillemets"\nligne 2'
    path = write_csv(pd.DataFrame({"text": [text]}), tmp_path / "a.csv")
    assert pd.read_csv(path, encoding="utf-8-sig")["text"][0] == text
    assert "Spasticité".encode() in path.read_bytes()


def test_round_trip_through_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "url": ["https://exemple.fr/é", "https://exemple.fr/b"],
            "status": pd.array([200, pd.NA], "Int64"),
            "relevance": [0.25, 0.5],
            "off_topic": [True, False],
        }
    )
    back = pd.read_csv(write_csv(frame, tmp_path / "r.csv"), encoding="utf-8-sig")
    assert list(back.columns) == ["url", "status", "relevance", "off_topic"]
    assert back["url"].tolist() == frame["url"].tolist()
    assert back["status"].tolist()[0] == 200 and pd.isna(back["status"][1])
    assert back["relevance"].tolist() == [0.25, 0.5]
    assert back["off_topic"].astype(str).str.lower().tolist() == ["true", "false"]


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_csv(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    write_csv(pd.DataFrame({"a": [2]}), tmp_path / "x.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
    assert _lines(tmp_path / "x.csv") == ["a", "2"]


def test_failed_write_keeps_previous_file_and_no_temporary(tmp_path: Path) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot format")

    path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    with pytest.raises(RuntimeError):
        write_csv(pd.DataFrame({"a": [Unprintable()]}), path)
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
    assert _lines(path) == ["a", "1"]


def test_contract_columns_first_then_extras(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"extra": ["e"], "target": [""], "detail": ["d"], "severity": ["error"],
         "category": ["broken_link"], "url": ["https://e.fr/"]}
    )  # fmt: skip
    path = write_csv(frame, tmp_path / "findings.csv")
    assert _lines(path)[0] == "url,category,severity,detail,target,extra"


def test_explicit_columns_override_file_name(tmp_path: Path) -> None:
    frame = pd.DataFrame({"b": [1], "a": [2], "c": [3]})
    assert _lines(write_csv(frame, tmp_path / "x.csv", ["a", "b"]))[0] == "a,b,c"


def test_missing_contract_column_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="headings.csv: missing column"):
        write_csv(pd.DataFrame({"url": ["u"], "ord": [0]}), tmp_path / "headings.csv")


def test_contract_columns_cover_every_csv_file() -> None:
    assert set(CONTRACT_COLUMNS) == {
        "pages.csv", "links.csv", "headings.csv", "findings.csv", "offtopic_links.csv"
    }  # fmt: skip
    assert CONTRACT_COLUMNS["links.csv"][:3] == ["source", "target", "anchor"]
    assert CONTRACT_COLUMNS["offtopic_links.csv"][-1] == "suggested_targets"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=1+1", "'=1+1"), ("safe", "safe"), ("", ""), ("a=b", "a=b"), ("'quoted", "'quoted")],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_reports_without_charts_have_every_table_and_no_png(tmp_path: Path) -> None:
    from linkaudit.writers.report import write_reports
    from tests.audit_factory import make_audit

    audit, files = write_reports(make_audit(40), tmp_path, xlsx=False, charts=False)
    names = {path.name for path in tmp_path.iterdir()}
    assert {"pages.csv", "links.csv", "headings.csv", "findings.csv", "offtopic_links.csv",
            "index.html"} <= names
    assert not [name for name in names if name.endswith(".png")]
    assert not audit.failures
    assert "<img" not in (tmp_path / "index.html").read_text("utf-8")
    assert {path.name for path in files} == names


def test_the_charts_switch_is_read_from_the_report_section(tmp_path: Path) -> None:
    from linkaudit.config import load_config

    (tmp_path / "site.toml").write_text("[report]\ncharts = false\n", encoding="utf-8")
    assert load_config(tmp_path / "site.toml").report.charts is False
    assert load_config().report.charts is True
