"""The report writers: CSV files, charts, the HTML page, the workbook, the terminal summary.

They read only the finished audit (:class:`analysis.model.Audit`): of this project's code
they import ``analysis.model`` and each other, nothing else. ``writers.report`` writes a
whole report folder.
"""
