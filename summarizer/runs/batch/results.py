"""Batch output lines → stored results, validated exactly as a realtime answer is.

A line is trusted only after the checks a realtime call makes: `error` and `response.status_code`, the body
parsed as a chat completion, `finish_reason`, then instructor's own parser for the response model with the
article visible to the grounding validators (`validation_article`). A line that fails any of them is re-run
through the realtime path with its re-ask, up to `max_realtime_fallback` articles, and is otherwise recorded
as a failure with its reason. A line that never ran (expired or cancelled batch, missing from the file) is
reported as not started and not stored, so the next run submits it again. Usage comes from the lines.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import instructor
from instructor.core.exceptions import InstructorError
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from summarizer.article.model import Article
from summarizer.errors import (
    BatchRequestError,
    ConfigurationError,
    ProviderError,
    TruncatedOutputError,
    ValidationFailedError,
)
from summarizer.extract.plan import Plan, draft_of
from summarizer.extract.summarizer import Summarizer
from summarizer.grounding.checks import validation_article
from summarizer.models.retry import AttemptLog, BeforeRequest
from summarizer.runs.batch.lines import Pending, read_lines
from summarizer.runs.report import BatchReport, Failure
from summarizer.runs.run import Run
from summarizer.schema import ArticleSummary, UsageTotals

__all__ = ["Settler", "import_results", "parse_line"]

NOT_RUN = "batch_expired"  # the error code of a line its batch never ran


@dataclass
class _Rerun:
    """An article whose lines failed, with the attempts they cost, waiting for the realtime path."""

    pending: Pending
    log: AttemptLog
    error: ProviderError


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _message(body: Any) -> str:
    """The error message of a non-200 body, whatever shape the engine gave it."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return str(error.get("message") or error.get("code") or error)
    return json.dumps(body)[:300]


def parse_line(line: Mapping[str, Any], article: Article, model: type[BaseModel], mode: instructor.Mode,
               log: AttemptLog) -> BaseModel:
    """The validated draft of one output line, or a ProviderError saying why not (its attempt logged)."""
    started, error, response = _now(), line.get("error"), line.get("response")
    if error or not isinstance(response, Mapping):
        code, text = (error.get("code"), error.get("message")) if isinstance(error, Mapping) else (None, error)
        log.add("batch_error", started, error=f"{code}: {text}")
        raise log.fail(BatchRequestError, f"the batch line failed ({code or 'no response'}): {text}")
    status, body = response.get("status_code"), response.get("body")
    if status != 200:
        log.add(f"http_{status}", started, error=_message(body))
        raise log.fail(BatchRequestError, f"the batch line was answered with HTTP {status}: {_message(body)}")
    try:
        completion = ChatCompletion.model_validate(body)
    except ValidationError as exc:
        log.add("malformed", started, error=str(exc))
        raise log.fail(BatchRequestError, "the batch line's body is not a chat completion") from None
    log.add("ok", started, response=completion)
    if completion.choices and completion.choices[0].finish_reason == "length":
        log.records[-1].outcome = "length"
        raise log.fail(TruncatedOutputError, "the model hit its output token limit (finish_reason: length)")
    try:
        with validation_article(article):  # the realtime path's validators, with the article as context
            return cast(BaseModel, cast(Any, model).from_response(completion, mode=mode))
    except (ValidationError, InstructorError, AssertionError) as exc:
        log.mark_invalid(exc)
        raise log.fail(ValidationFailedError, f"the batch answer was invalid: {exc}") from None


@dataclass
class Settler:
    """Turns the lines of pending articles into results, failures, or realtime re-runs (bounded)."""

    batch: Run
    plan: Plan  # parses and assembles results as the realtime path does
    label: str  # provenance backend of results taken from batch lines: "batch-api" or "import"
    max_realtime_fallback: int = 0
    limits: BeforeRequest | None = None
    reruns: list[_Rerun] = field(default_factory=list)

    def take(self, pending: Pending, lines: Mapping[str, Mapping[str, Any]], absent: str) -> None:
        """Settle one article from its lines; `absent` says why a line that never ran is missing."""
        found = [lines.get(i) for i in pending.ids]
        if any(line is None or _not_run(line) for line in found):
            article = pending.article
            self.batch.fail(Failure("not_started", "not_run", absent, article.path, article.id, article.title))
            return
        model = self.plan.one_call()[1]
        log, started, drafts = AttemptLog(), _now(), []
        try:
            for chunk, line in zip(pending.chunks, found, strict=True):
                log.step = "batch:extract" if len(pending.chunks) == 1 else f"batch:extract#{chunk.index}"
                drafts.append(draft_of([parse_line(cast(Mapping[str, Any], line), chunk.article, model,
                                                   self.plan.mode, log)]))
        except ProviderError as error:
            self.reruns.append(_Rerun(pending, log, error))
            return
        summary = self.plan.assemble(pending.article, pending.chunks, drafts, log, started)
        provenance = summary.provenance.model_copy(update={"backend": self.label})
        self.batch.done(pending.key, summary.model_copy(update={"provenance": provenance}))

    async def rerun_failed(self, summarizer: Summarizer | None) -> None:
        """The realtime path, with its re-ask, for failed lines: the first `max_realtime_fallback` of them."""
        bound = self.max_realtime_fallback if summarizer is not None else 0
        queue, self.reruns = self.reruns, []
        gate = asyncio.Semaphore(self.batch.settings.concurrency)
        try:
            async with asyncio.TaskGroup() as tasks:
                for item in queue[:bound]:
                    assert summarizer is not None
                    tasks.create_task(self._rerun(item, summarizer, gate))
        except ExceptionGroup as group:  # only ConfigurationError gets out of _rerun
            raise group.exceptions[0] from None
        for item in queue[bound:]:
            item.error.args = (f"{item.error} (not re-run in realtime: --max-realtime-fallback {bound})",)
            self.batch.failed(item.pending.article, item.pending.key, item.error)

    async def _rerun(self, item: _Rerun, summarizer: Summarizer, gate: asyncio.Semaphore) -> None:
        """One realtime re-run, within the concurrency and the budget, as the realtime worker does it."""
        article, key = item.pending.article, item.pending.key
        async with gate:
            self.batch.report.stopped = self.batch.report.stopped or self.batch.over_budget()
            if self.batch.report.stopped:
                self.batch.spend(item.log.usage)
                self.batch.fail(Failure("not_started", "stopped", self.batch.report.stopped, article.path,
                                        article.id, article.title))
                return
            try:
                summary = await summarizer.asummarize(article, before_request=self.limits)
            except ConfigurationError:
                raise
            except Exception as error:  # recorded like any realtime failure, with the batch line's attempt
                if isinstance(error, ProviderError):
                    error.records = [*(r.model_dump(mode="json") for r in item.log.records), *error.records]
                    error.attempts += len(item.log.records)
                    error.usage.add(item.log.usage)
                self.batch.failed(article, key, error)
            else:
                self.batch.done(key, _joined(summary, item.log))


def _not_run(line: Mapping[str, Any]) -> bool:
    """A line its batch never ran (expired): nothing was answered, so nothing failed."""
    error = line.get("error")
    return isinstance(error, Mapping) and error.get("code") == NOT_RUN


def _joined(summary: ArticleSummary, log: AttemptLog) -> ArticleSummary:
    """A realtime result whose provenance also counts the batch line(s) that failed before it."""
    attempts = [*log.records, *summary.provenance.attempts]
    attempts = [a.model_copy(update={"n": n}) for n, a in enumerate(attempts, 1)]
    prompt = sum(a.prompt_tokens for a in attempts)
    completion = sum(a.completion_tokens for a in attempts)
    usage = UsageTotals(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    provenance = summary.provenance.model_copy(update={"attempts": attempts, "usage": usage})
    return summary.model_copy(update={"provenance": provenance})


async def import_results(batch: Run, results: Path, pending: Sequence[Pending], names: Sequence[str],
                         fallback: Summarizer | None = None, max_realtime_fallback: int = 0,
                         ) -> tuple[BatchReport, int]:
    """Ingest a results file (`vllm run-batch -o`) into `batch.out`; returns the report and unknown lines."""
    started = time.monotonic()
    batch.reporter.start(batch.report, len(pending))
    lines: dict[str, Mapping[str, Any]] = {}
    try:
        with results.open("rb") as stream:
            unreadable = read_lines(stream, lines)
    except OSError as error:
        raise ConfigurationError(f"cannot read {results}: {error.strerror or error}") from None
    known = {i for p in pending for i in p.ids}
    unknown = unreadable + sum(1 for i in lines if i not in known)
    settler = Settler(batch, batch.plan, "import", max_realtime_fallback)
    _, store = batch.opened()
    try:
        for item, name in zip(pending, names, strict=True):
            batch.admit(item.article, name)
            stored = store.get(item.key)
            if stored is None or not batch.settled(item.article, item.key, stored):
                settler.take(item, lines, f"no line for this article in {results.name}")
        await settler.rerun_failed(fallback)
        batch.walked = True
    finally:
        batch.closed()
    batch.report.wall_seconds = time.monotonic() - started
    batch.reporter.finish(batch.report)
    return batch.report, unknown
