"""`--via batch-api` against the loopback server's Files and Batches endpoints, through the real openai SDK."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import instructor
import openai
import pytest
from loopback import BatchFaults, LoopbackServer, RecordedRequest
from loopback_cli import LoopbackCLI
from runs_lib import FAST, markers, respond, result_ids, results_in, run, write_articles
from runs_lib import cli_command as _command
from runs_lib import cli_env as _env

from summarizer import ConfigurationError, GenerationParams, summarize_folder
from summarizer.article.readers import read_article
from summarizer.extract.summarizer import Summarizer
from summarizer.models.backend import BackendInfo
from summarizer.models.embedded.llama import EmbeddedBackend
from summarizer.runs.batch.api import BatchOptions
from summarizer.runs.batch.ledger import Ledger
from summarizer.runs.batch.lines import plan_lines
from summarizer.runs.run import result_key
from summarizer.runs.store import Store

MARKER = re.compile(r"MARKER-(\d+)")
QUICK = BatchOptions(poll_interval=0.01, max_poll_interval=0.02)
SLOW = ("validating", *["in_progress"] * 100_000, "completed")


def via_batch(server: LoopbackServer, paths: Any, out: Path, **options: Any) -> Any:
    options.setdefault("batch_api", QUICK)
    options.setdefault("via", "batch-api")
    return run(server, paths, out, **options)


def line_marker(line: dict[str, Any]) -> int:
    found = MARKER.search(json.dumps(line["body"]["messages"]))
    assert found is not None
    return int(found.group(1))


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    return header, sorted(rows)


def outputs(out: Path) -> dict[str, Any]:
    """Everything a run writes, provenance (timings, attempts, backend) left out and the order articles were
    stored in ignored (a realtime run stores them as they finish)."""
    found: dict[str, Any] = {}
    for path in results_in(out):
        found[path.name] = {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items()
                            if k != "provenance"}
        report = path.with_suffix(".md").read_text(encoding="utf-8")
        found[path.with_suffix(".md").name] = report[: report.rindex("\n---\n")]  # the footer is provenance
    lines = (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()
    found["summaries.jsonl"] = sorted(
        json.dumps({k: v for k, v in json.loads(line).items() if k != "provenance"}, sort_keys=True)
        for line in lines)
    for path in out.glob("*.csv"):
        found[path.name] = _csv(path)
    header, rows = found["actors_index.csv"]  # an actor's articles are listed in the order they were stored
    ids, titles = header.index("article_ids"), header.index("article_titles")
    for row in rows:
        pairs = sorted(zip(row[ids].split("; "), row[titles].split("; "), strict=True))
        row[ids], row[titles] = "; ".join(p[0] for p in pairs), "; ".join(p[1] for p in pairs)
    found["index.md"] = sorted((out / "index.md").read_text(encoding="utf-8").splitlines())
    actors = json.loads((out / "actors_index.json").read_text(encoding="utf-8"))
    for actor in actors["actors"]:
        actor["articles"].sort(key=lambda mention: mention["id"])
    found["actors_index.json"] = actors
    return found


def usage_of(lines: list[dict[str, Any]], chats: list[RecordedRequest]) -> int:
    """Tokens billed: every batch line that has a body with usage, and every realtime request."""
    batch = sum(line["response"]["body"]["usage"]["total_tokens"] for line in lines
                if line["response"] and "usage" in line["response"]["body"])
    return batch + sum(r.usage["total_tokens"] for r in chats if r.usage)


def test_a_batch_run_writes_what_a_realtime_run_writes(loopback: LoopbackServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 30)
    loopback.responder = respond()
    realtime = run(loopback, tmp_path / "in", tmp_path / "realtime", concurrency=1)
    assert realtime.ok == 30
    loopback.reset()

    faults = BatchFaults(shuffle=True, error_lines=frozenset({1}), status_lines={2: 422},
                         invalid_json_lines=frozenset({3}))
    loopback.batch_faults = faults
    options = BatchOptions(poll_interval=0.01, max_poll_interval=0.02, max_lines=12)
    report = via_batch(loopback, tmp_path / "in", tmp_path / "batch", batch_api=options)

    batches = loopback.batch_ids
    assert len(loopback.batch_creates) == len(batches) == 3  # 12 + 12 + 6 lines
    inputs = [loopback.batch_input(b) for b in batches]
    assert [len(lines) for lines in inputs] == [12, 12, 6]
    bad = sorted(line_marker(lines[i]) for lines in inputs for i in (1, 2, 3))
    assert sorted(markers(loopback.chat_requests)) == bad  # only the bad lines went realtime
    assert (report.ok, report.failed, report.all_ok) == (30, 0, True)
    assert outputs(tmp_path / "batch") == outputs(tmp_path / "realtime")

    output = [line for b in batches for line in loopback.batch_output(b)]
    assert [line["custom_id"] for line in output] != [line["custom_id"] for lines in inputs for line in lines]
    assert report.usage.total_tokens == usage_of(output, loopback.chat_requests)
    results = [json.loads(p.read_text()) for p in results_in(tmp_path / "batch")]
    backends = sorted(r["provenance"]["backend"] for r in results)
    assert backends == ["batch-api"] * 21 + ["openai-compatible"] * 9
    rerun = next(r for r in results if r["provenance"]["backend"] == "openai-compatible")
    assert [a["step"] for a in rerun["provenance"]["attempts"]] == ["batch:extract", "extract"]

    loopback.reset()  # an unchanged rerun is free: nothing uploaded, nothing asked
    again = via_batch(loopback, tmp_path / "in", tmp_path / "batch")
    assert (again.cached, len(loopback.requests)) == (30, 0)


def test_bad_lines_beyond_the_bound_fail_with_reasons_and_expired_ones_are_resubmitted(
        loopback: LoopbackServer, tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", 8)
    loopback.responder = respond()
    loopback.batch_faults = BatchFaults(error_lines=frozenset({0}), status_lines={1: 404},
                                        invalid_json_lines=frozenset({2}), expire_after=6)
    out = tmp_path / "out"
    report = via_batch(loopback, tmp_path / "in", out, batch_api=BatchOptions(
        poll_interval=0.01, max_realtime_fallback=1))
    assert markers(loopback.chat_requests) == [0]  # the first bad line only: the bound is 1
    assert (report.ok, report.failed, report.not_started) == (4, 2, 2)
    failures = {Path(f["path"]).name: f for f in map(json.loads, (out / "failures.jsonl").read_text().splitlines())}
    assert failures["article-001.md"]["reason"] == "BatchRequestError"
    assert "HTTP 404" in failures["article-001.md"]["message"]
    assert "--max-realtime-fallback 1" in failures["article-001.md"]["message"]
    assert failures["article-002.md"]["reason"] == "ValidationFailedError"
    assert "Invalid JSON" in failures["article-002.md"]["message"]
    assert failures["article-002.md"]["usage"]["total_tokens"] > 0  # the batch line was billed
    for name in ("article-006.md", "article-007.md"):
        assert failures[name]["stage"] == "not_started" and "ended (expired)" in failures[name]["message"]

    loopback.reset()
    loopback.batch_faults = BatchFaults()
    (first,) = loopback.batch_ids
    report = via_batch(loopback, tmp_path / "in", out)  # expired lines go again; stored failures do not
    assert len(loopback.batch_creates) == 1 and not loopback.chat_requests
    (second,) = [b for b in loopback.batch_ids if b != first]
    assert sorted(map(line_marker, loopback.batch_input(second))) == [6, 7]
    assert (report.ok, report.cached, report.failed) == (2, 4, 2)
    assert {read_article(p).id for p in paths[3:]} <= result_ids(out)


def _handed_over(server: LoopbackServer, paths: list[Path], out: Path, *, record: bool,
                 duplicate: bool = False) -> None:
    """What a killed run left: an uploaded file in the ledger and its batch, recorded or not."""
    summarizer = Summarizer(base_url=server.base_url, api_key="k", model="gpt-4o-mini")
    planned = [line for a in map(read_article, paths)
               for line in plan_lines(summarizer.plan, a, result_key(a, summarizer.plan))[1]]
    data = b"".join(line.encode() for line in planned) + (planned[0].encode() if duplicate else b"")
    with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        uploaded = client.files.create(file=("in.jsonl", data), purpose="batch")
        with Store.in_folder(out) as store:
            ledger = Ledger(store)
            ledger.uploaded(uploaded.id, [line.ref for line in planned])
            remote = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                           completion_window="24h")
            if record:
                ledger.created(uploaded.id, remote.id, remote.status)


def test_a_batch_created_by_a_run_killed_before_recording_it_is_adopted(loopback: LoopbackServer,
                                                                        tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", 3)
    loopback.responder = respond()
    _handed_over(loopback, paths, tmp_path / "out", record=False)
    report = via_batch(loopback, tmp_path / "in", tmp_path / "out")
    assert report.ok == 3 and len(loopback.batch_creates) == 1 and not loopback.chat_requests
    assert len([r for r in loopback.requests if r.path == "/v1/files"]) == 1


def test_a_batch_the_provider_failed_goes_to_the_realtime_path(loopback: LoopbackServer, tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", 3)
    loopback.responder = respond()
    _handed_over(loopback, paths, tmp_path / "out", record=True, duplicate=True)  # fails validation
    report = via_batch(loopback, tmp_path / "in", tmp_path / "out", batch_api=BatchOptions(
        poll_interval=0.01, max_realtime_fallback=2))
    assert sorted(markers(loopback.chat_requests)) == [0, 1] and (report.ok, report.failed) == (2, 1)
    (failure,) = report.failures
    assert failure.reason == "BatchRequestError" and "line 4: The custom_id" in failure.message


def test_killed_while_polling_resumes_the_same_batch(loopback: LoopbackServer, cli_in_process: LoopbackCLI,
                                                     tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 30)
    loopback.responder, loopback.batch_statuses = respond(), SLOW
    out = tmp_path / "out"
    args = ("run", tmp_path / "in", "-o", out, "--via", "batch-api", "--batch-poll", "0.02")
    process = subprocess.Popen(_command(*args), env=_env(loopback), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None and not _polled(loopback, 3):
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    assert process.returncode == -signal.SIGKILL
    (batch_id,) = loopback.batch_ids
    assert loopback.batch_status(batch_id) == "in_progress" and not list(results_in(out))

    loopback.batch_statuses = ("validating", "in_progress", "completed")
    done = cli_in_process(*args)  # the resume needs no process of its own
    assert done.returncode == 0, done.stderr
    assert len(loopback.batch_creates) == 1 and loopback.batch_ids == [batch_id]
    assert not loopback.chat_requests and len(list(results_in(out))) == 30
    assert f"batch {batch_id}: completed" in done.stderr


def _polled(server: LoopbackServer, times: int) -> bool:
    polls = [r for r in server.requests if r.method == "GET" and r.path.startswith("/v1/batches/")]
    return len(polls) >= times


def test_a_server_without_the_batch_api_is_a_configuration_error(loopback: LoopbackServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    with pytest.raises(ConfigurationError, match=r"HTTP 404.*--via realtime"):
        summarize_folder(tmp_path / "in", tmp_path / "out", base_url=f"{loopback.url}/elsewhere/v1", api_key="k",
                         via="batch-api")
    with pytest.raises(ConfigurationError, match="--via must be realtime or batch-api"):
        via_batch(loopback, tmp_path / "in", tmp_path / "out", via="carrier-pigeon")


def test_the_embedded_model_and_the_multi_step_plan_have_no_batch_api(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    embedded = EmbeddedBackend(BackendInfo("embedded", "qwen", instructor.Mode.TOOLS, "test"))  # never loaded
    summarizer = Summarizer(backend=embedded, policy=FAST)
    two_pass = Summarizer(base_url="http://127.0.0.1:9/v1", api_key="k", params=GenerationParams(two_pass=True))
    for refused, why in ((summarizer, "embedded model"), (two_pass, "two_pass")):
        with pytest.raises(ConfigurationError, match=why):
            summarize_folder(tmp_path / "in", tmp_path / "out", summarizer=refused, via="batch-api")
