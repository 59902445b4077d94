"""The Python API: crawl a site, then work on its audit as DataFrames.

    import linkaudit

    result = linkaudit.crawl("https://www.example.com/", store="site.sqlite", max_pages=200)
    audit = linkaudit.audit("site.sqlite")
    audit.findings.groupby(["severity", "category"]).size()

Scrapy's reactor cannot be restarted, so each :func:`crawl` runs in a child process
(``python -m linkaudit.api``, given its request as JSON on stdin): a notebook can crawl
as often as it likes. :func:`audit` and :func:`load` read the store in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkaudit.analysis.load import CrawlFrames
    from linkaudit.analysis.model import Audit
    from linkaudit.crawling import CrawlResult

CHILD = [sys.executable, "-m", "linkaudit.api"]
KEPT_LINES = 20  # of the child's stderr, to explain a crash


class LinkauditError(Exception):
    """A crawl or an audit could not be done; the message is one line, ``code`` the
    command line's exit code for the same error (``linkaudit --help``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def crawl(url: str | None = None, store: str | os.PathLike[str] | None = None, *,
          urls: Iterable[str] | None = None, config: str | os.PathLike[str] | None = None,
          resume: bool = False, progress: bool = False, **options: Any) -> CrawlResult:
    """Crawl the site ``url`` belongs to (or the list ``urls``) into ``store`` (default:
    ``reports/<site>/crawls.sqlite``), with the settings of ``config`` (a TOML file) and
    any ``[crawl]`` option as a keyword (``max_pages=200``, ``exclude=["/tag/"]``,
    ``headers={"X-Token": "${TOKEN}"}``...). Returns what was recorded; anything but a
    complete crawl raises :class:`LinkauditError`."""
    from linkaudit.crawler.options import CrawlOptions

    unknown = sorted(set(options) - set(CrawlOptions.__dataclass_fields__))
    if unknown:
        raise LinkauditError(f"unknown crawl option(s): {', '.join(unknown)} (known: "
                             f"{', '.join(sorted(CrawlOptions.__dataclass_fields__))})", 2)
    if urls is not None:
        if isinstance(urls, str):
            raise LinkauditError("urls must be a list of URLs, not one string", 2)
        options["urls"] = list(urls)
    request = {"url": url, "store": None if store is None else os.fspath(store),
               "config": None if config is None else os.fspath(config),
               "resume": resume, "progress": progress, "options": _jsonable(options)}
    answer = _run_child(request, progress)
    if "error" in answer:
        raise LinkauditError(answer["error"], answer.get("code", 1))
    from linkaudit.crawling import CrawlResult

    return CrawlResult(**{**answer, "store_path": Path(answer["store_path"])})


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    try:
        json.dumps(options)
    except TypeError as exc:
        raise LinkauditError(f"crawl options must be numbers, strings, lists or dicts: "
                             f"{exc}", 2) from exc
    return options


def _run_child(request: dict[str, Any], progress: bool) -> dict[str, Any]:
    """Run the crawl in a fresh interpreter; its answer is the last line it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parent.parent),
                      os.environ.get("PYTHONPATH")]))}
    # A session of its own: a Ctrl-C reaches it once, forwarded below (Scrapy reads a
    # second one as "stop at once", which would leave the crawl unrecorded).
    process = subprocess.Popen(CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    kept: list[str] = []
    try:
        process.stdin.write(json.dumps(request))
        process.stdin.close()
        for line in process.stderr:
            if progress:
                sys.stderr.write(line)
            kept = [*kept[-KEPT_LINES + 1:], line.rstrip()]
        answer = process.stdout.read()
        process.wait()
    except BaseException:  # Ctrl-C in a notebook: the crawl stops as it would on a terminal
        process.send_signal(signal.SIGINT)
        process.wait()
        raise
    lines = answer.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        last = next((line for line in reversed(kept) if line.strip()), "no message")
        raise LinkauditError(f"the crawl process ended with code {process.returncode}: "
                             f"{last}") from None


def audit(store: str | os.PathLike[str], crawl_id: int | None = None, *,
          config: str | os.PathLike[str] | None = None) -> Audit:
    """The audit of a stored crawl (default: the newest that did not fail), with the
    settings of ``config``: its tables as DataFrames (``pages``, ``links``, ``findings``,
    ``offtopic``, ``headings``, ``sections``, ``clusters``, ``changes``), the same ones
    the report files hold. No report is written; the store gets what ``linkaudit
    analyze`` would leave in it for comparisons (the previous crawl's snapshot, when
    that crawl was never analysed, and the verdicts an older store lacks)."""
    from linkaudit.auditing import analyse, load_for_audit

    config_obj, path = _settings(config), _store(store)
    with _errors():
        if crawl_id is None:
            crawl_id = _newest(path)
        rules, frames = load_for_audit(config_obj, path, crawl_id)
        result, _ = analyse(config_obj, path, frames, rules)
    return result


def load(store: str | os.PathLike[str], crawl_id: int | None = None) -> CrawlFrames:
    """The stored crawl (default: the newest that did not fail) as the analysis reads it:
    ``pages``, ``links``, ``headings``, ``sections``, ``redirects`` DataFrames, with the
    crawl's ``start_url``, ``state``, ``settings`` and ``limits``."""
    from linkaudit.auditing import load_for_audit

    path = _store(store)
    with _errors():
        if crawl_id is None:
            crawl_id = _newest(path)
        return load_for_audit(_settings(None), path, crawl_id)[1]


def _store(store: str | os.PathLike[str]) -> Path:
    from linkaudit import storage

    path = Path(store)
    with _errors():
        storage.check_store(path)
    return path


def _newest(path: Path) -> int:
    from linkaudit import storage

    with storage.opened_readonly(path) as conn:
        crawl_id = storage.newest_crawl(conn)
    if crawl_id is None:
        raise LinkauditError(f"no crawl in {path} that did not fail")
    return crawl_id


def _settings(config: str | os.PathLike[str] | None) -> Any:
    from linkaudit.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        raise LinkauditError(str(exc), 2) from exc


class _errors:
    """The command line's one-line errors, raised as LinkauditError."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> bool:
        from linkaudit import storage
        from linkaudit.errors import CliError

        if isinstance(exc, CliError):
            raise LinkauditError(str(exc), exc.code) from exc
        if isinstance(exc, storage.StoreError):
            raise LinkauditError(str(exc)) from exc
        return False


def _child_main() -> int:
    """``python -m linkaudit.api``: one crawl, asked for on stdin, answered on stdout."""
    import argparse
    import dataclasses
    import io

    from linkaudit.cli import build_parser
    from linkaudit.commands import crawl_site

    request = json.load(sys.stdin)
    args: argparse.Namespace = build_parser().parse_args(["crawl"])
    args.url, args.store, args.config = request["url"], request["store"], request["config"]
    args.resume, args.quiet = request["resume"], not request["progress"]
    args.options = request["options"]
    try:
        with _errors():
            result = crawl_site(args, io.StringIO())
    except LinkauditError as exc:
        answer: dict[str, Any] = {"error": str(exc), "code": exc.code}
    except KeyboardInterrupt:
        answer = {"error": "interrupted", "code": 130}
    else:
        answer = {**dataclasses.asdict(result), "store_path": str(result.store_path)}
    print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
