"""The configuration's defaults have one source: the dataclasses. config/defaults.toml
documents them, key for key and value for value."""

from __future__ import annotations

import dataclasses
import tomllib

from linkaudit.analysis.settings import AuditSettings
from linkaudit.config import SECTIONS, Config, apply_tables, load_config
from linkaudit.crawler.options import CrawlOptions
from linkaudit.crawler.settings import scrapy_settings
from tests.conftest import REPO

DEFAULTS = REPO / "config" / "defaults.toml"


def test_defaults_toml_loads_to_exactly_the_defaults():
    data = tomllib.loads(DEFAULTS.read_text("utf-8"))
    assert apply_tables(Config(), data) == Config()
    assert load_config() == Config()


def test_defaults_toml_names_every_key_of_every_section():
    data = tomllib.loads(DEFAULTS.read_text("utf-8"))
    for name, cls in SECTIONS.items():
        assert set(data[name]) == {f.name for f in dataclasses.fields(cls)}, name


def test_the_config_sections_are_the_crawler_and_analysis_classes():
    assert SECTIONS["crawl"] is CrawlOptions
    assert SECTIONS["analysis"] is AuditSettings


def test_one_user_agent_for_requests_and_robots_txt():
    settings = scrapy_settings(CrawlOptions())
    assert settings["USER_AGENT"] == settings["ROBOTSTXT_USER_AGENT"] == CrawlOptions().user_agent


def test_the_spider_reads_back_the_options_it_was_given():
    from scrapy.settings import Settings

    options = CrawlOptions(max_pages=7, extra_hosts=("cdn.example",), strip_params=("ref",))
    assert CrawlOptions.from_settings(Settings(scrapy_settings(options))) == options
    assert CrawlOptions.from_settings(Settings()) == CrawlOptions()
