"""`summarizer batch export` / `summarizer batch import`: the offline hand-off to `vllm run-batch`.

A thin layer over `batch_export`: options in, one library call, a summary and an exit code out.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from summarizer.cli.exits import EXIT_FAILED, EXIT_OK, fail_usage

__all__: list[str] = []

batch_app = typer.Typer(
    name="batch", no_args_is_help=True,
    help="Hand the requests to a batch engine and take its results back (for `--via batch-api`, see run).\n\n"
         "\b\nExample (self-hosted vLLM):\n"
         "  summarizer batch export articles/ requests.jsonl --model Qwen/Qwen2.5-7B-Instruct\n"
         "  vllm run-batch -i requests.jsonl -o results.jsonl --model Qwen/Qwen2.5-7B-Instruct\n"
         "  summarizer batch import results.jsonl -o out/",
)




def _model(model: str | None) -> str:
    """The model a run would use, so export and run agree on the store key."""
    from summarizer.models.resolve import DEFAULT_OPENAI_MODEL

    return model or os.environ.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL


@batch_app.command("export")
def export(
    source: Annotated[Path, typer.Argument(help="A file or folder of articles.", metavar="SOURCE", show_default=False)],
    requests: Annotated[Path, typer.Argument(help="The request file to write (JSONL).", metavar="REQUESTS",
                                                   show_default=False)],
    model: Annotated[str | None, typer.Option(help="Model name the engine serves (the body's \"model\").")] = None,
    context_tokens: Annotated[int | None, typer.Option(
        help="The model's context window; longer articles are split into chunks to fit.")] = None,
    include: Annotated[list[str] | None, typer.Option(help="Only files matching this glob (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Skip files matching this glob (repeatable).")] = None,
) -> None:
    """Write one request line per article (per chunk of a long one) for `vllm run-batch -i`, plus a sidecar
    (`<name>.summarizer.jsonl`) that `batch import` joins the results to. Exit 1 if some inputs failed."""
    from summarizer.extract.plan import GenerationParams
    from summarizer.runs.batch.export import export_requests

    if not source.exists():
        raise fail_usage(f"no such file or folder: {source}")
    name = _model(model)
    report = export_requests([source], requests, name, GenerationParams(context_tokens=context_tokens),
                             include=include or (), exclude=exclude or ())
    console = Console(soft_wrap=True, highlight=False)
    console.print(f"{report.lines} request line(s) for {report.articles} article(s) → {report.requests}",
                  markup=False)
    console.print(f"sidecar (keep it beside the file): {report.sidecar}", markup=False)
    for failure in report.failures:
        console.print(f"failed: {failure.path or failure.article_id}: {failure.reason}: {failure.message}",
                      markup=False)
    for skipped in report.skipped:
        console.print(f"skipped: {skipped.path}: {skipped.reason}", markup=False)
    console.print(f"next: vllm run-batch -i {requests} -o results.jsonl --model {name}\n"
                  f"then: summarizer batch import results.jsonl -o OUT", markup=False)
    raise typer.Exit(EXIT_FAILED if report.failures else EXIT_OK)


@batch_app.command("import")
def import_(
    results: Annotated[Path, typer.Argument(help="The results file (vllm run-batch -o, or a Batch API output).",
                                            metavar="RESULTS", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).",
                                      show_default=False)],
    requests: Annotated[Path | None, typer.Option(
        help="The exported request file; its sidecar says which article each line is. Default: the only "
             "sidecar beside RESULTS.", show_default=False)] = None,
    articles: Annotated[Path | None, typer.Option(
        help="Read the articles from this file or folder instead of a sidecar (give the export's --model).",
        show_default=False)] = None,
    model: Annotated[str | None, typer.Option(help="With --articles: the model the export named.")] = None,
    max_realtime_fallback: Annotated[int, typer.Option(
        help="Re-run up to N articles whose lines failed (error, non-200, invalid or ungrounded) through the "
             "realtime API with its re-ask; needs --base-url or OPENAI_API_KEY. 0: record them as failures.")] = 0,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server for the realtime fallback.")] = None,
    api_key: Annotated[str | None, typer.Option(
        help="API key for the fallback. Discouraged: set OPENAI_API_KEY instead.")] = None,
    concurrency: Annotated[int, typer.Option(help="Realtime fallbacks in flight at once.")] = 4,
) -> None:
    """Validate every result line like a realtime answer and write the same outputs as `summarizer run`.

    Exit codes: 0 every article was summarised; 1 some failed or had no line (see OUT/failures.jsonl);
    2 usage or configuration error."""
    from summarizer.cli.display import print_summary, reporter_for
    from summarizer.extract.summarizer import Summarizer
    from summarizer.runs.batch.export import find_sidecar, import_batch, load_articles, load_sidecar
    from summarizer.runs.report import BatchReport

    if not results.is_file():
        raise fail_usage(f"no such results file: {results}")
    if articles is not None:
        exported = load_articles([articles], _model(model))
    else:
        exported = load_sidecar(find_sidecar(results, requests))
    fallback = None
    if max_realtime_fallback > 0:
        fallback = Summarizer(model=exported.model, base_url=base_url, api_key=api_key, mode="tools",
                              params=exported.params)

    async def ingest() -> tuple[BatchReport, int]:
        try:
            return await import_batch(
                results, out, exported, fallback=fallback, max_realtime_fallback=max_realtime_fallback,
                concurrency=concurrency, reporter=reporter_for(Console(stderr=True, soft_wrap=True)))
        finally:
            if fallback is not None:
                await fallback.aclose()

    report, unknown = asyncio.run(ingest())
    print_summary(Console(soft_wrap=True), report)
    if unknown:
        typer.secho(f"{unknown} line(s) of {results} matched no exported request and were ignored", err=True)
    raise typer.Exit(EXIT_OK if report.all_ok else EXIT_FAILED)
