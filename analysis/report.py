"""Writing an audit to its report folder: the contract's CSV files, charts, HTML, workbook."""

from __future__ import annotations

from pathlib import Path

from analysis.charts import write_charts
from analysis.html_report import write_html
from analysis.model import Audit
from analysis.writers import CONTRACT_COLUMNS, write_csv
from analysis.xlsx import write_xlsx

CSV_FILES = {
    "pages.csv": "pages",
    "links.csv": "links",
    "headings.csv": "headings",
    "findings.csv": "findings",
    "offtopic_links.csv": "offtopic",
}
# Working columns that would only confuse a report reader.
HIDDEN_COLUMNS = {"links": ["landing"]}


def write_reports(audit: Audit, out_dir: Path, *, xlsx: bool = True) -> list[Path]:
    """Every file of the report folder; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, attribute in CSV_FILES.items():
        frame = getattr(audit, attribute).drop(columns=HIDDEN_COLUMNS.get(attribute, []),
                                               errors="ignore")
        written.append(write_csv(frame, out_dir / name, CONTRACT_COLUMNS[name]))
    if audit.changes is not None:
        written.append(write_csv(audit.changes, out_dir / "changes.csv"))
    charts = write_charts(audit, out_dir)
    written.extend(charts)
    written.append(write_html(audit, out_dir, charts))
    if xlsx:
        written.append(write_xlsx(audit, out_dir / "report.xlsx"))
    return written
