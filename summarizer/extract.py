"""`summarize()` and `asummarize()`: one article in, one validated, grounded `ArticleSummary` out.

Exactly one retry layer per kind of failure:
- transport (429 honouring `Retry-After`, 5xx, timeouts, dropped connections, malformed bodies): tenacity,
  wrapped around the raw `create` that instructor calls, with exponential backoff, jitter and a cap
  (`transport.py`);
- invalid or ungrounded answers: instructor's re-ask, under its own cap.
Every HTTP attempt is recorded with its outcome and token usage, failed ones included. Every request is
measured before it is sent and never exceeds the model's context; an article too long for one request is
summarised in chunks and merged (`chunking.py`, `merge.py`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.processing.response import handle_response_model
from pydantic import BaseModel

from summarizer.article import Article
from summarizer.chunking import (
    EMBEDDED_CONTEXT,
    OPENAI_CONTEXT,
    CharEstimate,
    Chunk,
    LlamaTokens,
    PromptBudget,
    TokenMeter,
    guard_async,
    guard_sync,
    plan_chunks,
)
from summarizer.client import Backend, adopt_client, openai_client, resolve_backend
from summarizer.errors import (
    ConfigurationError,
    ProviderError,
    SummarizerError,
    TruncatedOutputError,
    ValidationFailedError,
)
from summarizer.grounding import build_summary, validation_article
from summarizer.merge import merge_drafts
from summarizer.prompting import Step, build_messages, prompt_hash
from summarizer.readers import read_article
from summarizer.response_models import response_model
from summarizer.schema import (
    MAX_ACTORS,
    SCHEMA_VERSION,
    ActorDraft,
    ActorList,
    ArticleSummary,
    ClaimsStep,
    Extraction,
    PredictionsStep,
    Provenance,
    UsageTotals,
    WarningsStep,
)
from summarizer.transport import AttemptLog, BeforeRequest, RetryPolicy, async_transport, sync_transport

__all__ = [
    "STEP_PLAN", "AttemptLog", "BeforeRequest", "GenerationParams", "RetryPolicy", "Summarizer", "asummarize",
    "async_transport", "summarize", "sync_transport", "to_article",
]  # fmt: skip

# The multi-step plan for small models: actors first, then one focused call per item kind; every step after
# the first shares the cached prompt prefix (instructions, article, actor list) and differs only in its last
# line.
STEP_PLAN: tuple[tuple[Step, type[BaseModel]], ...] = (
    ("actors", ActorList), ("claims", ClaimsStep), ("predictions", PredictionsStep),
    ("warnings", WarningsStep),
)
# Stands in for pass one's actor list when a chunk is sized before pass one has run.
_PLACEHOLDER_ACTORS = tuple(
    ActorDraft(id=f"A{i}", name=f"Firstname Middlename Lastname {i}", kind="person",
               aliases=[f"Title Lastname {i}", f"Another Name {i}"])
    for i in range(1, MAX_ACTORS + 1)
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class GenerationParams:
    """What is sent besides the prompt; part of the store key."""

    temperature: float = 0.0
    max_tokens: int = 4096
    two_pass: bool | None = None  # None: multi-step for the embedded model, one call otherwise
    timeout: float = 120.0
    context_tokens: int | None = None  # the model's context window; None: the backend's default

    def key(self) -> str:
        ctx = "" if self.context_tokens is None else f";ctx={self.context_tokens}"
        return f"t={self.temperature};max={self.max_tokens};2p={int(bool(self.two_pass))}{ctx}"


def _unwrap(exc: BaseException, log: AttemptLog) -> SummarizerError:
    """Turn what instructor raised into our typed error, carrying attempts and usage."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ProviderError):
            return log.fail(type(seen), str(seen), seen.status_code)
        if isinstance(seen, IncompleteOutputException):
            return log.fail(TruncatedOutputError,
                            "the model hit its output token limit (finish_reason: length)")
        seen = seen.__cause__ or seen.__context__
    last = next((r.error for r in reversed(log.records) if r.outcome == "invalid"), None) or str(exc)
    return log.fail(ValidationFailedError,
                    f"the model's answer was still invalid after {len(log.records)} attempts: {last}")


# --------------------------------------------------------------------------- the summarizer


class Summarizer:
    """A configured model connection that summarises many articles (one per call, thread/task safe)."""

    def __init__(
        self,
        *,
        client: Any = None,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        mode: str | None = None,
        policy: RetryPolicy | None = None,
        params: GenerationParams | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._sync: Any = None
        self._async: Any = None
        self._local: Any = None
        if client is not None:
            self.backend, inner = adopt_client(client, mode)
            if model:
                self.backend = Backend("openai", model, self.backend.mode, self.backend.reason,
                                       base_url=self.backend.base_url)
            if isinstance(inner, openai.AsyncOpenAI):
                self._async = inner
            else:
                self._sync = inner
        else:
            self.backend = resolve_backend(model=model, base_url=base_url, api_key=api_key, mode=mode)
        self._owns_clients = client is None
        params = params or GenerationParams()
        if params.two_pass is None:
            params = dataclasses.replace(params, two_pass=self.backend.kind == "embedded")
        self.params = params
        self.context_tokens = self._context_tokens()

    def close(self) -> None:
        """Close the sync HTTP client this Summarizer opened (not a client the caller passed in)."""
        if self._owns_clients and self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close every HTTP client this Summarizer opened."""
        self.close()
        if self._owns_clients and self._async is not None:
            await self._async.close()
            self._async = None

    def __enter__(self) -> Summarizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- raw create functions (the seam) -------------------------------------------------------------

    def _raw_sync(self, *, plain: bool = False) -> Callable[..., Any]:
        """The raw create function; `plain=True` skips the embedded backend's schema narrowing (baselines)."""
        if self.backend.kind == "embedded":
            local = self._local_model()
            return local.plain_create if plain else local.create  # type: ignore[no-any-return]
        if self._sync is None and self._owns_clients:
            self._sync = openai_client(self.backend, self.params.timeout, asynchronous=False)
        if self._sync is None:
            raise SummarizerError("this Summarizer was given an async client: use asummarize()")
        return self._sync.chat.completions.create  # type: ignore[no-any-return]

    def _raw_async(self) -> Callable[..., Awaitable[Any]]:
        if self.backend.kind == "embedded":
            return self._local_model().acreate  # type: ignore[no-any-return]
        if self._async is None and self._owns_clients:
            self._async = openai_client(self.backend, self.params.timeout, asynchronous=True)
        if self._async is None:
            raise SummarizerError("this Summarizer was given a sync client: use summarize()")
        return self._async.chat.completions.create  # type: ignore[no-any-return]

    def _local_model(self) -> Any:
        if self._local is None:
            from summarizer.local import LocalModel

            self._local = LocalModel.shared()
        return self._local

    def _request(self, article: Article, step: Step, actors: Sequence[ActorDraft] = ()) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.backend.model,
            "messages": build_messages(article, step, actors=actors,
                                       with_example=True),
            "temperature": self.params.temperature,
            "max_tokens": self.params.max_tokens,
        }
        if self.backend.kind == "embedded":
            kwargs["article"] = article  # lets the local backend size its context and constrain decoding
            if actors:
                kwargs["actor_ids"] = [a.id for a in actors]
        return kwargs

    def _steps(self) -> list[tuple[Step, type[BaseModel]]]:
        """One call for capable models; focused steps sharing a cached prefix for the small embedded model."""
        if self.params.two_pass:
            return [(step, response_model(model)) for step, model in STEP_PLAN]
        return [("extract", response_model(Extraction))]

    # -- prompt size --------------------------------------------------------------------------------

    def _context_tokens(self) -> int:
        """The context window every request must fit: the caller's, else the backend's default."""
        embedded = self.backend.kind == "embedded"
        context = self.params.context_tokens or (EMBEDDED_CONTEXT if embedded else OPENAI_CONTEXT)
        if context <= self.params.max_tokens:
            raise ConfigurationError(f"context_tokens ({context}) must be larger than max_tokens "
                                     f"({self.params.max_tokens}): the prompt needs room besides the answer")
        if embedded:
            from summarizer.local import MAX_CTX

            if context > MAX_CTX:
                raise ConfigurationError(f"context_tokens ({context}) is more than the embedded model allows "
                                         f"({MAX_CTX})")
        return context

    def budget(self) -> PromptBudget:
        """The context requests must fit, counted with the backend's tokenizer where one is offline."""
        embedded = self.backend.kind == "embedded"
        meter: TokenMeter = LlamaTokens(self._local_model()) if embedded else CharEstimate()
        return PromptBudget(self.context_tokens, self.params.max_tokens, meter)

    def chunks(self, source: str | Path | Article) -> list[Chunk]:
        """How `source` is split to fit the context: one chunk unless its requests would not fit."""
        return self._chunks(to_article(source), self.budget())

    def _chunks(self, article: Article, budget: PromptBudget) -> list[Chunk]:
        def largest(view: Article) -> int:
            steps = self._steps()
            return max(budget.meter.request(self._prepared(view, step, model)) for step, model in steps)

        return plan_chunks(article, largest, budget)

    def _prepared(self, article: Article, step: Step, model: type[BaseModel]) -> dict[str, Any]:
        """A step's first request as instructor will send it (schema included), for sizing only."""
        actors = _PLACEHOLDER_ACTORS if step not in ("extract", "actors") else ()
        return handle_response_model(model, self.backend.mode, **self._request(article, step, actors))[1]

    # -- summarising --------------------------------------------------------------------------------

    def summarize(self, source: str | Path | Article) -> ArticleSummary:
        """Summarise one article (a path, an `Article`, or raw text), in chunks if it is too long."""
        article = to_article(source)
        log = AttemptLog([self.backend.api_key or ""])
        started = _now()
        budget = self.budget()
        chunks = self._chunks(article, budget)
        drafts = [self._chunk_sync(chunk, len(chunks), budget, log) for chunk in chunks]
        return self._finish(article, chunks, drafts, log, started)

    async def asummarize(self, source: str | Path | Article, *,
                         before_request: BeforeRequest | None = None) -> ArticleSummary:
        """The async twin of `summarize`; `before_request` is awaited before each HTTP attempt."""
        article = to_article(source)
        log = AttemptLog([self.backend.api_key or ""])
        started = _now()
        budget = self.budget()
        chunks = self._chunks(article, budget)
        drafts = [await self._chunk_async(chunk, len(chunks), budget, log, before_request)
                  for chunk in chunks]
        return self._finish(article, chunks, drafts, log, started)

    def _chunk_sync(self, chunk: Chunk, count: int, budget: PromptBudget, log: AttemptLog) -> Extraction:
        """The step loop over one chunk (the whole article when it fits): one call, or the multi-step plan."""
        results: list[BaseModel] = []
        for step, model in self._steps():
            log.step = _step_name(step, chunk, count)
            actors = _pass_one(results)
            transport = guard_sync(sync_transport(self._raw_sync(), self.policy, log), budget, log)
            create = instructor.patch(create=transport, mode=self.backend.mode)
            with validation_article(chunk.article, actors):
                try:
                    results.append(create(response_model=model, max_retries=self.policy.reasks,
                                          hooks=log.hooks(), **self._request(chunk.article, step, actors)))
                except (InstructorRetryException, IncompleteOutputException, ProviderError) as exc:
                    raise _unwrap(exc, log) from None
        return _draft(results)

    async def _chunk_async(self, chunk: Chunk, count: int, budget: PromptBudget, log: AttemptLog,
                           before_request: BeforeRequest | None) -> Extraction:
        """The async twin of `_chunk_sync`."""
        results: list[BaseModel] = []
        for step, model in self._steps():
            log.step = _step_name(step, chunk, count)
            actors = _pass_one(results)
            transport = guard_async(async_transport(self._raw_async(), self.policy, log, before_request),
                                    budget, log)
            create = cast(Callable[..., Awaitable[BaseModel]],
                          instructor.patch(create=transport, mode=self.backend.mode))
            request = self._request(chunk.article, step, actors)
            with validation_article(chunk.article, actors):
                try:
                    results.append(await create(response_model=model, max_retries=self.policy.reasks,
                                                hooks=log.hooks(), **request))
                except (InstructorRetryException, IncompleteOutputException, ProviderError) as exc:
                    raise _unwrap(exc, log) from None
        return _draft(results)

    def _finish(self, article: Article, chunks: Sequence[Chunk], drafts: Sequence[Extraction],
                log: AttemptLog, started: dt.datetime) -> ArticleSummary:
        draft = drafts[0] if len(drafts) == 1 else merge_drafts(chunks, drafts)
        provenance = Provenance(
            model=self.backend.model, backend=self.backend.label, mode=self.backend.mode.value,
            prompt_hash=prompt_hash(), schema_version=SCHEMA_VERSION, attempts=log.records,
            usage=UsageTotals(**log.usage.as_dict()), started_at=started, finished_at=_now(),
            chunks=len(chunks),
        )
        return build_summary(article, draft.summary, draft.actors, draft, provenance)


def _step_name(step: Step, chunk: Chunk, count: int) -> str:
    """How attempts are labelled: the step, and the chunk when there are several ("claims#2")."""
    return step if count == 1 else f"{step}#{chunk.index}"


def _pass_one(results: Sequence[BaseModel]) -> Sequence[ActorDraft]:
    """The actors found by the first step of the multi-step plan, for the steps after it."""
    return results[0].actors if results and isinstance(results[0], ActorList) else ()


def _draft(results: Sequence[BaseModel]) -> Extraction:
    """The answers of one chunk's steps as one draft."""
    merged: dict[str, Any] = {"summary": "", "actors": [], "claims": [], "predictions": [], "warnings": []}
    for result in results:
        for name in merged:
            value = getattr(result, name, None)
            if value:
                merged[name] = value
    return Extraction.model_construct(**merged)


def to_article(source: str | Path | Article) -> Article:
    """A path, an `Article`, or raw text, as an `Article`."""
    if isinstance(source, Article):
        return source
    if isinstance(source, Path):
        return read_article(source)
    if "\n" not in source and len(source) < 4096:
        path = Path(source)
        try:
            if path.is_file():
                return read_article(path)
        except OSError:
            pass
    return Article.from_text(source)


def summarize(source: str | Path | Article, **options: Any) -> ArticleSummary:
    """Summarise one article. Options are those of `Summarizer` (client, model, base_url, api_key, mode…)."""
    with Summarizer(**options) as summarizer:
        return summarizer.summarize(source)


async def asummarize(source: str | Path | Article, **options: Any) -> ArticleSummary:
    """The async twin of `summarize`."""
    async with Summarizer(**options) as summarizer:
        return await summarizer.asummarize(source)
