"""CSV report files as the report contract describes them.

UTF-8 with a byte-order mark (so spreadsheet programs show accents), comma-separated,
one header row, ``true``/``false`` booleans, empty cells for missing values, numbers as
plain decimals, and text cells that a spreadsheet would run as a formula neutralised.
A file is written to a temporary name beside its destination and renamed into place, so
a report never exists half-written.
"""

from __future__ import annotations

import gzip
import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from linkaudit.writers import TABLE_FORMATS

# The contract's columns of each CSV file, in contract order.
CONTRACT_COLUMNS: dict[str, list[str]] = {
    "pages.csv": [
        "url", "status", "redirect_to", "depth", "indexable", "canonical", "title", "h1",
        "h1_count", "word_count", "inlinks", "outlinks", "pagerank", "topic", "coherence",
    ],
    "links.csv": [
        "source", "target", "anchor", "rel", "internal", "position", "target_status",
        "promotional", "promo_reason", "relevance", "off_topic", "context",
    ],
    "headings.csv": ["url", "order", "level", "text"],
    "findings.csv": ["url", "category", "severity", "detail", "target"],
    "offtopic_links.csv": [
        "source", "source_title", "target", "target_title", "anchor", "context",
        "promotional", "relevance", "why", "suggested_targets",
    ],
}  # fmt: skip

# A spreadsheet treats a cell starting with one of these as a formula (or as the start of
# one: tab and carriage return are stripped before evaluation by some programs).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# OWASP's advice for CSV injection: prefix the cell with a single quote, which makes the
# spreadsheet show the text as typed instead of evaluating it.
FORMULA_GUARD = "'"


def neutralise(text: str) -> str:
    """``text`` prefixed with a single quote if a spreadsheet would read it as a formula."""
    return FORMULA_GUARD + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(df: pd.DataFrame, path: Path, columns: list[str] | None = None) -> Path:
    """Write ``df`` to ``path`` by the report contract's CSV rules; return ``path``.

    ``columns`` come first, in that order, then the frame's other columns. When
    ``columns`` is None and the file name is one of :data:`CONTRACT_COLUMNS`, the
    contract's columns are used. A missing required column raises ``ValueError``.
    A name ending in ``.gz`` is written gzip-compressed.
    """
    path = Path(path)
    if columns is None:
        columns = CONTRACT_COLUMNS.get(path.name.removesuffix(".gz"), [])
    ordered = _contract_order(df, columns, path.name)
    text = pd.DataFrame({name: format_column(ordered[name]) for name in ordered.columns})
    text.columns = [neutralise(str(name)) for name in ordered.columns]
    _atomic_write(path, text)
    return path




JSONL_CHUNK = 100_000  # rows turned into text at a time


def table_file(name: str, table_format: str) -> str:
    """The file a contract table is written to: ``table_file("links.csv", "parquet")`` is
    ``links.parquet``."""
    return name.removesuffix(".csv") + TABLE_FORMATS[table_format]


def write_table(df: pd.DataFrame, path: Path, columns: list[str] | None = None) -> Path:
    """``df`` written in the format its file name ends with (:data:`TABLE_FORMATS`)."""
    path = Path(path)
    if columns is None:
        columns = CONTRACT_COLUMNS.get(path.name.split(".")[0] + ".csv", [])
    if path.suffix == ".parquet":
        return write_parquet(df, path, columns)
    if path.suffix == ".jsonl":
        return write_jsonl(df, path, columns)
    return write_csv(df, path, columns)


def write_jsonl(df: pd.DataFrame, path: Path, columns: list[str]) -> Path:
    """``df`` as JSON Lines: one object a row, the contract's columns first, values typed
    (numbers, ``true``/``false``, ``null`` for a missing value), UTF-8 without a byte-order
    mark; return ``path``. Like Parquet, read by data tools: no formula guard."""
    ordered = _contract_order(df, columns, path.name)
    with _replacing(path) as temporary, \
            open(temporary, "w", encoding="utf-8", newline="\n") as handle:
        for start in range(0, len(ordered), JSONL_CHUNK):
            text = ordered.iloc[start:start + JSONL_CHUNK].to_json(
                orient="records", lines=True, force_ascii=False, date_format="iso",
                date_unit="s")
            # pandas writes "/" as "\/" (valid, but URLs read badly). Every "/" it writes
            # is escaped, so each "\/" is one escaped slash: undone, it is still JSON.
            handle.write(text.replace("\\/", "/").rstrip("\n") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def write_parquet(df: pd.DataFrame, path: Path, columns: list[str]) -> Path:
    """``df`` as Parquet, the contract's columns first, values typed (no text formatting:
    a Parquet file is read by data tools, not run as a spreadsheet); return ``path``."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("Parquet files need pyarrow: "
                           "pip install 'linkaudit[parquet]'") from exc
    ordered = _contract_order(df, columns, path.name)
    with _replacing(path) as temporary:
        ordered.to_parquet(temporary, index=False, compression="zstd")
    return path


def _contract_order(df: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    extras = [column for column in df.columns if column not in columns]
    return df[[*columns, *extras]]


def format_column(values: pd.Series) -> pd.Series:
    """The cells of one column as the text written to the file."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _format_booleans(values)
    if pd.api.types.is_integer_dtype(dtype):
        return values.astype("Int64").astype("string").fillna("").astype(object)
    if pd.api.types.is_float_dtype(dtype):
        return (values.astype(object).map(_format_float, na_action="ignore").astype(object)
                .fillna(""))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return values.map(lambda v: v.isoformat(), na_action="ignore").fillna("").astype(object)
    if pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(
            values, skipna=True) in ("string", "empty"):
        return _format_texts(values)
    return values.astype(object).map(_format_cell)


def _format_texts(values: pd.Series) -> pd.Series:
    """A column of text (and gaps): :func:`neutralise` on the whole column at once."""
    text = values.astype("string").fillna("")
    guarded = text.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
    return text.where(~guarded, FORMULA_GUARD + text).astype(object)


def _format_booleans(values: pd.Series) -> pd.Series:
    as_text = values.astype("boolean").map({True: "true", False: "false"}, na_action="ignore")
    return as_text.astype(object).where(values.notna(), "")


def _format_float(value: float) -> str:
    # Positional notation: "0.00001", not "1e-05"; shortest digits that round-trip.
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return np.format_float_positional(value, trim="-")


def _format_cell(value: object) -> str:
    """One cell of a mixed (object) column: only real text can be neutralised."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else _format_float(float(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(str(value))


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to: renamed onto ``path`` when the block
    ends, deleted if it raises, so ``path`` is never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, frame: pd.DataFrame) -> None:
    with _replacing(path) as temporary:
        # os.open with 0o666 lets the umask decide the permissions, as for any new file.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(descriptor, "wb") as raw:
            packed = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) \
                if path.suffix == ".gz" else None
            handle = io.TextIOWrapper(packed or raw, encoding="utf-8-sig", newline="")
            frame.to_csv(handle, index=False, lineterminator="\n")
            handle.flush()
            handle.detach()  # the file stays open for the gzip trailer and the fsync
            if packed is not None:
                packed.close()  # writes the trailer; leaves ``raw`` open
            raw.flush()
            os.fsync(raw.fileno())
