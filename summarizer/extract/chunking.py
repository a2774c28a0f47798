"""Long articles: requests sized before they are sent, and articles split into chunks that fit.

A prompt that does not fit the model's context is refused or silently truncated, and the embedded model is given a
small context to stay fast. So every request is measured before it is sent, with the backend's `TokenMeter`
(llama.cpp's own tokenizer for the embedded model, characters / 3 otherwise), and one that cannot fit is never
sent. An article whose request would not fit is split on paragraph, then line, then sentence boundaries, with a
small overlap. Each chunk is a contiguous slice of the article: sentence k of a chunk is sentence `first + k - 1`
of the article, and each offset maps back by adding `start`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from summarizer.article.model import Article, Sentence, article_id
from summarizer.errors import ContextOverflowError
from summarizer.models.backend import TokenMeter
from summarizer.models.retry import AttemptLog

__all__ = ["Chunk", "PromptBudget", "guard_async", "guard_sync", "plan_chunks", "view"]

CHUNK_FILL = 0.8  # chunks fill this share of the prompt budget; the rest is for the actor list and re-asks
OVERLAP = 2  # sentences repeated at the start of the next chunk, so "he said" still has its speaker nearby


@dataclass(frozen=True)
class PromptBudget:
    """How many tokens a request may carry: the context minus what the answer may use."""

    context_tokens: int
    output_tokens: int
    meter: TokenMeter

    @property
    def limit(self) -> int:
        """Prompt tokens one request may never exceed."""
        return self.context_tokens - self.output_tokens

    @property
    def chunk_limit(self) -> int:
        """Prompt tokens a chunk's first request is planned to: the rest is headroom for re-asks."""
        return int(self.limit * CHUNK_FILL)

    def check(self, request: Mapping[str, Any], log: AttemptLog) -> None:
        """Refuse to send a request that cannot fit; the error carries the attempts made so far."""
        needed = self.meter.request(request)
        if needed > self.limit:
            raise log.fail(ContextOverflowError, (
                f"a request of about {needed} prompt tokens would not fit: the context is "
                f"{self.context_tokens} tokens and {self.output_tokens} are kept for the answer; nothing was "
                "sent. Raise GenerationParams.context_tokens (if the model allows it) or lower max_tokens."))


def guard_sync(create: Callable[..., Any], budget: PromptBudget, log: AttemptLog) -> Callable[..., Any]:
    """Check every request (re-asks included) against the budget before it reaches the transport."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget.check(kwargs, log)
        return create(*args, **kwargs)

    return guarded


def guard_async(create: Callable[..., Awaitable[Any]], budget: PromptBudget, log: AttemptLog,
                ) -> Callable[..., Awaitable[Any]]:
    """The async twin of `guard_sync` (instructor tells sync from async by the function itself)."""

    async def guarded(*args: Any, **kwargs: Any) -> Any:
        budget.check(kwargs, log)
        return await create(*args, **kwargs)

    return guarded


# --------------------------------------------------------------------------- chunks


@dataclass(frozen=True)
class Chunk:
    """A contiguous run of an article's sentences, as an article of its own numbered from 1."""

    article: Article
    index: int  # 1-based position among the article's chunks
    first: int  # the full article's number of this chunk's sentence 1
    start: int  # offset of this chunk's text in the full article's text

    @property
    def last(self) -> int:
        """The full article's number of this chunk's last sentence."""
        return self.first + len(self.article.sentences) - 1

    def sentence_number(self, n: int) -> int:
        """The full article's number of this chunk's sentence `n`."""
        return self.first + self.article.sentence(n).n - 1

    def offset(self, chunk_offset: int) -> int:
        """The full article's offset of an offset in this chunk's text."""
        return self.start + chunk_offset

    @property
    def sentence_map(self) -> dict[int, int]:
        """Chunk sentence number → full article sentence number."""
        return {s.n: self.first + s.n - 1 for s in self.article.sentences}


def view(article: Article, first: int, last: int) -> Article:
    """Sentences `first`..`last` of `article` as an article of their own: the text between them, verbatim."""
    if first == 1 and last == len(article.sentences):
        return article
    head, tail = article.sentence(first), article.sentence(last)
    text = article.text[head.start:tail.end]
    shift = head.start
    sentences = tuple(Sentence(n=s.n - first + 1, start=s.start - shift, end=s.end - shift, text=s.text)
                      for s in article.sentences[first - 1:last])
    return Article(id=article_id(text), text=text, title=article.title, date=article.date,
                   source=article.source, byline=article.byline, path=article.path, sentences=sentences)


def plan_chunks(article: Article, prompt_tokens: Callable[[Article], int], budget: PromptBudget, *,
                overlap: int = OVERLAP) -> list[Chunk]:
    """Split `article` so each chunk's largest request (`prompt_tokens`) fits; one chunk when it all fits.

    Raises `ContextOverflowError` when even one sentence with the fixed prompt cannot fit.
    """
    limit = budget.chunk_limit
    if prompt_tokens(article) <= limit:
        return [Chunk(article, 1, 1, 0)]
    cost = [budget.meter.text(f"[{s.n}] {s.text}\n") for s in article.sentences]
    fixed = prompt_tokens(view(article, 1, 1)) - cost[0]
    n = len(article.sentences)
    spans: list[tuple[int, int]] = []
    first = 1
    while True:
        last = _fill(cost, first, limit - fixed)
        if last < first:
            _too_long(article, first, fixed + cost[first - 1], budget)
        if last < n:
            last = _boundary(article, first, last)
        while last >= first and prompt_tokens(view(article, first, last)) > limit:
            last -= 1  # the per-line estimate was short of the real count: give back a sentence
        if last < first:
            _too_long(article, first, prompt_tokens(view(article, first, first)), budget)
        spans.append((first, last))
        if last == n:
            break
        first = max(first + 1, last + 1 - overlap)
        if _fill(cost, first, limit - fixed) <= last:
            first = last + 1  # no room for the overlap and a new sentence: start afresh
    return [Chunk(view(article, a, b), i, a, article.sentence(a).start) for i, (a, b) in enumerate(spans, 1)]


def _fill(cost: list[int], first: int, room: int) -> int:
    """The last sentence number that still fits when filling from `first` (first - 1 if none does)."""
    used, last = 0, first - 1
    while last < len(cost) and used + cost[last] <= room:
        used += cost[last]
        last += 1
    return last


def _boundary(article: Article, first: int, last: int) -> int:
    """Where to end a chunk in the second half of first..last: a paragraph, else a line, else `last`."""
    low = first + (last - first) // 2
    text, sentences = article.text, article.sentences
    for mark in ("\n\n", "\n"):
        for end in range(last, low - 1, -1):
            if mark in text[sentences[end - 1].end:sentences[end].start]:
                return end
    return last


def _too_long(article: Article, n: int, needed: int, budget: PromptBudget) -> NoReturn:
    title = budget.meter.text(article.title or "")
    why = (f" The title alone is about {title} tokens: shorten it." if title > budget.chunk_limit // 4 else
           " Raise GenerationParams.context_tokens (the context the model really has) or lower max_tokens.")
    raise ContextOverflowError(
        f"sentence {n} of the article cannot fit in one request: with the instructions it needs about "
        f"{needed} prompt tokens, and the context allows {budget.chunk_limit} per chunk "
        f"({budget.context_tokens} tokens, {budget.output_tokens} kept for the answer); nothing was sent.{why}")
