"""`summarizer batch export` / `batch import`: the hand-off to `vllm run-batch` and back."""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

import openai
import pytest
from fixtures_lib import ROOT
from loopback import BatchFaults, LoopbackServer
from loopback_cli import LoopbackCLI
from runs_lib import markers, respond, result_ids, results_in, run, write_articles
from test_batch_api import line_marker, outputs

from summarizer import BatchReport, ConfigurationError, Summarizer
from summarizer.runs.batch.export import export_requests, find_sidecar, import_batch, load_articles, load_sidecar

README = (ROOT / "README.md").read_text(encoding="utf-8")


def documented_line() -> dict[str, Any]:
    """The request line the README's "Large corpora" section shows."""
    block = next(b for b in re.findall(r"```json\n(.*?)```", README, flags=re.S) if '"custom_id"' in b)
    return json.loads(block)  # type: ignore[no-any-return]


def check_request_line(line: dict[str, Any]) -> None:
    """One exported line has the documented shape."""
    doc = documented_line()
    assert set(line) == set(doc) and set(line["body"]) == set(doc["body"])
    assert re.fullmatch(r"[0-9a-f]{32}", doc["custom_id"]) and re.fullmatch(r"[0-9a-f]{32}", line["custom_id"])
    assert (line["method"], line["url"]) == (doc["method"], doc["url"])
    body, shown = line["body"], doc["body"]
    assert [m["role"] for m in body["messages"]] == [m["role"] for m in shown["messages"]]
    assert all(isinstance(m["content"], str) and set(m) == {"role", "content"} for m in body["messages"])
    assert isinstance(body["temperature"], float) and isinstance(body["max_tokens"], int)
    assert body["tool_choice"] == shown["tool_choice"]
    (tool,), (shown_tool,) = body["tools"], shown["tools"]
    assert tool["type"] == "function" and set(tool["function"]) == set(shown_tool["function"])
    assert tool["function"]["name"] == shown_tool["function"]["name"]
    assert tool["function"]["parameters"]["type"] == "object"


def export(folder: Path, requests: Path) -> list[dict[str, Any]]:
    report = export_requests([folder], requests, "gpt-4o-mini")
    assert not report.failures and report.sidecar.is_file()
    return [json.loads(line) for line in requests.read_text(encoding="utf-8").splitlines()]


def test_export_writes_documented_lines_with_the_realtime_bodies(loopback: LoopbackServer,
                                                                 cli_in_process: LoopbackCLI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 5)
    done = cli_in_process("batch", "export", tmp_path / "in", tmp_path / "requests.jsonl", "--model", "gpt-4o-mini",
                          server=False)
    assert done.returncode == 0, done.stderr
    assert "5 request line(s) for 5 article(s)" in done.stdout and "vllm run-batch -i" in done.stdout
    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert len({line["custom_id"] for line in lines}) == 5
    for line in lines:
        check_request_line(line)
    assert (tmp_path / "requests.summarizer.jsonl").is_file()

    loopback.responder = respond()  # the body is what the realtime path sends, byte for byte once parsed
    run(loopback, tmp_path / "in", tmp_path / "realtime")
    sent = {m: r.body for r in loopback.chat_requests for m in markers([r])}
    assert {line_marker(line): line["body"] for line in lines} == sent

    with openai.OpenAI(base_url=loopback.base_url, api_key="k", max_retries=0) as client:  # and OpenAI takes it
        uploaded = client.files.create(file=("requests.jsonl", (tmp_path / "requests.jsonl").read_bytes()),
                                       purpose="batch")
        batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
        while batch.status not in ("completed", "failed"):
            batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.errors is None


def test_import_of_an_out_of_order_results_file_matches_a_realtime_run(loopback: LoopbackServer,
                                                                       cli_in_process: LoopbackCLI,
                                                                       tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 10)
    requests = tmp_path / "batch" / "requests.jsonl"
    requests.parent.mkdir()
    lines = export(tmp_path / "in", requests)
    loopback.responder = respond()
    realtime = run(loopback, tmp_path / "in", tmp_path / "realtime")
    assert realtime.ok == 10
    done, failed = loopback.answer_batch(lines, BatchFaults(error_lines=frozenset({4}), status_lines={7: 400}))
    results = [*done, *failed, {"id": "x", "custom_id": "f" * 32, "response": None, "error": None}]
    random.Random(6).shuffle(results)
    assert [r["custom_id"] for r in results[:10]] != [line["custom_id"] for line in lines]
    (requests.parent / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results) + "not json\n")

    out = tmp_path / "out"
    imported = cli_in_process("batch", "import", requests.parent / "results.jsonl", "-o", out, server=False)
    assert imported.returncode == 1, imported.stderr
    assert "2 line(s)" in imported.stderr and "matched no exported request" in imported.stderr
    failures = [json.loads(x) for x in (out / "failures.jsonl").read_text().splitlines()]
    assert sorted((Path(f["path"]).name, f["reason"]) for f in failures) == [
        ("article-004.md", "BatchRequestError"), ("article-007.md", "BatchRequestError")]
    assert "HTTP 400" in next(f["message"] for f in failures if f["path"].endswith("007.md"))
    good, ids = outputs(out), result_ids(out)
    assert len(ids) == 8 and _articles(good, ids) == _articles(outputs(tmp_path / "realtime"), ids)
    assert _articles(good, ids) == {k: v for k, v in good.items() if k in _articles(good, ids)}
    provenance = json.loads(next(results_in(out)).read_text())["provenance"]
    assert provenance["backend"] == "import" and provenance["usage"]["total_tokens"] > 0

    loopback.reset()  # again, now re-running failed lines against a live server
    exported = load_sidecar(find_sidecar(requests.parent / "results.jsonl", None))

    async def again() -> tuple[BatchReport, int]:
        async with Summarizer(base_url=loopback.base_url, api_key="k", model="gpt-4o-mini") as fallback:
            return await import_batch(requests.parent / "results.jsonl", out, exported, fallback=fallback,
                                      max_realtime_fallback=5)

    report, unknown = asyncio.run(again())
    assert (report.ok, report.cached, report.failed, unknown) == (2, 8, 0, 2)
    assert sorted(markers(loopback.chat_requests)) == [4, 7]
    assert outputs(out) == outputs(tmp_path / "realtime")

    from_files = load_articles([tmp_path / "in"], "gpt-4o-mini")  # --articles DIR joins the same lines
    assert [p.ids for p in from_files.pending] == [p.ids for p in exported.pending]


def _articles(found: dict[str, Any], ids: set[str]) -> dict[str, Any]:
    """The outputs about some articles only: their files, their summaries.jsonl lines and CSV rows."""
    kept = {name: value for name, value in found.items() if name[:64] in ids}
    kept["summaries.jsonl"] = [s for s in found["summaries.jsonl"] if json.loads(s)["article"]["id"] in ids]
    for name in ("actors", "claims", "predictions", "warnings"):
        header, rows = found[f"{name}.csv"]
        kept[f"{name}.csv"] = (header, [row for row in rows if row[0] in ids])
    return kept


def test_import_refuses_what_it_cannot_join(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    lines = export(tmp_path / "in", tmp_path / "a.jsonl")
    assert len(lines) == 2
    (tmp_path / "b.summarizer.jsonl").write_text((tmp_path / "a.summarizer.jsonl").read_text())
    with pytest.raises(ConfigurationError, match="--requests"):
        find_sidecar(tmp_path / "results.jsonl", None)
    sidecar = tmp_path / "b.summarizer.jsonl"
    header, *rest = sidecar.read_text().splitlines()
    sidecar.write_text("\n".join([json.dumps(json.loads(header) | {"prompt_hash": "old"}), *rest]) + "\n")
    with pytest.raises(ConfigurationError, match="other prompts"):
        load_sidecar(sidecar)
