"""Analysis of a stored crawl: pure DataFrame functions, from the store's frames to the
finished audit (``linkaudit.analysis.model.Audit``).

This package imports only ``storage`` of linkaudit's other packages: never the crawler,
never the writers.
"""
