"""Analysis of a stored crawl: pure DataFrame functions and the report writers.

This package never imports ``crawler``: it reads only the crawl store.
"""
