"""What each ``linkaudit`` command does; cli.py only parses arguments."""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from linkaudit import store
from linkaudit.config import REPO_ROOT, Config, ConfigError, load_config
from linkaudit.errors import EXIT_ALERT, EXIT_LOCKED, CliError

REPORTS = Path("reports")


def _config(args: argparse.Namespace) -> Config:
    try:
        config = load_config(getattr(args, "config", None))
        if hasattr(args, "max_pages"):
            aliases = tuple(args.alias) if args.alias else None
            config = config.with_crawl(max_pages=args.max_pages, concurrency=args.concurrency,
                                       delay=args.delay, aliases=aliases)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    return config


def _start_url(args: argparse.Namespace, config: Config) -> str:
    url = args.url or config.site.start_url
    if not url:
        raise CliError("no start URL: give one, or a --config file with [site] start_url")
    return url


def _store_for_url(args: argparse.Namespace, config: Config, url: str) -> Path:
    from linkaudit.crawling import default_store

    return Path(args.store) if args.store else default_store(config, url, REPORTS)


def _existing_store(args: argparse.Namespace, config: Config) -> Path:
    """The store a command reads: --store, the --config site's, or the only one in reports/."""
    if args.store:
        path = Path(args.store)
    elif config.site.name:
        path = REPORTS / config.site.name / "crawls.sqlite"
    elif config.site.start_url:
        from linkaudit.crawling import default_store

        path = default_store(config, config.site.start_url, REPORTS)
    else:
        found = sorted(REPORTS.glob("*/crawls.sqlite"))
        if len(found) != 1:
            where = "no crawl store in reports/" if not found else \
                f"{len(found)} sites in reports/ ({', '.join(p.parent.name for p in found)})"
            raise CliError(f"{where}: pass --store FILE")
        path = found[0]
    if not path.exists():
        raise CliError(f"no crawl store at {path}")
    return path


@contextmanager
def site_lock(site_dir: Path) -> Iterator[None]:
    """Keep two runs of one site from overlapping (cron jobs that run long)."""
    try:
        site_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create {site_dir}: {exc.strerror or exc}") from exc
    try:
        handle = open(site_dir / ".lock", "w")  # noqa: SIM115 - held for the with-block
    except OSError as exc:
        raise CliError(f"cannot write to {site_dir}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise CliError(f"another linkaudit run holds {site_dir / '.lock'}", EXIT_LOCKED) from exc
    try:
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _crawl(args: argparse.Namespace, config: Config, url: str, store_path: Path,
           out: TextIO):
    from linkaudit.crawling import CrawlError, run_crawl

    progress = not getattr(args, "quiet", False)
    try:
        result = run_crawl(config, url, store_path, resume=args.resume, progress=progress)
    except (CrawlError, store.StoreError) as exc:
        raise CliError(str(exc)) from exc
    print(f"crawl {result.crawl_id} ({result.state}): {result.pages} pages, "
          f"{result.links} link occurrences, stored in {store_path}", file=out)
    if result.start_status is None:
        raise CliError(f"cannot reach the start URL {url}: {result.start_error} "
                       f"(recorded in crawl {result.crawl_id} of {store_path})")
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


def _require_complete(result) -> None:
    if result.state != "complete":
        raise CliError(f"crawl {result.crawl_id} stopped before the end ({result.state}); "
                       "no report written: `linkaudit run --resume` continues it")


def cmd_crawl(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    url = _start_url(args, config)
    store_path = _store_for_url(args, config, url)
    with site_lock(store_path.parent):
        _crawl(args, config, url, store_path, out)
    return 0


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    config = _config(args)
    url = _start_url(args, config)
    store_path = _store_for_url(args, config, url)
    report = _crawl_and_audit(args, config, url, store_path, out)
    return EXIT_ALERT if report.alerts(args.fail_on, sys.stderr) else 0


def _crawl_and_audit(args: argparse.Namespace, config: Config, url: str, store_path: Path,
                     out: TextIO):
    """`run`: crawl under the site's lock, then report on the crawl if it completed."""
    from linkaudit.auditing import audit_crawl

    out_dir = Path(args.out) if args.out else None
    _check_writable(out_dir)
    with site_lock(store_path.parent):
        result = _crawl(args, config, url, store_path, out)
        _require_complete(result)
        return audit_crawl(config, store_path, result.crawl_id, out_dir, out)


def cmd_analyze(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.auditing import audit_crawl

    config = _config(args)
    store_path = _existing_store(args, config)
    audit_crawl(config, store_path, args.crawl, Path(args.out) if args.out else None, out)
    return 0


def cmd_history(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.auditing import history_table

    config = _config(args)
    store_path = _existing_store(args, config)
    out.write(history_table(store_path))
    return 0


def cmd_diff(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.auditing import diff_crawls

    config = _config(args)
    store_path = _existing_store(args, config)
    diff_crawls(config, store_path, args.old, args.new, Path(args.out) if args.out else None, out)
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.siteserver import serve_in_thread

    config = _config(argparse.Namespace(config=str(REPO_ROOT / "config/sites/demo.toml")))
    server = serve_in_thread(REPO_ROOT / "demo" / "site")
    url = server.base_url + "articles/baclofene-systeme-nerveux-central.html"
    print(f"demo site served at {server.base_url}", file=out)
    store_path = REPORTS / config.site.name / "crawls.sqlite"
    run_args = argparse.Namespace(resume=False, quiet=args.quiet, out=args.out)
    try:
        _crawl_and_audit(run_args, config, url, store_path, out)
    finally:
        server.shutdown()
    return 0


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from linkaudit.siteserver import main as serve_main

    return serve_main([args.root])
