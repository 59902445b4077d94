"""The report writers: CSV files, charts, the HTML page, the workbook, the terminal summary.

They read only the finished audit (:class:`analysis.model.Audit`): of this project's code
they import ``analysis.model`` and each other, nothing else. ``writers.report`` writes a
whole report folder.
"""

# Rows per sheet of report.xlsx, header included, unless ``[report] xlsx_max_rows`` says
# otherwise (here, with no import, so the configuration can read it cheaply).
SHEET_ROWS = 50_000
