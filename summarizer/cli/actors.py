"""`summarizer actors OUT`: the actors of a run, one per line, with their articles and counts.

A thin layer over `summarizer.runs.actor_index`. Exit codes: 0 listed (even when no actor matches --name);
2 OUT holds no run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__: list[str] = []

SHOWN_ALIASES = 4  # more aliases are counted, not listed, so rows stay one screen wide




def actors(
    out: Annotated[Path, typer.Argument(help="A run's output folder (summarizer run ... -o OUT).",
                                        metavar="OUT", show_default=False)],
    name: Annotated[str | None, typer.Option(
        "--name", help="Only actors whose name or an alias contains this (case, accents ignored).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON, not a table.")] = False,
) -> None:
    """List every actor of a run: aliases, kinds, articles, and counts of claims, predictions and warnings.

    Names are merged ignoring titles, case, accents and transliteration; "may be": possibly one, kept apart.
    """
    from summarizer.runs.actor_index import filter_rows, load_actor_index, to_json

    rows = load_actor_index(out)
    if name is not None:
        rows = filter_rows(rows, name)
    if as_json:
        typer.echo(to_json(rows), nl=False)
        return
    if not rows:
        typer.echo(f"no actor matches {name!r}" if name else "no actors in this run", err=True)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("Actor", "Kind", "Articles", "Claims", "Predictions", "Warnings", "Also called", "May be",
                  title=f"{len(rows)} actor(s) in {out}")
    for row in rows:
        aliases = ", ".join(row.aliases[:SHOWN_ALIASES])
        if len(row.aliases) > SHOWN_ALIASES:
            aliases += f" (+{len(row.aliases) - SHOWN_ALIASES})"
        table.add_row(escape(row.name), ", ".join(row.kinds), str(len(row.articles)), str(row.claims),
                      str(row.predictions), str(row.warnings), escape(aliases),
                      escape(", ".join(row.possibly_same_as)))
    Console().print(table)
