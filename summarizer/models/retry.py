"""The retry layers: every HTTP attempt to the model, retried by tenacity and recorded with usage.

Transient failures (429 honouring `Retry-After`, 5xx, timeouts, dropped connections, malformed bodies) are
retried with exponential backoff, jitter and a cap, wrapped around the raw `create` that instructor calls. The
openai client's own retries are off, so this is the only transport retry layer. Invalid answers are re-asked
by instructor; `final_error` turns what either layer gave up with into our typed error.

Timeouts are deadlines: the backend ends every request within `GenerationParams.timeout` seconds, sending to
complete response (`models/openai_compat.py`), and a request that ran out of its deadline is retried at most
`RetryPolicy.timeout_retries` times (default once), because a server that hung once usually hangs again. So a
hung or trickling server costs one model call at most `(1 + timeout_retries) x timeout` plus the backoff waits
between (under `initial_wait` for one retry), and the article fails at its first call that runs out.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai
from instructor.core.exceptions import IncompleteOutputException
from instructor.core.hooks import Hooks
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from summarizer.errors import (
    AttemptsExhaustedError,
    ProviderError,
    SummarizerError,
    TruncatedOutputError,
    Usage,
    ValidationFailedError,
)
from summarizer.redact import redact
from summarizer.schema import AttemptRecord

__all__ = ["AttemptLog", "BeforeRequest", "RetryPolicy", "async_transport", "final_error", "sync_transport"]

# Awaited with the request's keyword arguments before each async HTTP attempt (rate limiters in batch runs).
BeforeRequest = Callable[[Mapping[str, Any]], Awaitable[None]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """Caps and waits of the two retry layers."""

    transport_retries: int = 4  # tenacity: at most 1 + 4 HTTP requests per model call
    timeout_retries: int = 1  # of those retries, at most 1 after a request ran out of its deadline
    reasks: int = 2  # instructor: at most 1 + 2 answers per step
    initial_wait: float = 1.0
    max_wait: float = 60.0
    max_retry_after: float = 120.0


def _transient(exc: BaseException) -> bool:
    """Failures worth retrying at the transport layer."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | openai.APIResponseValidationError
                      | json.JSONDecodeError)


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

    def add(self, outcome: str, started: dt.datetime, *, error: str | None = None,
            response: Any = None) -> None:
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
        records = self.records
        return Usage(sum(r.prompt_tokens for r in records), sum(r.completion_tokens for r in records))

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
            delay = min(policy.max_wait, base) * (0.5 + random.random() / 2)  # jitter
        return delay

    return wait


def _stop(policy: RetryPolicy, log: AttemptLog) -> Callable[[RetryCallState], bool]:
    """Stop after `1 + transport_retries` attempts, or once more than `timeout_retries` of them timed out."""
    first = len(log.records)  # this call's attempts are the records added from here on
    attempts = stop_after_attempt(policy.transport_retries + 1)

    def stop(state: RetryCallState) -> bool:
        timeouts = sum(1 for record in log.records[first:] if record.outcome == "timeout")
        return attempts(state) or timeouts > policy.timeout_retries

    return stop


def _check_finish(response: Any, log: AttemptLog) -> None:
    """A chat answer must hold a completion (a misconfigured URL may answer 200 with a web page or `{}`), and a
    complete one."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        log.records[-1].outcome = "malformed"
        shape = "a web page or text" if isinstance(response, str) else "no completion (no `choices`)"
        raise log.fail(ProviderError,
                       f"the server answered HTTP 200 with {shape}, not a chat completion; check that the base "
                       "URL is an OpenAI-compatible API (it usually ends in /v1)")
    if getattr(choices[0], "finish_reason", None) == "length":
        log.records[-1].outcome = "length"
        raise log.fail(TruncatedOutputError,
                       "the model hit its output token limit (finish_reason: length) and the answer is "
                       "incomplete; raise max_tokens, or shorten the article (chunking)")


def _exhausted(log: AttemptLog, exc: BaseException) -> ProviderError:
    status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
    if not _transient(exc):
        message = f"the model server refused the request ({_outcome(exc)}): {exc}"
        return log.fail(ProviderError, message, status)
    return log.fail(AttemptsExhaustedError,
                    f"gave up after {len(log.records)} attempts; last error: {_outcome(exc)}: {exc}", status)


def sync_transport(raw: Callable[..., Any], policy: RetryPolicy, log: AttemptLog, *, answers: bool = True,
                   ) -> Callable[..., Any]:
    """Wrap a raw chat-completions `create` in the transport retry layer."""

    def create(*args: Any, **kwargs: Any) -> Any:
        retrying = Retrying(stop=_stop(policy, log), wait=_wait(policy, log),
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
        if answers:  # a chat completion, not a Files or Batches API call
            _check_finish(response, log)
        return response

    return create


def async_transport(raw: Callable[..., Awaitable[Any]], policy: RetryPolicy, log: AttemptLog,
                    before_request: BeforeRequest | None = None, *, answers: bool = True) -> Callable[..., Any]:
    """The async twin of `sync_transport`; `before_request` is awaited before every HTTP attempt."""

    async def create(*args: Any, **kwargs: Any) -> Any:
        retrying = AsyncRetrying(stop=_stop(policy, log), wait=_wait(policy, log),
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
        if answers:  # a chat completion, not a Files or Batches API call
            _check_finish(response, log)
        return response

    return create


def final_error(exc: BaseException, log: AttemptLog) -> SummarizerError:
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
