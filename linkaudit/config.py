"""Settings: loaded once into one frozen object.

The defaults are the dataclasses' own: ``[crawl]`` is
:class:`linkaudit.crawler.options.CrawlOptions`, ``[analysis]``
:class:`linkaudit.analysis.settings.AuditSettings`. ``config/defaults.toml`` documents
every key with that default (a test holds the two equal). A site file or ``--config FILE``
overrides some of them; command-line flags override the file. Unknown keys and values of
the wrong type are errors that name the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from linkaudit.analysis.settings import AuditSettings
from linkaudit.crawler.options import CrawlOptions, check_frontier_url, check_patterns, site_headers
from linkaudit.writers import SHEET_ROWS, TABLE_FORMATS


class ConfigError(Exception):
    """A settings file or value is wrong; the message is one line naming the key."""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    name: str = ""
    start_url: str = ""


@dataclass(frozen=True, slots=True)
class ReportConfig:
    keep: int = 20
    xlsx: bool = True
    charts: bool = True
    xlsx_max_rows: int = SHEET_ROWS
    format: str = "csv"  # every table: csv, csv.gz, parquet or jsonl
    links_format: str = ""  # the link table's own format; empty: as ``format``


@dataclass(frozen=True, slots=True)
class Config:
    site: SiteConfig = field(default_factory=SiteConfig)
    crawl: CrawlOptions = field(default_factory=CrawlOptions)
    analysis: AuditSettings = field(default_factory=AuditSettings)
    report: ReportConfig = field(default_factory=ReportConfig)
    # Overrides of config/promo.toml's keys, validated by analysis.promo.PromoRules.
    promo: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))

    def with_crawl(self, **changes: Any) -> Config:
        """A copy with crawl settings changed (command-line flags); None values are ignored."""
        changes = {k: v for k, v in changes.items() if v is not None}
        for key, value in changes.items():
            _check_value("crawl", key, value, _hints(CrawlOptions)[key])
        return replace(self, crawl=replace(self.crawl, **changes))

    def as_dict(self) -> dict[str, Any]:
        """The settings as a crawl records them (header and cookie values hidden)."""
        data = {f.name: dataclasses.asdict(getattr(self, f.name))
                for f in fields(self) if f.name != "promo"}
        data["crawl"] = self.crawl.as_record()
        data["promo"] = dict(self.promo)
        return data


SECTIONS: dict[str, type] = {
    "site": SiteConfig, "crawl": CrawlOptions, "analysis": AuditSettings, "report": ReportConfig,
}


def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _type_name(hint: Any) -> str:
    if isinstance(hint, types.UnionType):
        return " or ".join(_type_name(a) for a in hint.__args__)
    if getattr(hint, "__origin__", None) is tuple:
        return "a list of " + _type_name(hint.__args__[0]) + "s"
    if getattr(hint, "__origin__", None) is dict:
        return "a table of strings (name = \"value\")"
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}.get(
        hint, str(hint))


def _matches(value: Any, hint: Any) -> bool:
    if isinstance(hint, types.UnionType):
        return any(_matches(value, a) for a in hint.__args__)
    if getattr(hint, "__origin__", None) is tuple:
        return isinstance(value, list | tuple) and all(
            _matches(v, hint.__args__[0]) for v in value)
    if getattr(hint, "__origin__", None) is dict:
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)


# Settings for which 0 means nothing at all (a crawl of no page, no request at a time).
MINIMUMS = {("crawl", "max_pages"): 1, ("crawl", "concurrency"): 1,
            ("report", "xlsx_max_rows"): 10}


# Settings that take one of a few words.
CHOICES = {("report", "format"): tuple(TABLE_FORMATS),
           ("report", "links_format"): ("", *TABLE_FORMATS), ("crawl", "follow"): (0, 1)}


# Settings whose text has a form of its own: the check raises ValueError saying what is wrong.
FORMS = {("crawl", "frontier"): check_frontier_url, ("crawl", "include"): check_patterns,
         ("crawl", "exclude"): check_patterns}


def _check_value(section: str, key: str, value: Any, hint: Any) -> Any:
    if not _matches(value, hint):
        raise ConfigError(f"[{section}] {key} must be {_type_name(hint)}, not {value!r}")
    form = FORMS.get((section, key))
    if form is not None and value:
        try:
            form(value)
        except ValueError as exc:
            named = "" if key == "frontier" else f"{key} pattern "
            raise ConfigError(f"[{section}] {named}{exc}") from exc
    choices = CHOICES.get((section, key))
    if choices is not None and value not in choices:
        shown = ", ".join('""' if choice == "" else str(choice) for choice in choices)
        raise ConfigError(f"[{section}] {key} must be one of {shown}, not {value!r}")
    minimum = MINIMUMS.get((section, key))
    if minimum is not None and value < minimum:
        raise ConfigError(f"[{section}] {key} must be at least {minimum}, not {value!r}")
    if isinstance(value, str) and hint is not str and value != "auto":
        raise ConfigError(f"[{section}] {key} must be {_type_name(hint)} or \"auto\", "
                          f"not {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise ConfigError(f"[{section}] {key} must not be negative, not {value!r}")
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, Mapping):
        return dict(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def _build_section(name: str, base: Any, table: Any) -> Any:
    cls = SECTIONS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table")
    hints = _hints(cls)
    changes = {}
    for key, value in table.items():
        if key not in hints:
            known = ", ".join(sorted(hints))
            raise ConfigError(f"unknown key [{name}] {key} (known: {known})")
        changes[key] = _check_value(name, key, value, hints[key])
    return replace(base, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc


def apply_tables(config: Config, data: Mapping[str, Any]) -> Config:
    """Overlay parsed TOML tables onto a config, validating every key."""
    changes: dict[str, Any] = {}
    for name, table in data.items():
        if name == "promo":
            if not isinstance(table, dict):
                raise ConfigError("[promo] must be a table")
            merged = {**config.promo, **table}
            _validate_promo(merged)
            changes["promo"] = types.MappingProxyType(merged)
        elif name in SECTIONS:
            changes[name] = _build_section(name, getattr(config, name), table)
        else:
            known = ", ".join([*SECTIONS, "promo"])
            raise ConfigError(f"unknown section [{name}] (known: {known})")
    return replace(config, **changes)


def _validate_promo(table: Mapping[str, Any]) -> None:
    promo_rules_from(table)


def promo_rules_from(overrides: Mapping[str, Any]) -> Any:
    """config/promo.toml with the [promo] keys of the config on top, compiled."""
    from linkaudit.analysis.promo import DEFAULT_RULES_PATH, PromoRules

    try:
        return PromoRules.from_mapping({**_read_toml(DEFAULT_RULES_PATH), **overrides})
    except ValueError as exc:
        raise ConfigError(f"[promo] {exc}") from exc


def promo_rules(config: Config) -> Any:
    return promo_rules_from(config.promo)


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, then the file at ``path`` (if any) on top."""
    config = Config()
    if path is not None:
        config = apply_tables(config, _read_toml(Path(path)))
    return config


def check_crawl(config: Config, environ: Mapping[str, str] | None = None) -> Config:
    """What one key cannot say alone: a list crawl's URLs are http(s) addresses and it is
    no sitemap-only crawl, ``${ENV}`` references and the basic-auth password are set in
    the environment. A ConfigError says what is wrong."""
    from linkaudit.crawling import CrawlError, check_start_url

    crawl = config.crawl
    if crawl.urls and crawl.sitemap_only:
        raise ConfigError("a list crawl (--urls, [crawl] urls) cannot be sitemap-only too")
    for url in crawl.urls:
        try:
            check_start_url(url)
        except CrawlError as exc:
            raise ConfigError(f"[crawl] urls: {exc}") from exc
    try:
        site_headers(crawl, environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return config


def field_names(section: str) -> list[str]:
    return [f.name for f in fields(SECTIONS[section])]
