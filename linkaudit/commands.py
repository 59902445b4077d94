"""What each ``linkaudit`` command does; cli.py only parses arguments."""

from __future__ import annotations

import argparse
import fcntl
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from linkaudit import storage
from linkaudit.config import Config, ConfigError, check_crawl, load_config
from linkaudit.errors import EXIT_ALERT, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_USAGE, CliError
from linkaudit.progress import Phases
from linkaudit.resources import config_file, data_dir

REPORTS = Path("reports")


def _crawl_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The crawl settings given on the command line (None: not given); ``args.options``
    holds those of the Python API (linkaudit.crawl)."""
    def listed(values: list[str] | None) -> tuple[str, ...] | None:
        return tuple(values) if values else None

    return {"max_pages": args.max_pages, "concurrency": args.concurrency, "delay": args.delay,
            "aliases": listed(args.alias), "frontier": getattr(args, "frontier", None),
            "max_depth": args.max_depth, "user_agent": args.user_agent,
            "include": listed(args.include), "exclude": listed(args.exclude),
            "follow": args.follow, "sitemap_only": args.sitemap_only,
            "urls": _url_list(args.urls) if args.urls else None,
            **getattr(args, "options", {})}


def _url_list(path: str) -> tuple[str, ...]:
    from linkaudit.crawling import CrawlError, read_url_list

    try:
        return read_url_list(path)
    except CrawlError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def _config(args: argparse.Namespace) -> Config:
    """Settings: a bad file or value is a bad argument (exit 2), found before any work."""
    try:
        config = load_config(getattr(args, "config", None))
        if getattr(args, "format", None):
            config = replace(config, report=replace(config.report, format=args.format))
        if hasattr(args, "max_pages"):
            config = check_crawl(config.with_crawl(**_crawl_flags(args)))
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    return config


def _start_url(args: argparse.Namespace, config: Config) -> str:
    from linkaudit.crawling import CrawlError, check_start_url

    if config.crawl.urls:  # a list crawl: its first URL names the site and the crawl
        if args.url:
            raise CliError("give a start URL or a list of URLs (--urls, [crawl] urls), "
                           "not both", EXIT_USAGE)
        return check_start_url(config.crawl.urls[0])
    url = args.url or config.site.start_url
    if not url:
        raise CliError("no start URL: give one, or a --config file with [site] start_url",
                       EXIT_USAGE)
    try:
        return check_start_url(url)
    except CrawlError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def _store_for_url(args: argparse.Namespace, config: Config, url: str) -> Path:
    from linkaudit.crawling import default_store

    return Path(args.store) if args.store else default_store(config, url, REPORTS)


def _existing_store(args: argparse.Namespace, config: Config) -> Path:
    """The store a command reads: --store, the --config site's, or the only one in reports/.

    It is checked read-only first: a file that is not a crawl store is never written to.
    """
    if args.store:
        path = Path(args.store)
    elif config.site.name:
        path = storage.default_path(REPORTS, config.site.name)
    elif config.site.start_url:
        from linkaudit.crawling import default_store

        path = default_store(config, config.site.start_url, REPORTS)
    else:
        found = sorted(REPORTS.glob(f"*/{storage.STORE_NAME}"))
        if len(found) != 1:
            where = "no crawl store in reports/" if not found else \
                f"{len(found)} sites in reports/ ({', '.join(p.parent.name for p in found)})"
            raise CliError(f"{where}: pass --store FILE")
        path = found[0]
    try:
        storage.check_store(path)
    except storage.StoreError as exc:
        raise CliError(str(exc)) from exc
    return path


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


@contextmanager
def store_lock(store_path: Path) -> Iterator[None]:
    """Keep two commands that write one store from overlapping (cron jobs that run long).

    The lock is per store (``crawls.sqlite.lock`` beside ``crawls.sqlite``): two stores in
    one folder do not block each other.
    """
    site_dir, lock = store_path.parent, lock_path(store_path)
    try:
        site_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create {site_dir}: {exc.strerror or exc}") from exc
    try:
        handle = open(lock, "w")  # noqa: SIM115 - held for the with-block
    except OSError as exc:
        raise CliError(f"cannot write to {site_dir}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise CliError(f"another linkaudit run holds {lock}; nothing done", EXIT_LOCKED) from exc
    try:
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _resume_hint(args: argparse.Namespace, url: str) -> str:
    """The command that continues an unfinished crawl, e.g. `linkaudit crawl URL --resume`."""
    if args.command == "demo":
        return "`linkaudit demo` starts it again"
    words = ["linkaudit", args.command] + ([] if getattr(args, "urls", None) else
                                           [args.url or url])
    for flag, value in (("--urls", getattr(args, "urls", None)), ("--store", args.store),
                        ("--config", args.config)):
        if value:
            words += [flag, value]
    return f"`{shlex.join([*words, '--resume'])}` continues it"


def _crawl(args: argparse.Namespace, config: Config, url: str, store_path: Path,
           out: TextIO):
    """Crawl; anything but a complete crawl is a one-line error (1, or 130 when stopped)."""
    from linkaudit.crawling import CrawlError, FrontierBusyError, run_crawl

    progress = not getattr(args, "quiet", False)
    flags = _crawl_flags(args) if hasattr(args, "max_pages") else {}
    try:
        if store_path.is_file() and store_path.stat().st_size:
            storage.check_store(store_path)  # never write a crawl into another program's file
        result = run_crawl(config, url, store_path, resume=args.resume, progress=progress,
                           flags=flags)
    except FrontierBusyError as exc:
        raise CliError(str(exc), EXIT_LOCKED) from exc
    except (CrawlError, storage.StoreError) as exc:
        raise CliError(str(exc)) from exc
    print(f"crawl {result.crawl_id} ({result.state}): {result.pages} pages, "
          f"{result.links} link occurrences, stored in {store_path}", file=out)
    if result.state == "failed":
        raise CliError(f"{result.problem} (crawl {result.crawl_id} of {store_path} is marked "
                       "failed: never a baseline for comparisons)")
    if result.state != "complete":
        hint = _resume_hint(args, url)
        unreported = ", no report written" if args.command != "crawl" else ""
        if result.frontier_problem:
            raise CliError(f"{result.frontier_problem}: crawl {result.crawl_id} stopped after "
                           f"{result.pages} pages{unreported}; {hint}")
        if result.state == "running" or result.finish_reason == "shutdown":
            raise CliError(f"interrupted: crawl {result.crawl_id} stopped after "
                           f"{result.pages} pages{unreported}; {hint}", EXIT_INTERRUPTED)
        raise CliError(f"crawl {result.crawl_id} stopped before the end "
                       f"({result.finish_reason}){unreported}; {hint}")
    return result


def _check_writable(folder: Path | None) -> None:
    """Fail before crawling, not after, when the report folder cannot be written."""
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".linkaudit-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CliError(f"cannot write reports to {folder}: {exc.strerror or exc}") from exc


def cmd_crawl(args: argparse.Namespace, out: TextIO) -> int:
    crawl_site(args, out)
    return 0


def crawl_site(args: argparse.Namespace, out: TextIO):
    """`crawl` (and the Python API's linkaudit.crawl, in its child process): the settings,
    the store, its lock, the crawl; a CliError unless the crawl completed."""
    config = _config(args)
    url = _start_url(args, config)
    store_path = _store_for_url(args, config, url)
    with store_lock(store_path):
        return _crawl(args, config, url, store_path, out)


def _check_rules(rules: list[str]) -> None:
    """A --fail-on typo is found before the crawl, not after it."""
    from linkaudit.alerts import AlertRuleError, check_rules

    try:
        check_rules(rules)
    except AlertRuleError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    url = _start_url(args, config)
    _check_rules(args.fail_on)
    store_path = _store_for_url(args, config, url)
    report = _crawl_and_audit(args, config, url, store_path, out)
    return EXIT_ALERT if report.alerts(args.fail_on, sys.stderr) else 0


def _crawl_and_audit(args: argparse.Namespace, config: Config, url: str, store_path: Path,
                     out: TextIO):
    """`run`: crawl under the site's lock, then report on the crawl if it completed."""
    from linkaudit.preparing import PagePreparer

    out_dir = Path(args.out) if args.out else None
    _check_writable(out_dir)
    with store_lock(store_path):
        # The per-page part of the audit is done beside the crawl (linkaudit/preparing.py).
        preparer = PagePreparer(store_path)
        try:
            result = _crawl(args, config, url, store_path, out)
        except BaseException:
            preparer.cancel()
            raise
        # Imported once the crawl completed: a crawl that fails at its start URL says so
        # without first loading the analysis (pandas, scikit-learn, matplotlib).
        from linkaudit.auditing import audit_crawl

        phases = Phases(enabled=not args.quiet)
        try:
            return audit_crawl(config, store_path, result.crawl_id, out_dir, out,
                               prepared=preparer.finish(), progress=phases)
        finally:
            phases.close()


def cmd_worker(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.crawling import CrawlError
    from linkaudit.worker import run_worker

    try:
        result = run_worker(args.frontier, wait=args.wait)
    except CrawlError as exc:
        raise CliError(str(exc)) from exc
    print(f"worker {result.worker_id}: {result.pages} pages", file=out)
    if result.problem:
        raise CliError(result.problem)
    if result.reason == "shutdown":
        raise CliError("interrupted: the worker stopped; its requests go back to the queue",
                       EXIT_INTERRUPTED)
    return 0


def cmd_analyze(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.auditing import audit_crawl

    config = _config(args)
    store_path = _existing_store(args, config)
    with store_lock(store_path):
        crawl_id = args.crawl
        if crawl_id is None:
            with storage.opened_readonly(store_path) as conn:
                crawl_id = storage.newest_crawl(conn)
        phases = Phases(enabled=not args.quiet)
        try:
            audit_crawl(config, store_path, crawl_id, Path(args.out) if args.out else None, out,
                        progress=phases)
        finally:
            phases.close()
    return 0


def cmd_history(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.auditing import history_table

    config = _config(args)
    store_path = _existing_store(args, config)
    out.write(history_table(store_path))
    return 0


def _check_crawl_ids(old: int | None, new: int | None) -> None:
    """`diff OLD NEW` takes the older crawl first; reversed ids are refused, not swapped."""
    if (old is None) != (new is None):
        raise CliError("give both crawl ids (OLD NEW), or none for the last two complete crawls",
                       EXIT_USAGE)
    if old is not None and old == new:
        raise CliError(f"crawl {old} compared with itself: give two crawl ids", EXIT_USAGE)
    if old is not None and old > new:
        raise CliError(f"crawl ids reversed: OLD ({old}) is newer than NEW ({new}); "
                       f"`linkaudit diff {new} {old}` shows what changed since {new}", EXIT_USAGE)


def cmd_diff(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.auditing import diff_crawls

    _check_crawl_ids(args.old, args.new)
    config = _config(args)
    store_path = _existing_store(args, config)
    with store_lock(store_path):  # it may analyse crawls and store their snapshots
        diff_crawls(config, store_path, args.old, args.new,
                    Path(args.out) if args.out else None, out)
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.siteserver import serve_in_thread

    config = _config(argparse.Namespace(config=str(config_file("sites", "demo.toml")),
                                        format=args.format))
    server = serve_in_thread(data_dir("demo") / "site")
    url = server.base_url + "articles/baclofene-systeme-nerveux-central.html"
    print(f"demo site served at {server.base_url}", file=out)
    store_path = storage.default_path(REPORTS, config.site.name)
    run_args = argparse.Namespace(command="demo", resume=False, quiet=args.quiet, out=args.out)
    try:
        _crawl_and_audit(run_args, config, url, store_path, out)
    finally:
        server.shutdown()
    return 0


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.siteserver import main as serve_main

    return serve_main([args.root])
