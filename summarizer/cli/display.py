"""The terminal displays of a run: a rich progress bar on a terminal, plain lines otherwise, the final table.

Progress goes to stderr so that stdout stays clean for the summary (and for pipes). rich lives only in the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from summarizer.runs.report import BatchReport, Outcome, Reporter

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

__all__ = ["LogLines", "ProgressBar", "print_summary", "reporter_for"]

LISTED = 20  # failures and skipped files listed by name in the summary; the rest are counted


def printable(text: object) -> str:
    """Text from files and servers as it may reach a terminal: control characters (ESC, NUL, newlines) escaped."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))


def _tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else str(n)


def _cost(cost: float | None) -> str:
    return "n/a" if cost is None else f"${cost:.4f}"


def _label(outcome: Outcome) -> str:
    name = printable(outcome.title or outcome.path or "-")
    return name if len(name) <= 60 else f"{name[:57]}..."


class LogLines:
    """One plain line per settled article, for logs and pipes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.total = 0
        self.done = 0

    def start(self, report: BatchReport, total: int) -> None:
        self.total = total
        verb = "estimating" if report.dry_run else "summarizing"
        self.console.print(f"{verb} {total} input(s) into {report.out} with {report.model}, "
                           f"{report.concurrency} at a time", highlight=False)

    def found(self, extra: int) -> None:
        self.total += extra

    def update(self, outcome: Outcome, report: BatchReport) -> None:
        self.done += 1
        ident = (outcome.article_id or "")[:12] or "-"
        detail = f"{outcome.usage.total_tokens} tokens" if outcome.usage.total_tokens else ""
        if outcome.message and outcome.status != "cached":
            detail = f"{detail}  {printable(outcome.message.splitlines()[0][:200])}".strip()
        width = len(str(self.total))
        self.console.print(f"[{self.done:>{width}}/{self.total}] {outcome.status:<11} {ident:<12} "
                           f"{_label(outcome)}  {detail}".rstrip(), highlight=False, markup=False)

    def finish(self, report: BatchReport) -> None:
        pass


class ProgressBar:
    """A live bar on a terminal: done / failed / cached, tokens, cost so far and the time left."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeRemainingColumn(), console=console,
        )
        self.task: TaskID | None = None

    def start(self, report: BatchReport, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task(report.model, total=total, stats="")

    def found(self, extra: int) -> None:
        if self.task is not None:
            total = self.progress.tasks[0].total or 0
            self.progress.update(self.task, total=total + extra)

    def update(self, outcome: Outcome, report: BatchReport) -> None:
        if self.task is None:
            return
        stats = (f"[green]ok {report.ok}[/] · [red]failed {report.failed}[/] · cached {report.cached} · "
                 f"{_tokens(report.usage.total_tokens)} tokens · {_cost(report.cost)}")
        self.progress.update(self.task, advance=1, stats=stats)
        if outcome.status == "failed":
            from rich.markup import escape

            self.progress.console.print(f"[red]failed[/] {escape(_label(outcome))}: "
                                        f"{escape(printable((outcome.message or '').splitlines()[0][:200]))}")

    def finish(self, report: BatchReport) -> None:
        self.progress.stop()


def reporter_for(console: Console) -> Reporter:
    """A progress bar on a terminal, plain lines anywhere else."""
    return ProgressBar(console) if console.is_terminal else LogLines(console)


def print_summary(console: Console, report: BatchReport) -> None:
    """The final table (ok / failed / skipped / cached, tokens, cost, wall time), then what went wrong."""
    from rich import box
    from rich.table import Table

    table = Table(title="dry run: nothing was sent" if report.dry_run else f"summary of {report.out}",
                  box=box.SIMPLE if console.is_terminal else box.ASCII, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    if report.dry_run and report.estimate is not None:
        n, prompt, completion = report.estimate
        rows = [("to summarise", str(n)), ("cached", str(report.cached)), ("failed", str(report.failed)),
                ("skipped", str(len(report.skipped))), ("tokens in (estimate)", f"{prompt:,}"),
                ("tokens out (estimate)", f"{completion:,}"),
                (f"cost (estimate, {report.model})", _cost(report.estimated_cost))]
    else:
        u = report.usage
        rows = [("ok", str(report.ok)), ("failed", str(report.failed)), ("skipped", str(len(report.skipped))),
                ("cached", str(report.cached)), ("not started", str(report.not_started)),
                ("tokens in", f"{u.prompt_tokens:,}"), ("tokens out", f"{u.completion_tokens:,}"),
                (f"estimated cost ({report.model})", _cost(report.cost)),
                ("wall time", f"{report.wall_seconds:.1f} s")]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    if report.stopped:
        console.print(f"stopped early: {report.stopped}", style="yellow", markup=False)
    if report.cost is None or (report.dry_run and report.estimated_cost is None):
        console.print(f"no price known for {report.model}: add it with --prices FILE.json", markup=False)
    failures = [f for f in report.failures if f.stage != "not_started"]
    if failures:
        console.print(f"failed ({len(failures)}; details in {report.out / 'failures.jsonl'}):", style="red",
                      markup=False)
        for failure in failures[:LISTED]:
            earlier = " (earlier run; --retry-failed retries it)" if failure.stored else ""
            first = failure.message.splitlines()[0] if failure.message else ""
            if failure.path:  # an InputError already starts with the path printed in front of it
                first = first.removeprefix(f"{failure.path}: ")
            first = first[:200]
            where = printable(failure.path or failure.article_id)
            console.print(f"  {where}: {failure.reason}: {printable(first)}{earlier}",
                          markup=False, highlight=False)
        if len(failures) > LISTED:
            console.print(f"  ... and {len(failures) - LISTED} more", markup=False)
    if report.skipped:
        console.print(f"skipped ({len(report.skipped)}):", markup=False)
        for skipped in report.skipped[:LISTED]:
            console.print(f"  {printable(skipped.path)}: {printable(skipped.reason)}", markup=False, highlight=False)
        if len(report.skipped) > LISTED:
            console.print(f"  ... and {len(report.skipped) - LISTED} more", markup=False)
