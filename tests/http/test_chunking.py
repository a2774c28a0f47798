"""Long articles: chunked to fit the context, summarised chunk by chunk through the loopback server."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from typing import Any

import pytest
from fixtures_lib import ARTICLES, check_view, long_article
from loopback import LoopbackServer, RecordedRequest, Reply

from summarizer import (
    Article,
    ContextOverflowError,
    GenerationParams,
    RetryPolicy,
    Summarizer,
)
from summarizer.article.readers import read_article
from summarizer.extract.chunking import PromptBudget, plan_chunks
from summarizer.grounding.assemble import verify_summary
from summarizer.grounding.names import variant_key
from summarizer.models.backend import CharEstimate
from summarizer.models.retry import AttemptLog

FAST = RetryPolicy(transport_retries=1, reasks=1, initial_wait=0.01, max_wait=0.02)
LINE = re.compile(r"^\[(\d+)\] (.*)$", re.M)
QUOTE_MARKS = ('"', "“", "”")
# Names the answers give the same person in different chunks; the merged result must hold one actor.
ZELENSKY = ["Volodymyr Zelensky", "President Volodymyr Zelensky", "Zelenskyy", "Volodymyr Zelenskyy"]
ZELENSKY_SAYS = re.compile(r"\bZelensky (?:said|complained|predicted)\b")  # sentences the text makes his words
WARNED = re.compile(r"\bwarn(?:s|ed|ing)?\b")
def numbered_lines(request: RecordedRequest) -> list[tuple[int, str]]:
    """The `[n] sentence` lines of the article in a request (the example in the system prompt excluded)."""
    user = next(m["content"] for m in request.messages if m["role"] == "user")
    return [(int(n), text) for n, text in LINE.findall(user)]


def chunk_answer(request: RecordedRequest) -> dict[str, Any]:
    """A valid and faithful answer for whichever chunk was sent, citing only that chunk's own sentence numbers.

    A claim for each of the first two and last two sentences: the last two of one chunk are the first two of
    the next (the overlap), so those items arrive twice and must be merged into one. Those sentences may be
    anyone's words or none, so they are the article's own voice (each statement restates its sentence); Zelensky
    and the two Koreas are listed where the chunk names them, Zelensky with a claim he makes there.
    """
    lines = numbered_lines(request)
    text = " ".join(t for _, t in lines)
    n_max = len(lines)
    edges = sorted({1, min(2, n_max), max(1, n_max - 1), n_max})
    inner = [(n, t) for n, t in lines if n not in edges and any(q in t for q in QUOTE_MARKS)]
    actors = []
    if "Zelensky" in text:  # a different form of his name in each chunk; the article's own form as an alias
        name = ZELENSKY[len(lines[0][1]) % len(ZELENSKY)]
        actors.append({"id": "A1", "name": name, "kind": "person", "role": "speaker", "aliases": ["Zelensky"]})
    for actor_id, country in (("A2", "North Korea"), ("A3", "South Korea")):
        if country in text:
            actors.append({"id": actor_id, "name": country, "kind": "country", "role": "", "aliases": []})
    claims = [{"actor": "article", "sentences": [n], "statement": f"Quoted: {t[:70]}", "quote": t[:25]}
              for n, t in inner[:1]]
    if actors and actors[0]["id"] == "A1":
        said = [(n, t) for n, t in lines if n not in edges and ZELENSKY_SAYS.search(t)]
        claims += [{"actor": "A1", "sentences": [n], "statement": f"Zelensky: {t[:70]}", "quote": None}
                   for n, t in said[:1]]
    for n in edges:
        claims.append({"actor": "article", "sentences": [n], "statement": f"Sentence says: {lines[n - 1][1][:70]}",
                       "quote": None})
    warned = [(n, t) for n, t in lines if WARNED.search(t)]
    return {
        "summary": f"A part of {n_max} sentences.",
        "actors": actors,
        "claims": claims[:8],
        "predictions": [],
        "warnings": [{"actor": "article", "sentences": [n], "statement": f"A warning: {t[:70]}",
                      "addressees": [a["id"] for a in actors[-1:]], "consequence": None, "condition": None,
                      "quote": None} for n, t in warned[:1]],
    }


def step_answer(request: RecordedRequest) -> dict[str, Any]:
    """The multi-step plan's answers: actors, then claims (with the summary), predictions, warnings."""
    full = chunk_answer(request)
    return {"ActorList": {"actors": full["actors"]},
            "ClaimsStep": {"claims": full["claims"], "summary": full["summary"]},
            "PredictionsStep": {"predictions": []},
            "WarningsStep": {"warnings": full["warnings"]}}[request.tool_name or ""]


def summarizer(server: LoopbackServer, **params: Any) -> Summarizer:
    return Summarizer(base_url=server.base_url, api_key="test-key", model="gpt-4o-mini", policy=FAST,
                      params=GenerationParams(**params))


def test_sixty_kilobytes_in_chunks_keep_offsets_actors_and_overlap_items_once(loopback: LoopbackServer,
                                                                              ) -> None:
    article = long_article()
    assert len(article.text) >= 60_000
    loopback.responder = lambda request: Reply.tool_call(chunk_answer(request))
    # Chunks small enough that the Zelensky article spans two of them (12_000 put it in one): a faithful answer
    # lists him only where the chunk names him, and his two forms of name must still be merged.
    with summarizer(loopback, context_tokens=8_000, max_tokens=2_000) as s:
        chunks = s.chunks(article)
        result = s.summarize(article)

    assert len({a["name"] for chunk, request in zip(chunks, loopback.chat_requests, strict=True)
                for a in chunk_answer(request)["actors"] if "Zelensk" in a["name"]}) >= 2
    assert 3 <= len(chunks) == result.provenance.chunks == len(loopback.chat_requests)
    assert verify_summary(result, article) == []
    for item in [*result.claims, *result.predictions, *result.warnings]:
        for span in item.evidence.sentences:
            assert article.text[span.start:span.end] == span.text == article.sentence(span.sentence).text
        if item.evidence.quote is not None:
            q = item.evidence.quote
            assert article.text[q.start:q.end] == q.text
        # was `in {ids}` alone: the edge sentences are the article's voice now (actor_id None), not Zelensky's
        assert item.actor_id is None or item.actor_id in {a.id for a in result.actors}

    keys = [variant_key(a.name) for a in result.actors]
    assert len(keys) == len(set(keys)), keys
    (zelensky,) = [a for a in result.actors if "zelensk" in variant_key(a.name)]
    assert variant_key(zelensky.name) == "volodymyr zelensky" and zelensky.kind == "person"
    assert {c.actor_id for c in result.claims} - {None} == {zelensky.id}  # his claims, under the merged id
    assert {"North Korea", "South Korea"} <= {a.name for a in result.actors}

    requests = zip(chunks, loopback.chat_requests, strict=True)
    answered = Counter(chunk.first + n - 1 for chunk, request in requests
                       for claim in chunk_answer(request)["claims"] for n in claim["sentences"])
    cited = Counter(s.sentence for c in result.claims for s in c.evidence.sentences)
    for before, after in itertools.pairwise(chunks):
        overlap = range(after.first, before.last + 1)
        assert len(overlap) == 2
        for n in overlap:
            assert answered[n] == 2, "the server was to answer each overlap sentence in both chunks"
            assert cited[n] == 1, f"sentence {n} (overlap of chunks {before.index} and {after.index})"

    sent = [r.usage for r in loopback.chat_requests if r.usage]
    assert result.provenance.usage.prompt_tokens == sum(u["prompt_tokens"] for u in sent)
    assert result.provenance.usage.completion_tokens == sum(u["completion_tokens"] for u in sent)
    assert {a.step for a in result.provenance.attempts} == {f"extract#{c.index}" for c in chunks}


@pytest.mark.parametrize("two_pass", [False, True], ids=["one-call", "multi-step"])
def test_never_sends_what_cannot_fit(loopback: LoopbackServer, two_pass: bool) -> None:
    article = Article.from_text("\n\n".join(read_article(ARTICLES / name).text
                                            for name in ("iodine.txt", "afghan.txt", "taxes.txt")))
    loopback.responder = lambda request: Reply.tool_call(step_answer(request) if two_pass else
                                                         chunk_answer(request))
    with summarizer(loopback, context_tokens=6_000, max_tokens=1_000, two_pass=two_pass) as s:
        budget = s.budget()
        chunks = s.chunks(article)
        result = s.summarize(article)

    steps = 4 if two_pass else 1
    assert result.provenance.chunks == len(chunks) == len(loopback.chat_requests) // steps
    lines = sum(CharEstimate().text(f"[{x.n}] {x.text}\n") for x in article.sentences)
    assert len(chunks) >= max(3, math.ceil(lines / budget.chunk_limit))
    sizes = [CharEstimate().request(r.body) for r in loopback.chat_requests]
    assert max(sizes) <= budget.limit == 5_000
    assert verify_summary(result, article) == []


def test_a_sentence_that_cannot_fit_raises_before_anything_is_sent(loopback: LoopbackServer) -> None:
    article = Article.from_text("Short opening.\n" + "word " * 6_000 + "end.\nShort closing.")
    with summarizer(loopback, context_tokens=6_000, max_tokens=1_000) as s, \
            pytest.raises(ContextOverflowError, match=r"sentence 2 .* cannot fit"):
        s.summarize(article)
    assert loopback.chat_requests == []


def test_a_re_ask_that_would_not_fit_is_not_sent(loopback: LoopbackServer) -> None:
    """A re-ask carries the rejected answer back; a huge rejected answer must not push it past the context."""
    rambling = {"summary": "s", "actors": [], "predictions": [], "warnings": [], "claims": [
        {"actor": "article", "sentences": [99], "statement": "word " * 3_000, "quote": None}]}
    loopback.script(Reply.tool_call(rambling, usage=(2_000, 3_000)))
    with summarizer(loopback, context_tokens=6_000, max_tokens=1_000) as s, \
            pytest.raises(ContextOverflowError, match="nothing was sent") as info:
        s.summarize(read_article(ARTICLES / "ie9.txt"))
    assert len(loopback.chat_requests) == 1
    assert (info.value.attempts, info.value.usage.total_tokens) == (1, 5_000)


def test_the_guard_refuses_an_oversized_request_with_the_attempts_so_far() -> None:
    budget = PromptBudget(context_tokens=1_000, output_tokens=400, meter=CharEstimate())
    small = {"messages": [{"role": "user", "content": "x" * 1_500}]}
    budget.check(small, AttemptLog())
    with pytest.raises(ContextOverflowError, match="nothing was sent") as info:
        budget.check({"messages": [{"role": "user", "content": "x" * 2_000}]}, AttemptLog())
    assert info.value.attempts == 0


def test_an_article_that_fits_is_one_chunk_the_article_itself(loopback: LoopbackServer) -> None:
    article = read_article(ARTICLES / "ie9.txt")
    with summarizer(loopback) as s:
        (chunk,) = s.chunks(article)
    assert chunk.article is article and (chunk.first, chunk.start) == (1, 0)
    assert s.context_tokens == 100_000


async def test_async_twin_chunks_the_same_way(loopback: LoopbackServer) -> None:
    article = long_article(20_000)
    loopback.responder = lambda request: Reply.tool_call(chunk_answer(request))
    async with summarizer(loopback, context_tokens=8_000, max_tokens=1_000) as s:
        result = await s.asummarize(article)
        assert result.provenance.chunks == len(s.chunks(article)) > 1
    assert verify_summary(result, article) == []


def test_chunks_are_slices_on_paragraphs_with_a_two_sentence_overlap() -> None:
    article = long_article(15_000)
    budget = PromptBudget(4_000, 1_000, CharEstimate())
    chunks = plan_chunks(article, lambda a: 500 + sum(budget.meter.text(f"[{s.n}] {s.text}\n")
                                                      for s in a.sentences), budget)
    assert len(chunks) > 3 and chunks[0].first == 1 and chunks[-1].last == len(article.sentences)
    for chunk in chunks:
        check_view(article, chunk)
    for before, after in itertools.pairwise(chunks):
        assert after.first == before.last - 1
        gap = article.text[article.sentence(before.last).end:article.sentence(before.last + 1).start]
        assert "\n" in gap  # ended at a paragraph or line, not inside one


def test_context_must_leave_room_for_the_prompt() -> None:
    from summarizer import ConfigurationError

    with pytest.raises(ConfigurationError, match="must be larger than max_tokens"):
        Summarizer(base_url="http://127.0.0.1:9/v1", api_key="k",
                   params=GenerationParams(max_tokens=4_096, context_tokens=4_000))
    assert GenerationParams().key() == "t=0.0;max=4096;2p=0"  # stored results stay valid
    assert GenerationParams(context_tokens=8_000).key().endswith(";ctx=8000")


def test_a_re_anchored_citation_keeps_what_the_model_cited_in_full_article_numbers(loopback: LoopbackServer,
                                                                                   ) -> None:
    """Each chunk's answer copies its own sentence 3 but cites its sentence 1: both are lifted to the full article."""
    article = long_article(20_000)

    def copy_of_third(request: RecordedRequest) -> Reply:
        third = dict(numbered_lines(request))[3]
        return Reply.tool_call({"summary": "s", "actors": [], "predictions": [], "warnings": [], "claims": [
            {"actor": "article", "statement": third, "sentences": [1], "quote": None}]})

    loopback.responder = copy_of_third
    with summarizer(loopback, context_tokens=6_000, max_tokens=1_000) as s:
        chunks = s.chunks(article)
        result = s.summarize(article)
    assert len(chunks) >= 2
    moved = {(tuple(x.sentence for x in c.evidence.sentences), tuple(c.evidence.re_anchored_from or ()))
             for c in result.claims}
    assert moved == {((chunk.sentence_number(3),), (chunk.sentence_number(1),)) for chunk in chunks}
    assert verify_summary(result, article) == []
