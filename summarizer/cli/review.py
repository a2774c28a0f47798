"""`summarizer review OUT`: (re)build OUT/review.html from OUT's results and print its path.

`summarizer run` writes the page at the end of every run; this command rebuilds it (after a run of an older
version, or to refresh it) without calling a model. It takes OUT's lock, so it never writes while a run does.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli.exits import fail_usage

__all__ = ["review"]


def review(
    out: Annotated[Path, typer.Argument(help="The output folder of a `summarizer run`.")],
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
) -> None:
    """Rebuild OUT/review.html (check each item in one click, export verdicts as gold) and print its path."""
    from summarizer.runs.output import OutputFolder
    from summarizer.runs.review import results_in_folder, write_review

    if not out.is_dir():
        raise fail_usage(f"{out}: no such folder; run `summarizer run ... -o {out}` first")
    results = results_in_folder(out)
    if not results:
        raise fail_usage(f"{out} holds no results; run `summarizer run ... -o {out}` first")
    with OutputFolder(out) as folder:
        path = write_review(folder, results)
    typer.echo(str(path))
    if open_page:
        webbrowser.open(path.resolve().as_uri())
