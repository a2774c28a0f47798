"""Answers recorded from a real model server, replayed through the loopback server and the full stack."""

from __future__ import annotations

import json

import pytest
from faithfulness_lib import grounded, item_count, kept_problems
from fixtures_lib import ARTICLES, RESPONSES
from loopback import LoopbackServer, Reply

from summarizer import GenerationParams, RetryPolicy, Summarizer
from summarizer.article.readers import read_article
from summarizer.grounding.assemble import verify_summary

RECORDED = sorted(RESPONSES.glob("*.extract.recorded.json"))


def test_recordings_are_labelled_and_name_their_article() -> None:
    assert RECORDED, "no recorded fixtures"
    for path in [*RECORDED, *RESPONSES.glob("*.extract.json")]:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["_origin"].startswith(("RECORDED", "AUTHORED")), path.name
        assert (ARTICLES / f"{path.name.split('.')[0]}.txt").is_file()


@pytest.mark.parametrize("path", RECORDED, ids=[p.name.split(".")[0] for p in RECORDED])
def test_recorded_answer_replays_to_a_grounded_summary(loopback: LoopbackServer, path: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    if not data["valid"]:
        pytest.skip(f"recorded answer was invalid when recorded: {data['validation_error']}")
    article = read_article(ARTICLES / f"{path.name.split('.')[0]}.txt")  # type: ignore[attr-defined]
    # An unfaithful item gets one faithfulness re-ask (FAITHFULNESS_REASKS). A recording cannot answer it: the
    # server gives the same recorded answer again, so what still fails is dropped. The re-ask goes through
    # instructor, hence reasks=1 (was 0); a grounding problem would fail the same way twice and still raise.
    loopback.script(Reply.tool_call(data["arguments"]), Reply.tool_call(data["arguments"]))
    with Summarizer(base_url=loopback.base_url, api_key="k", policy=RetryPolicy(reasks=1),
                    params=GenerationParams(two_pass=False)) as summarizer:
        result = summarizer.summarize(article)
    assert result.actors
    assert verify_summary(result, article) == []

    # Verification: every kept item is faithful, and what was dropped is counted, per check, in the provenance.
    assert kept_problems(result, article) == []
    verification = result.provenance.verification
    assert verification is not None and set(verification) == {"dropped", "reasked"}
    recorded = grounded(data["arguments"], article)  # the recording as grounding leaves it, before verification
    dropped_items = item_count(recorded) - item_count(result)
    dropped_actors = len(recorded.actors) - len(result.actors)
    assert sum(verification["dropped"].values()) == dropped_items + dropped_actors
    reasked = {check for check, n in verification["reasked"].items() if n}
    assert {check for check, n in verification["dropped"].items() if n} <= reasked
    # One request, or two when the answer was re-asked: the re-ask gives the faithfulness reasons, and only them.
    assert len(loopback.chat_requests) == (2 if reasked else 1)  # was == 1: the re-ask is new
    if reasked:
        reask = loopback.chat_requests[1].prompt_text
        assert "not faithful to the article" in reask and "not grounded" not in reask
        assert all(f"] {check}: " in reask or check == "actors" for check in reasked)
