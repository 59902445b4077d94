"""The command line's error type and exit codes."""

EXIT_ERROR = 1  # the audit could not be done (bad input, unreachable site)
EXIT_ALERT = 3  # a --fail-on rule matched
EXIT_LOCKED = 4  # another run holds the site's lock


class CliError(Exception):
    """A one-line error for the user, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code
