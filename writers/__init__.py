"""The report writers: CSV files, charts, the HTML page, the workbook, the terminal summary.

They read only the finished audit (:class:`linkaudit.analysis.model.Audit`): of this project's code
they import ``linkaudit.analysis.model`` and each other, nothing else.
``linkaudit.writers.report`` writes a whole report folder.
"""

# Rows per sheet of report.xlsx, header included, unless ``[report] xlsx_max_rows`` says
# otherwise (here, with no import, so the configuration can read it cheaply).
SHEET_ROWS = 50_000
# The formats a table can be written in ([report] format, --format) and their file endings.
TABLE_FORMATS = {"csv": ".csv", "csv.gz": ".csv.gz", "parquet": ".parquet", "jsonl": ".jsonl"}
