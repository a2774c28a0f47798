"""Timeouts are deadlines: a server that hangs or trickles cannot hold a request, an article or a run open.

Every request must be answered completely within `GenerationParams.timeout` (`--timeout`), from sending it to
its last byte; a timed-out request is retried `RetryPolicy.timeout_retries` times (default once). So with the
default policy a hung or trickling server costs an article at most 2 x timeout plus under `initial_wait`
(1 s) of backoff before it fails. Timings are asserted as generous upper bounds only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from pathlib import Path

import openai
import pytest
from fixtures_lib import SEED, answer
from loopback import LoopbackServer, Reply
from loopback_cli import LoopbackCLI
from runs_lib import write_articles

from summarizer import AttemptsExhaustedError, GenerationParams, RetryPolicy, Summarizer
from summarizer.models.openai_compat import DeadlineExceeded

HANG = 60.0  # a hung server: no byte for a minute (the fixture's stop() ends it)
TRICKLE = 0.2  # a trickling server: one body byte every 0.2 s, for ever
FAULTS = {"hang": lambda: Reply.slow(HANG), "trickle": lambda: Reply.trickle(TRICKLE)}
DEADLINE = 0.5
QUICK = RetryPolicy(initial_wait=0.05)  # the default policy (1 + timeout_retries attempts), shorter backoff
SLACK = 15.0  # the documented worst case below is ~3 s; slack for a loaded 2-core machine


def _summarizer(server: LoopbackServer, policy: RetryPolicy | None = None) -> Summarizer:
    return Summarizer(base_url=server.base_url, api_key="test-key", model="gpt-4o-mini",
                      policy=policy or QUICK, params=GenerationParams(timeout=DEADLINE))


def _assert_timed_out(error: AttemptsExhaustedError, server: LoopbackServer, elapsed: float) -> None:
    assert elapsed < SLACK, elapsed
    assert [r["outcome"] for r in error.records] == ["timeout", "timeout"]  # 1 + timeout_retries, not 1 + 4
    assert len(server.chat_requests) == 2
    assert "timeout" in str(error) and "deadline" in str(error)
    for record in error.records:  # each attempt was cut off near its deadline, not after a per-read timeout
        took = dt.datetime.fromisoformat(record["ended_at"]) - dt.datetime.fromisoformat(record["started_at"])
        assert DEADLINE * 0.9 <= took.total_seconds() < DEADLINE + 5, took


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_sync_request_ends_at_its_deadline(loopback: LoopbackServer, fault: str) -> None:
    loopback.responder = lambda request: FAULTS[fault]()
    started = time.monotonic()
    with _summarizer(loopback) as summarizer, pytest.raises(AttemptsExhaustedError) as info:
        summarizer.summarize(SEED)
    _assert_timed_out(info.value, loopback, time.monotonic() - started)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_async_request_ends_at_its_deadline(loopback: LoopbackServer, fault: str) -> None:
    loopback.responder = lambda request: FAULTS[fault]()

    async def go() -> None:
        async with _summarizer(loopback) as summarizer:
            await summarizer.asummarize(SEED)

    started = time.monotonic()
    with pytest.raises(AttemptsExhaustedError) as info:
        asyncio.run(go())
    _assert_timed_out(info.value, loopback, time.monotonic() - started)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_timeout_is_retried_and_the_retry_can_succeed(loopback: LoopbackServer, fault: str) -> None:
    loopback.script(FAULTS[fault](), Reply.tool_call(answer("zelensky-north-korea")))
    with _summarizer(loopback, RetryPolicy(initial_wait=0.01)) as summarizer:
        result = summarizer.summarize(SEED)
    assert [a.outcome for a in result.provenance.attempts] == ["timeout", "ok"] and result.claims


def test_the_deadline_error_is_a_timeout_for_the_sdk_too(loopback: LoopbackServer) -> None:
    from summarizer.models.openai_compat import deadline_create

    loopback.responder = lambda request: Reply.trickle(TRICKLE)
    with openai.OpenAI(base_url=loopback.base_url, api_key="test-key", max_retries=0) as client:
        create = deadline_create(client, 0.5)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert time.monotonic() - started < 5
    assert isinstance(info.value, openai.APITimeoutError) and "0.5 s deadline" in str(info.value)


def test_the_trickle_really_outlasts_a_per_read_timeout(loopback: LoopbackServer) -> None:
    """Why deadlines are needed: the SDK's own timeout=0.5 never fires while a byte comes every 0.2 s."""
    loopback.responder = lambda request: Reply.trickle(TRICKLE)
    outcome: list[BaseException | None] = []

    def call() -> None:
        with openai.OpenAI(base_url=loopback.base_url, api_key="test-key", max_retries=0, timeout=0.5) as client:
            try:
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
                outcome.append(None)
            except openai.OpenAIError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(2.0)
    assert worker.is_alive() and not outcome  # 4 x the per-read timeout, still reading
    loopback.stop()  # ends the trickle; the SDK sees the connection close
    worker.join(10)
    assert not worker.is_alive() and isinstance(outcome[0], openai.APIConnectionError)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_run_with_timeout_option_ends_within_the_documented_bound(
        cli_in_process: LoopbackCLI, loopback: LoopbackServer, tmp_path: Path, fault: str) -> None:
    loopback.responder = lambda request: FAULTS[fault]()
    write_articles(tmp_path / "in", 2)
    out = tmp_path / "out"
    started = time.monotonic()
    done = cli_in_process("run", tmp_path / "in", "-o", out, "--model", "gpt-4o-mini", "--timeout", str(DEADLINE),
                          "--retry-wait", "0.05")
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert elapsed < SLACK, elapsed
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(failures) == 2
    for failure in failures:
        assert failure["reason"] == "AttemptsExhaustedError", failure
        assert "timeout" in failure["message"] and f"{DEADLINE:g} s deadline" in failure["message"], failure
        assert [r["outcome"] for r in failure["records"]] == ["timeout", "timeout"]
    assert len(loopback.chat_requests) == 4


def test_timeout_option_is_checked_and_not_part_of_the_store_key(cli_in_process: LoopbackCLI,
                                                                 tmp_path: Path) -> None:
    assert GenerationParams(timeout=1).key() == GenerationParams().key()
    write_articles(tmp_path / "in", 1)
    done = cli_in_process("run", tmp_path / "in", "-o", tmp_path / "out", "--timeout", "0")
    assert done.returncode == 2 and "--timeout" in done.stderr
    assert "--timeout" in cli_in_process("run", "--help").stdout
