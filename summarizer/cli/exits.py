"""Exit codes, and the one map from the library's typed errors to them.

0 all ok; 1 some articles failed (listed in failures.jsonl); 2 usage or configuration error; 130 interrupted.
Commands let `SummarizerError`s through; `summarizer.cli.main` prints them and exits with `exit_code(error)`.
"""

from __future__ import annotations

import typer

from summarizer.errors import ConfigurationError, InputError, SummarizerError

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "exit_code", "fail_usage", "report_error"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C

# Most specific first: a configuration problem or an unreadable command-line input is the user's to fix (2);
# anything else the library gave up on is a failure (1).
_CODES: tuple[tuple[type[SummarizerError], int], ...] = (
    (ConfigurationError, EXIT_USAGE),
    (InputError, EXIT_USAGE),
    (SummarizerError, EXIT_FAILED),
)


def exit_code(error: SummarizerError) -> int:
    """The exit code a command ends with when `error` reaches the command line."""
    return next(code for kind, code in _CODES if isinstance(error, kind))


def report_error(message: str) -> None:
    """Print an error for a person, on stderr."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)


def fail_usage(message: str) -> typer.Exit:
    """Print a usage error found by the command itself and return the exit to raise."""
    report_error(message)
    return typer.Exit(EXIT_USAGE)
