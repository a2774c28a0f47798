"""`summarize()` and `asummarize()`: one article in, one validated, grounded `ArticleSummary` out.

Exactly one retry layer per kind of failure:
- transport (429 honouring `Retry-After`, 5xx, timeouts, dropped connections, malformed bodies): tenacity,
  wrapped around the raw `create` that instructor calls, with exponential backoff, jitter and a cap;
- invalid or ungrounded answers: instructor's re-ask, under its own cap.
Every HTTP attempt is recorded with its outcome and token usage, failed ones included.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import json
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from summarizer.article import Article
from summarizer.client import Backend, adopt_client, openai_clients, resolve_backend
from summarizer.errors import (
    AttemptsExhaustedError,
    ProviderError,
    SummarizerError,
    TruncatedOutputError,
    Usage,
    ValidationFailedError,
)
from summarizer.grounding import build_summary, validation_article
from summarizer.prompting import Step, build_messages, prompt_hash
from summarizer.readers import read_article
from summarizer.redact import redact
from summarizer.schema import (
    SCHEMA_VERSION,
    ActorDraft,
    ActorList,
    ArticleSummary,
    AttemptRecord,
    Extraction,
    ClaimsStep,
    PredictionsStep,
    WarningsStep,
    Provenance,
    UsageTotals,
)

M = TypeVar("M", bound=BaseModel)
# The multi-step plan for small models: actors first, then one focused call per item kind; every step after the
# first shares the cached prompt prefix (instructions, article, actor list) and differs only in its last line.
STEP_PLAN: tuple[tuple[Step, type[BaseModel]], ...] = (
    ("actors", ActorList), ("claims", ClaimsStep), ("predictions", PredictionsStep), ("warnings", WarningsStep),
)
# Awaited with the request's keyword arguments before each async HTTP attempt (rate limiters in batch runs).
BeforeRequest = Callable[[Mapping[str, Any]], Awaitable[None]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@functools.cache
def _response_model(model: type[M]) -> type[M]:
    """Wrap once: instructor wraps a plain model in a new class per call, which defeats its schema cache."""
    _check_async_validators_once()
    return instructor.response_schema(model)


def _check_async_validators_once() -> None:
    """Remember the classes instructor found free of async validators.

    instructor 1.17 walks the whole class tree of the response model about six times per request to refuse
    async validators: ~1 ms of CPU per request, a fifth of a batch's client overhead. A class's validators do
    not change, so the answer is kept per class; anything else (generics, new classes) is still checked.
    """
    try:
        from instructor.v2.core import patch as patch_module
        from instructor.v2.validation import async_validators
    except ImportError:  # pragma: no cover - another instructor layout: nothing to speed up
        return
    check = async_validators.reject_async_validators
    if getattr(check, "remembers", False):
        return
    passed: weakref.WeakSet[type] = weakref.WeakSet()

    def reject_async_validators(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in passed:
            return
        check(response_model)
        if isinstance(response_model, type):
            passed.add(response_model)

    reject_async_validators.remembers = True  # type: ignore[attr-defined]
    async_validators.reject_async_validators = reject_async_validators
    patch_module.reject_async_validators = reject_async_validators  # type: ignore[attr-defined]  # imported by name


@dataclass(frozen=True)
class RetryPolicy:
    """Caps and waits of the two retry layers."""

    transport_retries: int = 4  # tenacity: at most 1 + 4 HTTP requests per model call
    reasks: int = 2  # instructor: at most 1 + 2 answers per step
    initial_wait: float = 1.0
    max_wait: float = 60.0
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class GenerationParams:
    """What is sent besides the prompt; part of the store key."""

    temperature: float = 0.0
    max_tokens: int = 4096
    two_pass: bool = False
    timeout: float = 120.0

    def key(self) -> str:
        return f"t={self.temperature};max={self.max_tokens};2p={int(self.two_pass)}"


# --------------------------------------------------------------------------- attempt recording


def _transient(exc: BaseException) -> bool:
    """Failures worth retrying at the transport layer."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | openai.APIResponseValidationError | json.JSONDecodeError)


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return "malformed"
    return type(exc).__name__


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms` or `Retry-After`, seconds or HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, (parsed - _now()).total_seconds()) if parsed else None


class AttemptLog:
    """Every HTTP attempt of one summary, with usage; shared by both retry layers."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.records: list[AttemptRecord] = []
        self.step = "extract"
        self._secrets = [s for s in secrets if s]
        self.waited = 0.0

    def add(self, outcome: str, started: dt.datetime, *, error: str | None = None, response: Any = None) -> None:
        usage = getattr(response, "usage", None)
        self.records.append(AttemptRecord(
            n=len(self.records) + 1, step=self.step, outcome=outcome,
            error=redact(error, self._secrets)[:500] if error else None,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            started_at=started, ended_at=_now(),
        ))

    def mark_invalid(self, error: BaseException) -> None:
        """The last answer parsed but failed validation: instructor will re-ask."""
        if self.records and self.records[-1].outcome == "ok":
            self.records[-1].outcome = "invalid"
            self.records[-1].error = redact(str(error), self._secrets)[:1500]

    @property
    def usage(self) -> Usage:
        return Usage(sum(r.prompt_tokens for r in self.records), sum(r.completion_tokens for r in self.records))

    def fail(self, cls: type[ProviderError], message: str, status: int | None = None) -> ProviderError:
        return cls(redact(message, self._secrets), attempts=len(self.records), usage=self.usage,
                   records=[r.model_dump(mode="json") for r in self.records], status_code=status)

    def hooks(self) -> Hooks:
        hooks = Hooks()
        hooks.on("parse:error", lambda error, **_: self.mark_invalid(error))
        return hooks


def _wait(policy: RetryPolicy, log: AttemptLog) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = _retry_after(exc)
        if asked is not None:
            delay = min(asked, policy.max_retry_after)
        else:
            base = policy.initial_wait * 2 ** (state.attempt_number - 1)
            delay = min(policy.max_wait, base) * (0.5 + random.random() / 2)  # noqa: S311 - jitter
        log.waited += delay
        return delay

    return wait


def _check_finish(response: Any, log: AttemptLog) -> None:
    choices = getattr(response, "choices", None) or []
    if choices and getattr(choices[0], "finish_reason", None) == "length":
        log.records[-1].outcome = "length"
        raise log.fail(TruncatedOutputError,
                       "the model hit its output token limit (finish_reason: length) and the answer is incomplete; "
                       "raise max_tokens, or shorten the article (chunking)")


def _exhausted(log: AttemptLog, exc: BaseException) -> ProviderError:
    status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
    if not _transient(exc):
        return log.fail(ProviderError, f"the model server refused the request ({_outcome(exc)}): {exc}", status)
    return log.fail(AttemptsExhaustedError,
                    f"gave up after {len(log.records)} attempts; last error: {_outcome(exc)}: {exc}", status)


def sync_transport(raw: Callable[..., Any], policy: RetryPolicy, log: AttemptLog) -> Callable[..., Any]:
    """Wrap a raw chat-completions `create` in the transport retry layer."""

    def create(*args: Any, **kwargs: Any) -> Any:
        retrying = Retrying(stop=stop_after_attempt(policy.transport_retries + 1), wait=_wait(policy, log),
                            retry=retry_if_exception(_transient), reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    started = _now()
                    try:
                        response = raw(*args, **kwargs)
                    except Exception as exc:
                        log.add(_outcome(exc), started, error=str(exc))
                        raise
                    log.add("ok", started, response=response)
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            raise _exhausted(log, exc) from None
        _check_finish(response, log)
        return response

    return create


def async_transport(raw: Callable[..., Awaitable[Any]], policy: RetryPolicy, log: AttemptLog,
                    before_request: BeforeRequest | None = None) -> Callable[..., Any]:
    """The async twin of `sync_transport`; `before_request` is awaited before every HTTP attempt."""

    async def create(*args: Any, **kwargs: Any) -> Any:
        retrying = AsyncRetrying(stop=stop_after_attempt(policy.transport_retries + 1), wait=_wait(policy, log),
                                 retry=retry_if_exception(_transient), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    if before_request is not None:
                        await before_request(kwargs)
                    started = _now()
                    try:
                        response = await raw(*args, **kwargs)
                    except Exception as exc:
                        log.add(_outcome(exc), started, error=str(exc))
                        raise
                    log.add("ok", started, response=response)
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            raise _exhausted(log, exc) from None
        _check_finish(response, log)
        return response

    return create


def _unwrap(exc: BaseException, log: AttemptLog) -> SummarizerError:
    """Turn what instructor raised into our typed error, carrying attempts and usage."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ProviderError):
            return log.fail(type(seen), str(seen), seen.status_code)
        if isinstance(seen, IncompleteOutputException):
            return log.fail(TruncatedOutputError, "the model hit its output token limit (finish_reason: length)")
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
        two_pass_default = self.backend.kind == "embedded"
        self.params = params or GenerationParams(two_pass=two_pass_default)

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
            self._sync = openai_clients(self.backend, self.params.timeout)[0]
        if self._sync is None:
            raise SummarizerError("this Summarizer was given an async client: use asummarize()")
        return self._sync.chat.completions.create  # type: ignore[no-any-return]

    def _raw_async(self) -> Callable[..., Awaitable[Any]]:
        if self.backend.kind == "embedded":
            return self._local_model().acreate
        if self._async is None and self._owns_clients:
            self._async = openai_clients(self.backend, self.params.timeout)[1]
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
            return [(step, _response_model(model)) for step, model in STEP_PLAN]
        return [("extract", _response_model(Extraction))]

    def _finish(self, article: Article, results: list[BaseModel], log: AttemptLog, started: dt.datetime,
                ) -> ArticleSummary:
        merged: dict[str, Any] = {"summary": "", "actors": [], "claims": [], "predictions": [], "warnings": []}
        for result in results:
            for name in merged:
                value = getattr(result, name, None)
                if value:
                    merged[name] = value
        provenance = Provenance(
            model=self.backend.model, backend=self.backend.label, mode=self.backend.mode.value,
            prompt_hash=prompt_hash(), schema_version=SCHEMA_VERSION, attempts=log.records,
            usage=UsageTotals(**log.usage.as_dict()), started_at=started, finished_at=_now(),
        )
        return build_summary(article, merged["summary"], merged["actors"], Extraction.model_construct(**merged),
                             provenance)

    def summarize(self, source: str | Path | Article) -> ArticleSummary:
        """Summarise one article (a path, an `Article`, or raw text)."""
        article = to_article(source)
        log = AttemptLog([self.backend.api_key or ""])
        started = _now()
        results: list[BaseModel] = []
        for step, model in self._steps():
            log.step = step
            actors = results[0].actors if results and isinstance(results[0], ActorList) else ()
            create = instructor.patch(create=sync_transport(self._raw_sync(), self.policy, log),
                                      mode=self.backend.mode)
            with validation_article(article, actors):
                try:
                    results.append(create(response_model=model, max_retries=self.policy.reasks,
                                          hooks=log.hooks(), **self._request(article, step, actors)))
                except (InstructorRetryException, IncompleteOutputException, ProviderError) as exc:
                    raise _unwrap(exc, log) from None
        return self._finish(article, results, log, started)

    async def asummarize(self, source: str | Path | Article, *,
                         before_request: BeforeRequest | None = None) -> ArticleSummary:
        """The async twin of `summarize`; `before_request` is awaited before each HTTP attempt (rate limits)."""
        article = to_article(source)
        log = AttemptLog([self.backend.api_key or ""])
        started = _now()
        results: list[BaseModel] = []
        for step, model in self._steps():
            log.step = step
            actors = results[0].actors if results and isinstance(results[0], ActorList) else ()
            transport = async_transport(self._raw_async(), self.policy, log, before_request)
            create = instructor.patch(create=transport, mode=self.backend.mode)
            with validation_article(article, actors):
                try:
                    results.append(await create(response_model=model, max_retries=self.policy.reasks,
                                                hooks=log.hooks(), **self._request(article, step, actors)))
                except (InstructorRetryException, IncompleteOutputException, ProviderError) as exc:
                    raise _unwrap(exc, log) from None
        return self._finish(article, results, log, started)


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


_ = (asyncio, time)
