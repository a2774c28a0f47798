"""`summarizer eval`: score a run's outputs against the hand-made gold set and print the table.

Thin layer over `summarizer.eval.metrics` (metrics) and `summarizer.eval.baseline` (the naive baseline).
Exit codes: 0 the measurement ran, whatever the numbers; 2 usage or configuration error (bad gold, missing
article, no backend for the baseline).
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from summarizer.cli.exits import fail_usage

__all__ = ["report_rows"]


class BaselineName(StrEnum):
    """Baselines `--baseline` knows."""

    naive = "naive"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def report_rows(totals: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The table as (metric, value, counts) rows, shared by the terminal table and `--markdown`."""
    a = totals["actors"]
    rows = [
        ("actors precision", _pct(a["precision"]), f"{a['matched']}/{a['predicted']} predicted"),
        ("actors recall", _pct(a["recall"]), f"{a['matched']}/{a['gold']} gold"),
        ("actors F1", _pct(a["f1"]), ""),
    ]
    for kind in ("claims", "predictions", "warnings"):
        t = totals[kind]
        rows += [
            (f"{kind} recall", _pct(t["recall"]), f"{t['matched']}/{t['gold']} gold"),
            (f"{kind} precision", _pct(t["precision"]), f"{t['matched']}/{t['predicted']} predicted"),
            (f"{kind} attribution", _pct(t["attribution"]), f"{t['attributed']}/{t['matched']} matched"),
        ]
    any_kind, tf, gr, run = totals["any_kind"], totals["timeframe"], totals["grounding"], totals["run"]
    rejected = sum(totals[k]["polarity_rejected"] for k in ("claims", "predictions", "warnings"))
    cost = run["cost_per_article_usd"]
    return [
        *rows,
        ("any-kind item recall", _pct(any_kind["recall"]), f"{any_kind['matched']}/{any_kind['gold']} gold"),
        ("any-kind item precision", _pct(any_kind["precision"]),
         f"{any_kind['matched']}/{any_kind['predicted']} predicted (right: matches a gold item of any kind)"),
        ("any-kind attribution", _pct(any_kind["attribution"]),
         f"{any_kind['attributed']}/{any_kind['matched']} matched"),
        ("kept out by polarity check", str(rejected), "gold items overlapped only by opposite polarity"),
        ("timeframe accuracy (±3 days)", _pct(tf["accuracy"]),
         f"{tf['correct']}/{tf['matched']} matched, {tf['dated']} dated in gold"),
        ("grounding validity", _pct(gr["validity"]),
         f"{gr['grounded']}/{gr['items']} items; {gr['spans'] - gr['bad']}/{gr['spans']} spans valid"),
        ("first-attempt validity", _pct(run["first_attempt_valid"]),
         f"of {run['with_output'] + len(run['failed'])} articles tried"
         + (f" ({len(run['failed'])} failed)" if run["failed"] else "")),
        ("attempts per article", _num(run["attempts_per_article"], 2), ""),
        ("tokens per article", _num(run["tokens_per_article"], 0),
         f"{run['prompt_tokens']:,} prompt + {run['completion_tokens']:,} completion in all"),
        ("cost per article", "n/a" if cost is None else f"${cost:.5f}", "estimate from summarizer.runs.pricing"),
        ("articles with output", f"{run['with_output']}/{run['articles']}",
         f"missing: {', '.join(run['missing'])}" if run["missing"] else ""),
        *_verification_rows(totals.get("verification")),
    ]


def _verification_rows(verification: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """Per faithfulness check (`grounding/verify.py`): items dropped, answers re-asked; "—" when no result
    recorded them."""
    if verification is None:  # a report written before verification existed
        return []
    n = verification["articles"]
    recorded = f"over {n} article(s) with a verification record" if n else "no result records verification"
    rows = [(f"dropped by {check} check", str(count) if n else "—", f"items, {recorded}")
            for check, count in verification["dropped"].items()]
    rows += [(f"re-asked for {check}", str(count) if n else "—", f"answers, {recorded}")
             for check, count in verification["reasked"].items()]
    return rows


def _print_table(label: str, rows: list[tuple[str, str, str]], markdown: bool) -> None:
    if markdown:
        typer.echo(f"| metric | {label} | counts |\n|---|---|---|")
        for row in rows:
            typer.echo("| " + " | ".join(row) + " |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"summarizer eval · {label}")
    table.add_column("metric")
    table.add_column(label, justify="right")
    table.add_column("counts")
    for metric, value, counts in rows:
        style = "red" if metric == "grounding validity" and value not in ("100.0 %", "—") else None
        table.add_row(metric, value, counts, style=style)
    Console().print(table)


def eval_command(
    gold_dir: Annotated[Path, typer.Argument(help="Folder of gold *.json files (fixtures/gold/README.md), or "
                                        "the file review.html exports (review-gold.json).")],
    out_dir: Annotated[Path, typer.Argument(help="Folder with one <article_id>.json ArticleSummary each.")],
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Where to write the report (default OUT_DIR/eval.json).")] = None,
    articles: Annotated[Path | None, typer.Option(
        "--articles", help="Folder of the annotated articles (default: GOLD_DIR/../articles).")] = None,
    baseline: Annotated[BaselineName | None, typer.Option(
        "--baseline", help="OUT_DIR holds baseline outputs; gold articles with neither an output nor a recorded "
        "failure there are run first (resumable; delete OUT_DIR/failures.jsonl to retry failures).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Baseline model, or 'embedded'.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="instructor mode: tools, json, md_json…")] = None,
    prices: Annotated[Path | None, typer.Option(
        "--prices", help='Price overrides, {"model": {"input": usd, "output": usd}} per 1M tokens.')] = None,
    max_tokens: Annotated[int | None, typer.Option(
        "--max-tokens", min=1, help="The baseline's answer budget per article (default: the library's, 4096).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table instead.")] = False,
) -> None:
    """Score OUT_DIR against the gold annotations in GOLD_DIR; print a table and write JSON."""
    from summarizer.eval.metrics import evaluate_dir
    from summarizer.runs.pricing import PriceTable

    label = baseline.value if baseline else "ours"
    if baseline is not None:  # runs the gold articles without an output yet (none when all are there)
        _run_naive(gold_dir, out_dir, articles, model, base_url, mode, max_tokens)
    if not out_dir.is_dir():
        raise fail_usage(f"{out_dir}: no such folder; write the outputs there first (summarizer run)")
    table = PriceTable.from_file(prices) if prices else None
    report = evaluate_dir(gold_dir, out_dir, articles_dir=articles, label=label, prices=table)
    if all(a.output is None for a in report.articles):
        typer.secho(f"warning: {out_dir} holds no <article_id>.json for any gold article", err=True,
                    fg=typer.colors.YELLOW)
    data = {"generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "gold_dir": str(gold_dir),
            "out_dir": str(out_dir), **report.as_dict()}
    target = json_path or out_dir / "eval.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    _print_table(label, report_rows(data["totals"]), markdown)
    typer.echo(f"report: {target}", err=True)


def _run_naive(gold_dir: Path, out_dir: Path, articles: Path | None, model: str | None, base_url: str | None,
               mode: str | None, max_tokens: int | None) -> None:
    """Write the naive baseline's output for every gold article without one; a failed article is listed."""
    from summarizer.eval.baseline import missing_outputs, run_baseline
    from summarizer.extract.plan import GenerationParams
    from summarizer.extract.summarizer import Summarizer

    if not (todo := missing_outputs(gold_dir, out_dir, articles)):
        return
    typer.echo(f"running the naive baseline into {out_dir} ({todo} article(s) without an output) …", err=True)
    params = GenerationParams(max_tokens=max_tokens) if max_tokens else None
    with Summarizer(model=model, base_url=base_url, mode=mode, params=params) as summarizer:
        run = run_baseline(gold_dir, out_dir, summarizer, articles_dir=articles)
    for failure in run.failed:
        typer.echo(f"  failed: {failure['article']}: {failure['reason']}", err=True)


