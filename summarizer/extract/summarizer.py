"""`summarize()` and `asummarize()`: one article in, one validated, grounded `ArticleSummary` out.

Exactly one retry layer per kind of failure:
- transport (429 honouring `Retry-After`, 5xx, timeouts, dropped connections, malformed bodies): tenacity,
  wrapped around the raw `create` that instructor calls (`models/retry.py`);
- invalid or ungrounded answers: instructor's re-ask, under its own cap.
Every HTTP attempt is recorded with its outcome and token usage, failed ones included. Every request is
measured before it is sent and never exceeds the model's context; an article too long for one request is
summarised in chunks and merged (`plan.py`). The requests themselves come from the `Plan`: this module only
sends them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any, cast

import instructor
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel

from summarizer.article.model import Article
from summarizer.article.readers import read_article
from summarizer.errors import ProviderError
from summarizer.extract.chunking import Chunk, PromptBudget, guard_async, guard_sync
from summarizer.extract.plan import Call, GenerationParams, Plan
from summarizer.grounding.answers import Extraction
from summarizer.grounding.checks import validation_article
from summarizer.grounding.verify import Verifier, verifying
from summarizer.grounding.verify import current as current_verifier
from summarizer.models.backend import Backend
from summarizer.models.resolve import adopt_client, connect, resolve_backend
from summarizer.models.retry import AttemptLog, BeforeRequest, RetryPolicy, async_transport, final_error, sync_transport
from summarizer.schema import ArticleSummary

__all__ = ["GenerationParams", "RetryPolicy", "Summarizer", "asummarize", "summarize", "to_article"]

_ANSWER_FAILURES = (InstructorRetryException, IncompleteOutputException, ProviderError)
FAITHFULNESS_REASKS = 1  # per answer, for a model whose re-asks are cheap; then what still fails is dropped


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Summarizer:
    """A configured model connection that summarises many articles (one per call, thread/task safe).

    The backend is, in order: `backend=` (any `models.Backend`, such as the test doubles in
    `models/testing.py`); `client=` (your openai or instructor client); or the one `model`, `base_url`,
    `api_key`, `mode` and the environment choose (`models/resolve.py`).
    """

    def __init__(
        self,
        *,
        client: Any = None,
        backend: Backend | None = None,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        mode: str | None = None,
        policy: RetryPolicy | None = None,
        params: GenerationParams | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        timeout = (params or GenerationParams()).timeout
        if backend is not None:
            self.backend = backend
        elif client is not None:
            self.backend = adopt_client(client, mode=mode, model=model, timeout=timeout)
        else:
            self.backend = connect(resolve_backend(model=model, base_url=base_url, api_key=api_key, mode=mode),
                                   timeout=timeout)
        self._owns_backend = backend is None
        self.plan = Plan.for_backend(self.backend, params)

    @property
    def params(self) -> GenerationParams:
        return self.plan.params

    @property
    def context_tokens(self) -> int:
        """The context window every request must fit: the caller's, else the server's (asked once), else the
        backend's default."""
        return self.plan.context_tokens

    def close(self) -> None:
        """Close the sync HTTP client this Summarizer opened (not a client or backend the caller passed in)."""
        if self._owns_backend:
            self.backend.close()

    async def aclose(self) -> None:
        """Close every HTTP client this Summarizer opened."""
        if self._owns_backend:
            await self.backend.aclose()

    def __enter__(self) -> Summarizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def budget(self) -> PromptBudget:
        """The context requests must fit, counted with the backend's tokenizer where one is offline."""
        return self.plan.budget()

    def chunks(self, source: str | Path | Article) -> list[Chunk]:
        """How `source` is split to fit the context: one chunk unless its requests would not fit."""
        return self.plan.chunks(to_article(source))

    def attempt_log(self) -> AttemptLog:
        """A fresh log for one summary's attempts, redacting this backend's key."""
        return AttemptLog([self.backend.info.api_key or ""])

    # -- summarising --------------------------------------------------------------------------------

    def summarize(self, source: str | Path | Article) -> ArticleSummary:
        """Summarise one article (a path, an `Article`, or raw text), in chunks if it is too long."""
        article, log, started = to_article(source), self.attempt_log(), _now()
        budget = self.plan.budget()
        chunks = self.plan.chunks(article, budget)
        with verifying(self.verifier()) as verifier:
            drafts = [self._drive(self.plan.calls(chunk, len(chunks)), budget, log) for chunk in chunks]
        return self.plan.assemble(article, chunks, drafts, log, started, verifier)

    async def asummarize(self, source: str | Path | Article, *,
                         before_request: BeforeRequest | None = None) -> ArticleSummary:
        """The async twin of `summarize`; `before_request` is awaited before each HTTP attempt."""
        article, log, started = to_article(source), self.attempt_log(), _now()
        budget = self.plan.budget()
        chunks = self.plan.chunks(article, budget)
        with verifying(self.verifier()) as verifier:
            drafts = [await self._adrive(self.plan.calls(chunk, len(chunks)), budget, log, before_request)
                      for chunk in chunks]
        return self.plan.assemble(article, chunks, drafts, log, started, verifier)

    def verifier(self) -> Verifier:
        """Faithfulness re-asks where they are cheap (one per answer), none for a small local model."""
        return Verifier(reasks=0 if self.backend.capabilities.small else FAITHFULNESS_REASKS)

    def _drive(self, calls: Generator[Call, BaseModel, Extraction], budget: PromptBudget,
               log: AttemptLog) -> Extraction:
        """Answer each call of the step loop in turn; the draft it returns."""
        try:
            call = next(calls)
            while True:
                call = calls.send(self._ask(call, budget, log))
        except StopIteration as done:
            return cast(Extraction, done.value)

    async def _adrive(self, calls: Generator[Call, BaseModel, Extraction], budget: PromptBudget,
                      log: AttemptLog, before_request: BeforeRequest | None) -> Extraction:
        """The async twin of `_drive`."""
        try:
            call = next(calls)
            while True:
                call = calls.send(await self._aask(call, budget, log, before_request))
        except StopIteration as done:
            return cast(Extraction, done.value)

    def _ask(self, call: Call, budget: PromptBudget, log: AttemptLog) -> BaseModel:
        """One step: measured, sent through the transport retries, parsed and re-asked by instructor."""
        log.step = call.step
        transport = guard_sync(sync_transport(self.backend.create(call.narrowing), self.policy, log), budget, log)
        create = instructor.patch(create=transport, mode=self.plan.mode)
        _start_answer(self.policy.reasks)
        with validation_article(call.article, call.actors):
            try:
                answer: BaseModel = create(response_model=call.response_model, max_retries=self.policy.reasks,
                                           hooks=log.hooks(), **call.request)
                return answer
            except _ANSWER_FAILURES as exc:
                raise final_error(exc, log) from None

    async def _aask(self, call: Call, budget: PromptBudget, log: AttemptLog,
                    before_request: BeforeRequest | None) -> BaseModel:
        """The async twin of `_ask`."""
        log.step = call.step
        transport = guard_async(async_transport(self.backend.acreate(call.narrowing), self.policy, log,
                                                before_request), budget, log)
        create = cast(Callable[..., Awaitable[BaseModel]], instructor.patch(create=transport, mode=self.plan.mode))
        _start_answer(self.policy.reasks)
        with validation_article(call.article, call.actors):
            try:
                return await create(response_model=call.response_model, max_retries=self.policy.reasks,
                                    hooks=log.hooks(), **call.request)
            except _ANSWER_FAILURES as exc:
                raise final_error(exc, log) from None


def _start_answer(retries: int) -> None:
    verifier = current_verifier()
    if verifier is not None:
        verifier.start_answer(retries)


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
