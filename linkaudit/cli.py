"""The ``linkaudit`` command line: thin wrappers over the library.

Errors are one line on stderr and a non-zero exit code:
1 the audit could not be done (unreachable site, failed crawl, unreadable store),
2 bad arguments or settings, found before any work (options, values, --fail-on rules,
start URL, config file, frontier URL), 3 a --fail-on alert rule matched, 4 another run
holds the store's lock (or another crawl runs on the --frontier), 130 stopped by Ctrl-C
(the crawl can be resumed). `linkaudit worker` exits 0 when the crawl is over, 1 when the
frontier cannot be reached or is lost, or no crawl runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from typing import Any, NoReturn, TextIO

from linkaudit import __version__
from linkaudit.errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError
from linkaudit.writers import TABLE_FORMATS

EXIT_CODES = """exit codes (every error is one line on stderr):
  0    the audit completed (whatever it found)
  1    it could not be done: the start URL gave no HTML page, the store cannot be read,
       a folder cannot be written; `worker`: the frontier is lost or runs no crawl
  2    bad arguments or settings, found before any work
  3    a --fail-on rule matched
  4    another command holds the store's lock, or another crawl runs on the --frontier
  5    a partial audit: one analysis stage or report failed (errors.log has the traceback)
  130  stopped by Ctrl-C; the crawl can be resumed with --resume
"""

EXAMPLES = """examples:
  linkaudit run https://www.example.com/articles/baclofene.html
  linkaudit crawl --urls urls.txt --follow 1
  linkaudit run https://www.example.com/ --exclude '/tag/' --include '^https://www.example.com/blog/'
  linkaudit run --config config/sites/demo.toml --fail-on new:broken_link
  linkaudit crawl https://www.example.com/ --max-pages 500 --resume
  linkaudit crawl https://www.example.com/ --frontier redis://10.0.0.5:6379/0
  linkaudit worker --frontier redis://10.0.0.5:6379/0
  linkaudit analyze --store reports/www.example.com/crawls.sqlite
  linkaudit history --store reports/www.example.com/crawls.sqlite
  linkaudit diff --store reports/www.example.com/crawls.sqlite
  linkaudit demo
"""


class Parser(argparse.ArgumentParser):
    """argparse with the one-line error contract: ``linkaudit: error: ...``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"linkaudit: error: {message} (see `{self.prog} --help`)\n")


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _at_least_zero(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, not {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, not {text!r}")
    return value


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="settings file (TOML), e.g. "
                   "config/sites/<name>.toml; see docs/configuration.md")


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="FILE",
                   help="crawl store (default: reports/<site>/crawls.sqlite)")


def _add_crawl_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", nargs="?", help="start URL (default: [site] start_url of --config)")
    _add_store(p)
    _add_config(p)
    p.add_argument("--urls", metavar="FILE",
                   help="list mode: crawl the URLs of FILE (one a line, # comments) instead "
                        "of a site from its start URL")
    p.add_argument("--follow", type=int, choices=(0, 1), metavar="LEVELS",
                   help="list mode: 0 fetches only the listed URLs (default), 1 also the "
                        "pages they link to")
    p.add_argument("--include", action="append", metavar="REGEX",
                   help="fetch only URLs this regular expression is found in (repeatable; "
                        "the start URL is always fetched)")
    p.add_argument("--exclude", action="append", metavar="REGEX",
                   help="do not fetch URLs this regular expression is found in (repeatable); "
                        "they are still recorded as links")
    p.add_argument("--sitemap-only", action="store_true", default=None,
                   help="crawl the URLs the sitemaps list (robots.txt, /sitemap.xml) and "
                        "follow no links")
    p.add_argument("--check-external", action=_CrawlSwitch, dest="check_external",
                   help="request each external link target once (HEAD, then GET when "
                        "refused) and report the broken ones; --no-check-external: do not")
    p.add_argument("--max-pages", type=_at_least_one, metavar="N", help="stop after N pages")
    p.add_argument("--max-depth", type=_at_least_zero, metavar="N",
                   help="follow links up to N clicks from the start URL")
    p.add_argument("--user-agent", metavar="TEXT",
                   help="the User-Agent sent and matched against robots.txt")
    p.add_argument("--concurrency", type=_at_least_one, metavar="N",
                   help="parallel requests to the site")
    p.add_argument("--delay", type=_seconds, metavar="SECONDS",
                   help="seconds between requests to the site")
    p.add_argument("--alias", action="append", metavar="HOST",
                   help="a production host this site is a copy of (repeatable): its canonicals, "
                        "links and sitemaps are read as this site's")
    p.add_argument("--resume", action="store_true",
                   help="continue the site's last unfinished crawl instead of starting anew, "
                        "with the settings it started with (flags given now replace them)")
    p.add_argument("--frontier", type=_frontier, metavar="URL",
                   help="redis://HOST:PORT/DB: keep the crawl's queue in Redis so that "
                        "`linkaudit worker` processes join it (docs/distributed.md)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


class _CrawlSwitch(argparse.BooleanOptionalAction):
    """A ``[crawl]`` true/false setting as a flag pair (``--check-external`` and
    ``--no-check-external``): the value goes with the crawl settings the command line
    gives (``args.options``, as the Python API's keywords do); absent, the file decides."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, **kwargs)
        self.setting = dest

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if option_string in self.option_strings:
            given = {**getattr(namespace, "options", {}),
                     self.setting: not option_string.startswith("--no-")}
            namespace.options = given


def _frontier(text: str) -> str:
    from linkaudit.crawler.options import check_frontier_url

    try:
        return check_frontier_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR",
                   help="report folder (default: reports/<site>/<crawl-id>/)")
    p.add_argument("--format", choices=TABLE_FORMATS, metavar="FORMAT",
                   help="how the tables are written: csv (default), csv.gz, parquet (needs "
                        "pyarrow) or jsonl (JSON Lines); [report] format")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="linkaudit",
        description="Crawl a site and audit its internal links: link score, broken links, "
                    "redirects, headings, near-duplicates, the topical relevance of every link, "
                    "promotional links and within-page coherence.",
        epilog=EXIT_CODES + "\n" + EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"linkaudit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="crawl a site, then write the audit reports",
                       description="Crawl the site URL belongs to, record the crawl in the "
                       "site's store, analyse it and write every report.",
                       epilog="example: linkaudit run https://www.example.com/ --out audit/")
    _add_crawl_flags(p)
    _add_out(p)
    p.add_argument("--fail-on", action="append", default=[], metavar="RULE",
                   help="exit 3 when RULE matches, e.g. new:broken_link, off_topic_link>5, "
                        "error>0 (repeatable; see docs/scheduling.md)")

    p = sub.add_parser("crawl", help="crawl a site into its crawl store (no reports)",
                       description="Crawl the site URL belongs to into its crawl store.",
                       epilog="example: linkaudit crawl https://www.example.com/ --max-pages 500")
    _add_crawl_flags(p)

    p = sub.add_parser("worker", help="join a crawl running on a Redis frontier",
                       description="Fetch and extract pages for the crawl running on the "
                       "frontier, with that crawl's settings; its records go to the "
                       "coordinator's store. Exits when the crawl is over.",
                       epilog="example: linkaudit worker --frontier redis://10.0.0.5:6379/0")
    p.add_argument("--frontier", type=_frontier, metavar="URL", required=True,
                   help="the frontier the crawl was started with (redis://HOST:PORT/DB)")
    p.add_argument("--wait", type=_seconds, metavar="SECONDS", default=60.0,
                   help="how long to wait for a crawl to start on the frontier (default 60)")

    p = sub.add_parser("analyze", help="write the audit reports of a stored crawl",
                       description="Analyse a crawl from the store and write the reports.",
                       epilog="example: linkaudit analyze 3 --store reports/site/crawls.sqlite")
    p.add_argument("crawl", nargs="?", type=int,
                   help="crawl id (default: the newest crawl that did not fail)")
    _add_store(p)
    _add_config(p)
    _add_out(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("history", help="list the crawls in a site's store",
                       description="List the crawls of a site with their headline figures.",
                       epilog="example: linkaudit history --store reports/site/crawls.sqlite")
    _add_store(p)
    _add_config(p)

    p = sub.add_parser("diff", help="what changed between two crawls",
                       description="Compare two crawls (default: the last two complete ones) "
                       "and write changes.csv. OLD must be the older crawl.",
                       epilog="example: linkaudit diff 3 4 --store reports/site/crawls.sqlite")
    p.add_argument("old", nargs="?", type=int, help="older crawl id")
    p.add_argument("new", nargs="?", type=int, help="newer crawl id")
    _add_store(p)
    _add_config(p)
    _add_out(p)

    p = sub.add_parser("demo", help="audit the bundled demo site, served on 127.0.0.1",
                       description="Serve demo/site on 127.0.0.1 (a port the OS picks) and run "
                       "a full audit of it.", epilog="example: linkaudit demo --out reports/demo")
    _add_out(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("serve", help="serve a folder of static pages on 127.0.0.1",
                       description="Serve a site folder on 127.0.0.1 and print its URL.",
                       epilog="example: linkaudit serve demo/site")
    p.add_argument("root", help="site folder")
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        args = build_parser().parse_args(argv)  # --help, --version, usage errors
    from linkaudit import commands
    from linkaudit.storage import StoreError

    handler = getattr(commands, f"cmd_{args.command}")
    try:
        return handler(args, stdout)
    except CliError as exc:
        print(f"linkaudit: error: {exc}", file=stderr)
        return exc.code
    except StoreError as exc:
        print(f"linkaudit: error: {exc}", file=stderr)
        return 1
    except KeyboardInterrupt:
        print("linkaudit: interrupted", file=stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
