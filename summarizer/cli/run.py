"""`summarizer run` (a batch over files and folders) and `summarizer show` (one result, readably).

A thin layer: options become a `asummarize_folder` call, its report becomes an exit code. The API key is
passed on, never printed.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markdown import Markdown

from summarizer.article.model import Article, printable_path
from summarizer.article.readers import DEFAULT_MAX_BYTES, iter_file
from summarizer.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, fail_usage
from summarizer.errors import ConfigurationError

if TYPE_CHECKING:
    from summarizer.runs.batch.lines import BatchOptions

__all__: list[str] = []

RUN_HELP = "\n\n".join([
    "Summarise every article in PATHS into the folder OUT, concurrently and resumably.",
    "\b\nExamples:\n"
    "  summarizer run articles/ -o out/              # a folder, recursively\n"
    "  summarizer run a.txt b.html -o out/           # files\n"
    "  cat story.txt | summarizer run - -o out/      # one article from stdin\n"
    "  summarizer run news/ -o out/ --include '*.html' --concurrency 8 --rpm 500\n"
    "  summarizer run news/ -o out/ --dry-run        # estimate tokens and cost\n"
    "  summarizer run news/ -o out/ --via batch-api  # OpenAI's Batch API: about half the price, within 24 h\n"
    "  summarizer show out/afghan.json               # read one result (news/afghan.txt)",
    "Inputs: .txt/.md (front matter or a 'date YYYY-MM-DD' first line), .json (one article), .jsonl (one "
    "article per line), .html/.htm. Hidden, unsupported and README-style files are skipped and listed.",
    "OUT gets <name>.json and <name>.md per article, named after its input (news/asia/kabul.txt -> "
    "asia/kabul.json; line 3 of feed.jsonl -> feed-3.json), summaries.jsonl, actors.csv, claims.csv, "
    "predictions.csv, warnings.csv, index.md, failures.jsonl and actors_index.csv/.json (one row per actor "
    "across the run; list it with: summarizer actors OUT), each replaced atomically. OUT describes exactly the "
    "inputs of this run: files of inputs that are gone are removed.",
    "Reruns: results are stored in OUT/.summarizer/store.sqlite under (article text, title and date, prompt, "
    "schema version, model, parameters), so a rerun asks the model only for articles not stored yet, and a run "
    "killed at any point resumes where it stopped. Stored failures are not retried unless --retry-failed; "
    "--force recomputes all.",
    "Backend: --model/--base-url, else OPENAI_API_KEY / OPENAI_BASE_URL (and SUMMARIZER_MODEL), else the "
    "embedded offline model.",
    "Context: articles are sized to --context-tokens, else to the window the server reports (llama.cpp /props, "
    "vLLM /v1/models, Ollama /api/show, LM Studio /api/v0/models), else 100,000 tokens; each result's "
    "provenance says which window was used and where it came from (summarizer doctor shows it too).",
    "Deadlines: every request to a server must be answered completely within --timeout seconds (default "
    "120), from sending it to the last byte, however slowly the server trickles; one that is not is retried "
    "once. So a server that hangs or trickles costs an article at most 2 x --timeout plus about a second of "
    "backoff before it is recorded as failed: about 4 minutes at the default, 3 s with --timeout 1.",
    "\b\nExit codes:\n"
    "  0  every article was summarised (now or by an earlier run)\n"
    "  1  some articles failed or were not started (listed; details in OUT/failures.jsonl)\n"
    "  2  usage or configuration error (no backend, bad option, key or model rejected by the server)",
])

_BACKEND, _LIMITS, _RERUN = "Backend", "Limits and budget", "Reruns"




def run(
    paths: Annotated[list[str], typer.Argument(help="Files or folders; '-' reads one article from stdin.",
                                               metavar="PATHS", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).",
                                      show_default=False)],
    include: Annotated[list[str] | None, typer.Option(
        help="Only files matching this glob, relative to the folder given (repeatable): '*.html'.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        help="Skip files matching this glob (repeatable).")] = None,
    model: Annotated[str | None, typer.Option(
        help="Model name, or 'embedded'.", rich_help_panel=_BACKEND)] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL (Ollama, vLLM, ...).",
                                                 rich_help_panel=_BACKEND)] = None,
    api_key: Annotated[str | None, typer.Option(
        help="API key. Discouraged: it lands in shell history; set OPENAI_API_KEY instead.",
        rich_help_panel=_BACKEND)] = None,
    mode: Annotated[str | None, typer.Option(help="instructor mode: tools, json, md_json or json_schema.",
                                             rich_help_panel=_BACKEND)] = None,
    context_tokens: Annotated[int | None, typer.Option(
        help="The model's context window in tokens; longer articles are split into chunks to fit. Default: what "
             "the server reports (llama.cpp, vLLM, Ollama, LM Studio), else 100,000 (16,384 for the embedded "
             "model). Part of the stored results' key.",
        rich_help_panel=_BACKEND, show_default=False)] = None,
    concurrency: Annotated[int | None, typer.Option(
        help="Articles in flight at once (default 4; 1 for the embedded model).",
        rich_help_panel=_LIMITS)] = None,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute, retries included.",
                                              rich_help_panel=_LIMITS)] = None,
    tpm: Annotated[float | None, typer.Option(help="Tokens per minute (estimated as characters / 3).",
                                              rich_help_panel=_LIMITS)] = None,
    max_cost: Annotated[float | None, typer.Option(
        help="Start no new article once this many USD (estimated, failed attempts included) are spent.",
        rich_help_panel=_LIMITS)] = None,
    max_tokens: Annotated[int | None, typer.Option(
        help="Start no new article once this many tokens (failed attempts included) are spent.",
        rich_help_panel=_LIMITS)] = None,
    prices: Annotated[Path | None, typer.Option(
        help='Price table JSON: {"model": {"input": USD, "output": USD}} per 1M tokens, over the defaults.',
        rich_help_panel=_LIMITS, show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run",
        help="Estimate tokens (characters / 3) and cost; call nothing, write nothing, need no key.",
        rich_help_panel=_LIMITS)] = False,
    max_bytes: Annotated[int, typer.Option(help="Refuse input files larger than this.",
                                           rich_help_panel=_LIMITS)] = DEFAULT_MAX_BYTES,
    timeout: Annotated[float | None, typer.Option(
        help="Deadline of each model request in seconds, from sending it to the complete answer (default 120). "
             "A timed-out request is retried once, so a hung server costs an article at most 2 x this plus "
             "about 1 s. Not part of the stored results' key.",
        rich_help_panel=_LIMITS, show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Summarise every article again, even if stored.",
                                        rich_help_panel=_RERUN)] = False,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Retry articles whose stored result is a failure.",
        rich_help_panel=_RERUN)] = False,
    retry_wait: Annotated[float | None, typer.Option(hidden=True, help="First retry wait, seconds.")] = None,
    via: Annotated[str, typer.Option(
        help="realtime: one request per article now; batch-api: the provider's Batch API (OpenAI), polled until "
             "done; rerunning a killed run resumes polling.", rich_help_panel=_BACKEND)] = "realtime",
    max_realtime_fallback: Annotated[int, typer.Option(
        help="With --via batch-api: re-run up to N articles whose batch lines failed (error, non-200, invalid "
             "or ungrounded) through the realtime path with its re-ask; the rest are recorded as failures.",
        rich_help_panel=_BACKEND)] = 100,
    batch_poll: Annotated[float, typer.Option(hidden=True, help="First Batch API poll wait, seconds.")] = 5.0,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Log every request, retry and re-ask to stderr (the API key is redacted).")] = False,
) -> None:
    """Options in, one `summarize_folder` call, its report out as a summary and an exit code."""
    _log_to_stderr(verbose, [api_key or "", os.environ.get("OPENAI_API_KEY", "")])
    from summarizer.cli.display import print_summary, reporter_for
    from summarizer.extract.plan import GenerationParams
    from summarizer.models.retry import RetryPolicy
    from summarizer.runs.folder import summarize_folder
    from summarizer.runs.pricing import PriceTable

    inputs: list[str | Article] = list(paths)
    try:
        if paths.count("-") > 1:
            raise ConfigurationError("'-' (stdin) can be given only once")
        missing = [p for p in paths if p != "-" and not os.path.lexists(p)]  # a broken link is the file's error
        if missing:
            raise ConfigurationError(f"no such file or folder: {', '.join(map(printable_path, missing))}")
        if "-" in paths:
            inputs[paths.index("-")] = _stdin_article(max_bytes)
        if timeout is not None and not timeout > 0:
            raise ConfigurationError("--timeout must be a number of seconds above 0")
        if context_tokens is not None and context_tokens < 1:
            raise ConfigurationError("--context-tokens must be a number of tokens above 0")
        settings: dict[str, Any] = {"timeout": timeout, "context_tokens": context_tokens}
        given = {name: value for name, value in settings.items() if value is not None}
        params = GenerationParams(**given) if given else None
        policy = None if retry_wait is None else dataclasses.replace(RetryPolicy(), initial_wait=retry_wait)
        batch_api = _batch_options(max_realtime_fallback, batch_poll) if via == "batch-api" else None
        report = summarize_folder(
            inputs, out, model=model, base_url=base_url, api_key=api_key, mode=mode, policy=policy, params=params,
            include=include or (), exclude=exclude or (), concurrency=concurrency, rpm=rpm, tpm=tpm,
            force=force, retry_failed=retry_failed, max_cost=max_cost, max_tokens=max_tokens, dry_run=dry_run,
            prices=PriceTable.from_file(prices) if prices else None, max_bytes=max_bytes,
            reporter=reporter_for(Console(stderr=True, soft_wrap=True)), via=via, batch_api=batch_api,
        )
    except KeyboardInterrupt:
        typer.secho("interrupted: finished articles are stored; run the same command to resume", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    print_summary(Console(soft_wrap=True), report)
    if report.rejected:
        raise fail_usage(report.stopped or "the server rejected the request")
    raise typer.Exit(EXIT_OK if report.all_ok else EXIT_FAILED)


def _batch_options(max_realtime_fallback: int, poll: float) -> BatchOptions:
    """`--via batch-api` settings; batch status changes are printed to stderr as they happen."""
    from summarizer.runs.batch.lines import BatchOptions

    if max_realtime_fallback < 0:
        raise ConfigurationError("--max-realtime-fallback must be 0 or more")
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    return BatchOptions(max_realtime_fallback=max_realtime_fallback, poll_interval=poll,
                        notify=lambda message: console.print(message, markup=False))


def _log_to_stderr(verbose: bool, secrets: list[str]) -> None:
    """Library log lines to stderr through a filter that redacts the key: DEBUG with --verbose, else warnings.

    The filter also goes on handlers already installed (OPENAI_LOG=debug makes the openai SDK add one).
    Without --verbose instructor is quiet: it logs every failed call at ERROR, which the batch already reports
    once per article, with its reason.
    """
    import logging

    from summarizer.redact import RedactingFilter

    root, redacting = logging.getLogger(), RedactingFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("summarizer-cli")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for installed in [h for h in root.handlers if h.get_name() == "summarizer-cli"]:
        root.removeHandler(installed)  # run() called again in one process (tests): one handler, not two
    root.addHandler(handler)
    for installed in root.handlers:
        installed.addFilter(redacting)
    if verbose:
        for name in ("summarizer", "openai", "instructor", "httpx2"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    else:
        logging.getLogger("instructor").setLevel(logging.CRITICAL)


def _stdin_article(max_bytes: int) -> Article:
    """One article from stdin, read like a .txt file (front matter, date header, any encoding)."""
    data = sys.stdin.buffer.read(max_bytes + 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stdin.txt"
        path.write_bytes(data)
        found = list(iter_file(path, max_bytes=max_bytes))
    if len(found) != 1 or not isinstance(found[0], Article):
        problem = str(found[0]).replace(str(path), "stdin") if found else "no article"
        raise ConfigurationError(problem)
    return found[0].model_copy(update={"path": "-"})


def show(
    result: Annotated[Path, typer.Argument(help="A result file, OUT/<name>.json.", show_default=False)],
) -> None:
    """Show one result readably: summary, actors, then claims, predictions and warnings with evidence."""
    from summarizer.runs.render import markdown_report
    from summarizer.schema import ArticleSummary

    try:
        summary = ArticleSummary.model_validate_json(result.read_bytes())
    except OSError as error:
        raise fail_usage(f"cannot read {result}: {error.strerror or error}") from None
    except ValidationError as error:
        raise fail_usage(f"{result} is not a summarizer result: {error.errors()[0]['msg']}") from None
    Console().print(Markdown(markdown_report(summary)))
