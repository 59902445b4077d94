"""The command line's error type and exit codes (README.md, docs/scheduling.md)."""

EXIT_ERROR = 1  # the audit could not be done (unreachable site, unreadable store, failed crawl)
EXIT_USAGE = 2  # bad arguments or settings: nothing was done
EXIT_ALERT = 3  # a --fail-on rule matched
EXIT_LOCKED = 4  # another run holds the store's lock, or another crawl runs on the --frontier
EXIT_PARTIAL = 5  # a partial audit: a stage failed, the other reports were written
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT) or SIGTERM; resumable


class CliError(Exception):
    """A one-line error for the user, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code
