"""The Scrapy project: spider, items, pipelines, settings and pure extraction functions."""
