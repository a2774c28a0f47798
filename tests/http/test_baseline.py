"""The naive baseline through real openai + instructor against the loopback server, and `eval --baseline`."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fixtures_lib import ARTICLES, ROOT, SEED
from loopback import LoopbackServer, Reply
from loopback_cli import LoopbackCLI

from summarizer import RetryPolicy, Summarizer, ValidationFailedError
from summarizer.article.readers import read_article
from summarizer.eval.baseline import NAIVE_PROMPT_HASH, naive_summarize, run_baseline
from summarizer.eval.metrics import evaluate_dir

FAST = RetryPolicy(transport_retries=2, reasks=2, initial_wait=0.01, max_wait=0.05)
SEED_ARTICLE = read_article(SEED)


def naive_answer() -> dict[str, Any]:
    """A naive answer to the seed article (authored): some quotes verbatim, one paraphrased."""
    return {
        "summary": "Zelensky criticised the West's response to North Korean troops in Russia.",
        "actors": ["Volodymyr Zelensky", "Lloyd Austin", "Putin", "North Korea"],
        "claims": [
            {"speaker": "Volodymyr Zelensky", "statement": "Putin is testing the West.",
             "quote": "Putin is checking the reaction of the West"},
            {"speaker": "Lloyd Austin", "statement": "Putin is weak.", "quote": "Putin shows clear weakness"},
        ],
        "predictions": [
            {"speaker": "Lloyd Austin", "statement": "North Korean troops will soon fight.",
             "quote": "join the fight against Ukraine in the coming days", "timeframe": "in the coming days"},
            {"speaker": "Zelensky", "statement": "Troops will fight within days and be pushed forward.",
             "quote": "this is a matter of days, not months.\nWhen deployed, they will be pushed forward",
             "timeframe": None},
        ],
        "warnings": [
            {"speaker": "Austin", "statement": "North Korean troops would become legitimate targets.",
             "quote": "they would make themselves legitimate military targets"},
        ],
    }  # fmt: skip


def _summarizer(server: LoopbackServer) -> Summarizer:
    return Summarizer(base_url=server.base_url, api_key="test-key", model="gpt-4o-mini", policy=FAST)


def test_one_plain_request_and_quotes_located(loopback: LoopbackServer) -> None:
    loopback.script(Reply.tool_call(naive_answer(), usage=(900, 150)))
    with _summarizer(loopback) as summarizer:
        result = naive_summarize(SEED_ARTICLE, summarizer)
    [request] = loopback.chat_requests
    assert request.tool_name == "NaiveSummary"
    assert "[1]" not in request.prompt_text and SEED_ARTICLE.sentence(1).text in request.prompt_text
    found, paraphrased = result.claims
    assert [s.sentence for s in found.evidence.sentences] == [2] and found.actor_id == "A1"
    assert found.evidence.quote is not None and SEED_ARTICLE.text[
        found.evidence.quote.start : found.evidence.quote.end] == "Putin is checking the reaction of the West"
    assert paraphrased.evidence.sentences == [] and paraphrased.evidence.quote is None  # ungrounded
    austin, spans_two = result.predictions
    assert austin.timeframe is not None and austin.timeframe.end == dt.date(2024, 11, 8)
    assert [s.sentence for s in spans_two.evidence.sentences] == [8, 9]
    assert (spans_two.actor_id, spans_two.actor) == (None, "Zelensky")  # a speaker the actor list lacks
    assert [a.name for a in result.actors] == naive_answer()["actors"]
    prov = result.provenance
    assert prov.prompt_hash == NAIVE_PROMPT_HASH and [a.outcome for a in prov.attempts] == ["ok"]
    assert prov.usage.total_tokens == 1050 and prov.attempts[0].step == "naive"


def test_invalid_answer_is_not_reasked(loopback: LoopbackServer) -> None:
    bad = naive_answer()
    del bad["claims"][0]["quote"]
    loopback.script(Reply.tool_call(bad), Reply.tool_call(naive_answer()))
    with _summarizer(loopback) as summarizer, pytest.raises(ValidationFailedError) as info:
        naive_summarize(SEED_ARTICLE, summarizer)
    assert len(loopback.chat_requests) == 1 and info.value.attempts == 1


def test_transport_faults_still_go_through_tenacity(loopback: LoopbackServer) -> None:
    loopback.script(Reply.error(500), Reply.tool_call(naive_answer()))
    with _summarizer(loopback) as summarizer:
        result = naive_summarize(SEED_ARTICLE, summarizer)
    assert [a.outcome for a in result.provenance.attempts] == ["http_500", "ok"]


def _seed_gold(tmp_path: Path) -> Path:
    gold = tmp_path / "gold"
    gold.mkdir()
    shutil.copy(ROOT / "fixtures" / "gold" / "zelensky-north-korea.json", gold)
    return gold


def test_run_baseline_then_evaluate(tmp_path: Path, loopback: LoopbackServer) -> None:
    gold, out = _seed_gold(tmp_path), tmp_path / "naive"
    loopback.script(Reply.tool_call(naive_answer()))
    with _summarizer(loopback) as summarizer:
        run = run_baseline(gold, out, summarizer, articles_dir=ARTICLES)
    assert run.written == [out / f"{SEED_ARTICLE.id}.json"] and run.failed == []
    totals = evaluate_dir(gold, out, articles_dir=ARTICLES, label="naive").as_dict()["totals"]
    assert totals["grounding"]["validity"] == pytest.approx(4 / 5)  # the paraphrased quote is ungrounded
    assert totals["grounding"]["spans_valid"] == 1.0
    assert totals["warnings"]["attribution"] == 1.0  # "Austin" as written matches the gold alias
    assert totals["predictions"]["matched"] == 2 and totals["timeframe"]["correct"] == 1


def test_run_baseline_records_failures(tmp_path: Path, loopback: LoopbackServer) -> None:
    gold, out = _seed_gold(tmp_path), tmp_path / "naive"
    loopback.script(Reply.tool_call("{not json"))
    with _summarizer(loopback) as summarizer:
        run = run_baseline(gold, out, summarizer, articles_dir=ARTICLES)
    assert run.written == [] and run.failed[0]["reason"] == "ValidationFailedError"
    line = json.loads((out / "failures.jsonl").read_text(encoding="utf-8"))
    assert line["article"] == "zelensky-north-korea.txt" and "test-key" not in line["error"]


def test_cli_eval_runs_the_baseline_into_an_empty_out_dir(tmp_path: Path, loopback: LoopbackServer,
                                                          cli_in_process: LoopbackCLI) -> None:
    gold, out = _seed_gold(tmp_path), tmp_path / "naive"
    loopback.script(Reply.tool_call(naive_answer()))
    env = {"OPENAI_API_KEY": "test-key"}  # the server from --base-url only
    command = ["eval", "--baseline", "naive", gold, out, "--articles", ARTICLES, "--base-url", loopback.base_url,
               "--model", "gpt-4o-mini"]
    done = cli_in_process(*command, env=env, server=False)
    assert done.returncode == 0, done.stderr
    assert "running the naive baseline" in done.stderr and "naive" in done.stdout
    assert len(loopback.chat_requests) == 1
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert report["label"] == "naive" and report["totals"]["run"]["with_output"] == 1
    again = cli_in_process(*command, env=env, server=False)
    assert again.returncode == 0 and len(loopback.chat_requests) == 1  # outputs exist: not run again
    assert "running the naive baseline" not in again.stderr


def test_the_baseline_resumes_keeps_failures_and_passes_the_answer_budget(tmp_path: Path,
                                                                          loopback: LoopbackServer,
                                                                          cli_in_process: LoopbackCLI) -> None:
    gold, out = _seed_gold(tmp_path), tmp_path / "naive"
    for name in ("ie9", "taxes"):
        shutil.copy(ROOT / "fixtures" / "gold" / f"{name}.json", gold)
    ie9, taxes = read_article(ARTICLES / "ie9.txt"), read_article(ARTICLES / "taxes.txt")
    out.mkdir()
    (out / f"{ie9.id}.json").write_text("{}", encoding="utf-8")  # an earlier run's output: kept, not redone
    failure = {"article": "taxes.txt", "article_id": taxes.id, "reason": "ValidationFailedError"}
    (out / "failures.jsonl").write_text(json.dumps(failure) + "\n")  # an earlier failure: the result, kept
    loopback.script(Reply.tool_call(naive_answer()))
    command = ["eval", "--baseline", "naive", gold, out, "--articles", ARTICLES, "--base-url", loopback.base_url,
               "--model", "gpt-4o-mini", "--max-tokens", "700"]
    done = cli_in_process(*command, env={"OPENAI_API_KEY": "test-key"}, server=False)  # the server from --base-url
    assert "(1 article(s) without an output)" in done.stderr, done.stderr
    (request,) = loopback.chat_requests
    assert request.body["max_tokens"] == 700 and "Internet Explorer" not in request.prompt_text
    assert (out / f"{SEED_ARTICLE.id}.json").is_file() and (out / f"{ie9.id}.json").read_text() == "{}"
    assert [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()] == [failure]
