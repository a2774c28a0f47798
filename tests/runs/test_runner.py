"""summarize_folder() over the in-memory model server (`tests/memory.py`): real instructor parsing, no socket."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx2
import instructor
import openai
import pytest
from loopback import Reply
from memory import MemoryServer
from rich.console import Console
from runs_lib import FAST, SHORT, answer, jsonl, marker, markers, respond, result_ids, results_in, write_articles

from summarizer import (
    Article,
    BackendUnavailableError,
    ConfigurationError,
    ModelFileError,
    Summarizer,
    summarize_folder,
)
from summarizer.cli.display import LogLines, ProgressBar, print_summary, reporter_for
from summarizer.models.backend import BackendInfo
from summarizer.models.embedded.llama import EmbeddedBackend
from summarizer.models.testing import ScriptedBackend
from summarizer.runs.pricing import PriceTable
from summarizer.runs.report import BatchReport
from summarizer.runs.store import Store


def run(memory: MemoryServer, paths: Any, out: Path, **options: Any) -> BatchReport:
    """`summarize_folder` with a Summarizer on one of `memory`'s backends (`model`, `params`, `policy` build it)."""
    summarizer = Summarizer(backend=memory.backend(model=options.pop("model", "gpt-4o-mini")),
                            policy=options.pop("policy", FAST), params=options.pop("params", None))
    return summarize_folder(paths, out, summarizer=summarizer, **options)


def test_folder_run_writes_every_output_and_an_unchanged_rerun_is_free(memory: MemoryServer,
                                                                        tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 6)
    memory.responder = respond()
    report = run(memory, tmp_path / "in", tmp_path / "out")
    assert (report.ok, report.failed, report.cached, report.all_ok) == (6, 0, 0, True)
    assert sorted(markers(memory.chat_requests)) == list(range(6))
    out = tmp_path / "out"
    ids = {line["article"]["id"] for line in jsonl(out)}
    assert len(ids) == 6 and result_ids(out) == ids
    names = {f"article-{i:03d}" for i in range(6)}  # named after their inputs
    assert {p.stem for p in results_in(out)} == names and {p.stem for p in out.glob("*.md")} == {*names, "index"}
    sent = sum(r.usage["total_tokens"] for r in memory.chat_requests if r.usage)
    assert report.usage.total_tokens == sent
    assert report.cost is not None and report.cost > 0

    memory.reset()
    (out / "article-003.json").unlink()  # as if killed between the store commit and the file
    again = run(memory, tmp_path / "in", out)
    assert len(memory.chat_requests) == 0
    assert (again.ok, again.cached, again.usage.total_tokens) == (0, 6, 0)
    assert len(list(results_in(out))) == 6 and len(jsonl(out)) == 6


def test_changed_model_recomputes_and_force_recomputes(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    memory.responder = respond()
    run(memory, tmp_path / "in", tmp_path / "out")
    memory.reset()
    report = run(memory, tmp_path / "in", tmp_path / "out", model="gpt-4o")
    assert report.ok == 3 and {r.model for r in memory.chat_requests} == {"gpt-4o"}
    assert [line["provenance"]["model"] for line in jsonl(tmp_path / "out")] == ["gpt-4o"] * 3
    memory.reset()
    report = run(memory, tmp_path / "in", tmp_path / "out", model="gpt-4o", force=True)
    assert report.ok == 3 and len(memory.chat_requests) == 3


def test_failures_are_stored_and_retried_only_on_request(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 4)
    memory.responder = respond(failing=[2])
    report = run(memory, tmp_path / "in", tmp_path / "out")
    assert (report.ok, report.failed) == (3, 1)
    assert markers(memory.chat_requests).count(2) == FAST.transport_retries + 1
    failure = report.failures[0]
    assert failure.reason == "AttemptsExhaustedError" and "http_500" in failure.message
    assert failure.attempts == FAST.transport_retries + 1 and failure.path and failure.path.endswith("002.md")
    lines = [json.loads(x) for x in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert [(x["stage"], x["reason"], x["attempts"]) for x in lines] == [
        ("model", "AttemptsExhaustedError", 3)]

    memory.reset()
    report = run(memory, tmp_path / "in", tmp_path / "out")  # a stored failure is not retried by default
    assert len(memory.chat_requests) == 0 and report.failed == 1 and report.failures[0].stored

    memory.reset()
    memory.responder = respond()
    report = run(memory, tmp_path / "in", tmp_path / "out", retry_failed=True)
    assert markers(memory.chat_requests) == [2] and report.all_ok and (report.ok, report.cached) == (1, 3)
    assert (tmp_path / "out" / "failures.jsonl").read_text() == ""


def test_input_problems_are_recorded_and_the_batch_goes_on(memory: MemoryServer, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    paths = write_articles(folder, 2)
    (folder / "empty.txt").write_text("")
    (folder / "broken.json").write_text('{"text": ')
    (folder / ".hidden.txt").write_text("secret draft")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4")
    (folder / "copy.txt").write_text(paths[0].read_text())
    memory.responder = respond()
    report = run(memory, folder, tmp_path / "out")
    assert report.ok == 2
    assert sorted((Path(f.path or "").name, f.stage) for f in report.failures) == [
        ("broken.json", "input"), ("empty.txt", "input")]
    assert "file is empty" in next(f.message for f in report.failures if "empty" in (f.path or ""))
    reasons = {p.name: reason for p, reason in ((s.path, s.reason) for s in report.skipped)}
    assert reasons[".hidden.txt"] == "hidden" and "unsupported" in reasons["scan.pdf"]
    assert reasons["copy.txt"].startswith("same text as")
    failures = (tmp_path / "out" / "failures.jsonl").read_text()
    assert "broken.json" in failures and "invalid JSON" in failures


def test_token_budget_stops_scheduling_and_the_rest_runs_later(memory: MemoryServer,
                                                               tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 4)
    memory.responder = respond()
    report = run(memory, tmp_path / "in", tmp_path / "out", concurrency=1, max_tokens=1)
    assert (report.ok, report.not_started, report.failed) == (1, 3, 0) and not report.all_ok
    assert report.stopped and "token budget" in report.stopped
    memory.reset()
    report = run(memory, tmp_path / "in", tmp_path / "out")
    assert (report.ok, report.cached) == (3, 1) and len(memory.chat_requests) == 3


def test_spend_includes_failed_attempts(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    bad = answer() | {"claims": [{"actor": "A1", "sentences": [99], "statement": "x", "quote": None}]}
    memory.responder = lambda r: Reply.tool_call(bad if marker(r) == 1 else answer(), usage=(100, 10))
    report = run(memory, tmp_path / "in", tmp_path / "out")
    assert (report.ok, report.failed) == (1, 1) and report.failures[0].reason == "ValidationFailedError"
    assert report.usage.total_tokens == 110 * len(memory.chat_requests) == 110 * (1 + FAST.reasks + 1)
    with Store.in_folder(tmp_path / "out") as store:
        rows = store.db.execute("SELECT status, prompt_tokens FROM results ORDER BY status").fetchall()
    assert rows == [("failed", 200), ("ok", 100)]


def test_max_cost_needs_a_known_price(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    with pytest.raises(ConfigurationError, match="--prices"):
        run(memory, tmp_path / "in", tmp_path / "out", model="house-model", max_cost=1.0)


def test_dry_run_calls_nothing_writes_nothing_and_needs_no_key(memory: MemoryServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_articles(tmp_path / "in", 4)
    def no_backend(**_: Any) -> None:
        raise BackendUnavailableError("no backend")

    monkeypatch.setattr("summarizer.extract.summarizer.resolve_backend", no_backend)
    report = summarize_folder(tmp_path / "in", tmp_path / "out", dry_run=True)
    assert not (tmp_path / "out").exists()
    assert report.estimate is not None and report.estimate[0] == 4 and report.estimate[1] > 100
    assert report.model == "gpt-4o-mini" and report.estimated_cost is not None and report.estimated_cost > 0

    monkeypatch.undo()
    memory.responder = respond()
    run(memory, tmp_path / "in", tmp_path / "out")  # now four are stored...
    write_articles(tmp_path / "in", 2, start=4)
    memory.reset()
    report = run(memory, tmp_path / "in", tmp_path / "out", dry_run=True)
    assert report.estimate is not None and (report.estimate[0], report.cached) == (2, 4)
    assert len(memory.chat_requests) == 0


def test_rejected_key_stops_the_run_and_is_not_stored(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 5)
    memory.responder = lambda r: Reply.error(401)
    report = run(memory, tmp_path / "in", tmp_path / "out", concurrency=1)
    assert report.rejected == 401 and report.stopped and "API key" in report.stopped
    assert len(memory.chat_requests) == 1 and (report.failed, report.not_started) == (1, 4)
    memory.responder = respond()
    report = run(memory, tmp_path / "in", tmp_path / "out")
    assert report.ok == 5


def test_rate_limits_wrap_every_attempt(memory: MemoryServer, tmp_path: Path) -> None:
    calls: list[str] = []

    async def before(request: Any) -> None:
        calls.append(request["model"])

    memory.script(Reply.error(500), Reply.tool_call(answer()))
    article = Article.from_text(SHORT.format(i=1))

    async def one() -> None:
        async with Summarizer(backend=memory.backend(), policy=FAST) as summarizer:
            await summarizer.asummarize(article, before_request=before)

    asyncio.run(one())
    assert calls == ["gpt-4o-mini", "gpt-4o-mini"]  # the retry waited for the limiter too

    write_articles(tmp_path / "in", 12)
    memory.responder = respond()
    started = time.monotonic()
    run(memory, tmp_path / "in", tmp_path / "out", rpm=600, concurrency=12)  # 10 at once, then 1 per 0.1 s
    assert time.monotonic() - started >= 0.15


def test_output_folder_inside_the_inputs_is_not_read(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path, 2)
    memory.responder = respond()
    run(memory, tmp_path, tmp_path / "out")
    report = run(memory, tmp_path, tmp_path / "out")
    assert report.all_ok and report.cached == 2
    assert [(s.path, s.reason) for s in report.skipped] == [
        (tmp_path / "out", "the output folder: never read as input")]


def test_articles_can_be_given_directly(memory: MemoryServer, tmp_path: Path) -> None:
    memory.responder = respond()
    article = Article.from_text(SHORT.format(i=7))
    report = run(memory, [article, *write_articles(tmp_path / "in", 1)], tmp_path / "out")
    assert report.ok == 2 and sorted(markers(memory.chat_requests)) == [0, 7]


def test_embedded_backend_runs_one_article_at_a_time(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    summarizer = Summarizer(backend=memory.backend())
    dry = functools.partial(summarize_folder, tmp_path / "in", tmp_path / "out", summarizer=summarizer,
                            dry_run=True)
    assert dry().concurrency == 4
    summarizer.backend = EmbeddedBackend(BackendInfo("embedded", "qwen", instructor.Mode.TOOLS, "test"))
    assert dry().concurrency == 1


def test_a_configuration_error_mid_run_ends_the_run(memory: MemoryServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write_articles(tmp_path / "in", 3)

    async def broken(self: Summarizer, *args: Any, **kwargs: Any) -> Any:
        raise ModelFileError("the embedded model file is missing; run: summarizer doctor")

    monkeypatch.setattr(Summarizer, "asummarize", broken)
    with pytest.raises(ModelFileError, match="model file is missing"):
        run(memory, tmp_path / "in", tmp_path / "out")
    assert (tmp_path / "out" / "summaries.jsonl").read_text() == ""  # outputs still consistent


def test_progress_bar_on_a_terminal_and_log_lines_elsewhere(memory: MemoryServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    (tmp_path / "in" / "notes.pdf").write_bytes(b"%PDF")
    memory.responder = respond(failing=[1])
    terminal, log = io.StringIO(), io.StringIO()
    bar = reporter_for(Console(file=terminal, force_terminal=True, width=160))
    assert isinstance(bar, ProgressBar)
    report = run(memory, tmp_path / "in", tmp_path / "out", reporter=bar)
    assert "ok 1" in terminal.getvalue() and "failed 1" in terminal.getvalue()

    memory.reset()
    lines = reporter_for(Console(file=log, width=160))
    assert isinstance(lines, LogLines)
    run(memory, tmp_path / "in", tmp_path / "out", reporter=lines)
    text = log.getvalue()
    assert "[1/2] cached" in text and "[2/2] failed" in text and "AttemptsExhaustedError" not in text

    summary = io.StringIO()
    print_summary(Console(file=summary, width=160), report)
    shown = summary.getvalue()
    for label in ("ok", "failed", "skipped", "cached", "tokens in", "tokens out", "estimated cost",
                  "wall time", "notes.pdf: unsupported file type", "article-001.md: AttemptsExhaustedError"):
        assert label in shown, label


def test_price_table_file_and_cost_budget(memory: MemoryServer, tmp_path: Path) -> None:
    assert PriceTable().price("gpt-4o-mini-2024-07-18") == PriceTable().price("gpt-4o-mini")
    assert PriceTable().price("gpt-4o-2024-08-06") == PriceTable().price("gpt-4o")
    assert PriceTable().price("house-model") is None
    prices_file = tmp_path / "prices.json"
    prices_file.write_text('{"house-model": {"input": 1000, "output": 1000}}')
    prices = PriceTable.from_file(prices_file)
    assert prices.cost("house-model", 1000, 0) == 1.0 and prices.price("gpt-4o") is not None
    for bad in ('["x"]', '{"m": {"input": 1}}', '{"m": {"input": -1, "output": 1}}', "{"):
        prices_file.write_text(bad)
        with pytest.raises(ConfigurationError, match="price"):
            PriceTable.from_file(prices_file)

    write_articles(tmp_path / "in", 3)
    memory.responder = respond()
    report = run(memory, tmp_path / "in", tmp_path / "out", model="house-model", prices=prices,
                 max_cost=0.01, concurrency=1, tpm=1_000_000)
    assert (report.ok, report.not_started) == (1, 2) and report.cost is not None and report.cost > 0.01
    assert report.stopped and "cost budget" in report.stopped


def test_a_server_that_never_answers_in_time_stops_the_run_after_three_articles(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 10)
    timeout = openai.APITimeoutError(request=httpx2.Request("POST", "http://memory.test/v1/chat/completions"))
    hung = ScriptedBackend(lambda request: timeout)
    report = summarize_folder(tmp_path / "in", tmp_path / "out", concurrency=1,
                              summarizer=Summarizer(backend=hung, policy=FAST))
    assert (report.failed, report.not_started, report.ok) == (3, 7, 0)
    assert report.stopped is not None and "3 articles in a row" in report.stopped
    assert len(hung.requests) == 3 * 2  # each: the request and one retry after a timeout (RetryPolicy.timeout_retries)
