"""Answers recorded from a real model server, replayed through the loopback server and the full stack."""

from __future__ import annotations

import json

import pytest
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
    loopback.script(Reply.tool_call(data["arguments"]))
    with Summarizer(base_url=loopback.base_url, api_key="k", policy=RetryPolicy(reasks=0),
                    params=GenerationParams(two_pass=False)) as summarizer:
        result = summarizer.summarize(article)
    assert result.actors
    assert verify_summary(result, article) == []
    assert len(loopback.chat_requests) == 1
