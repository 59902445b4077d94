"""Spiders of the linkaudit Scrapy project."""
