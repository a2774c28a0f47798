"""The plan: the exact requests that summarise one article, shared by every way of sending them.

The realtime `Summarizer`, the provider's Batch API, `batch export` for vLLM and the dry-run sizes all take
their requests from here, so a batch line is the very first request the realtime path would send.
- steps: one call (`Extraction`) for capable models; for small models, focused steps that share a cached prompt
  prefix (instructions, article, actor list) and differ only in their last line: actors, then claims,
  predictions and warnings;
- chunks: an article whose largest request would not fit the context is split (`chunking.py`);
- the step loop (`Plan.calls`) is written once, as a generator: it yields each step's `Call` and receives the
  validated answer, so the sync and async senders only send;
- assembly: chunk drafts merged (`merge.py`) into one `ArticleSummary` with its provenance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import instructor
from instructor.processing.response import handle_response_model
from pydantic import BaseModel

from summarizer.article.model import Article
from summarizer.errors import ConfigurationError
from summarizer.extract.chunking import Chunk, PromptBudget, plan_chunks
from summarizer.extract.merge import merge_drafts
from summarizer.extract.prompts import Step, build_messages, prompt_hash
from summarizer.grounding.answers import ActorList, ClaimsStep, Extraction, PredictionsStep, WarningsStep
from summarizer.grounding.assemble import build_summary
from summarizer.models.backend import Backend, CharEstimate, Narrowing, TokenMeter
from summarizer.models.openai_compat import OpenAICompatible
from summarizer.models.retry import AttemptLog
from summarizer.schema import MAX_ACTORS, SCHEMA_VERSION, ActorDraft, ArticleSummary, Provenance, UsageTotals

__all__ = ["STEP_PLAN", "Call", "GenerationParams", "Plan", "draft_of", "response_model"]

M = TypeVar("M", bound=BaseModel)

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


@dataclass(frozen=True)
class GenerationParams:
    """What is sent besides the prompt; part of the store key (`key()`), except `timeout`.

    `timeout` is each request's deadline in seconds: from sending it to the complete response, however slowly
    the server trickles (`models/openai_compat.py`). A request past it is a "timeout" attempt, retried
    `RetryPolicy.timeout_retries` times (default once). A deadline does not change results, so it is not in the
    store key.
    """

    temperature: float = 0.0
    max_tokens: int = 4096
    two_pass: bool | None = None  # None: multi-step for a small model, one call otherwise
    timeout: float = 120.0  # seconds per request, total (`--timeout`); not in the store key
    context_tokens: int | None = None  # the model's context window; None: the backend's default

    def key(self) -> str:
        ctx = "" if self.context_tokens is None else f";ctx={self.context_tokens}"
        return f"t={self.temperature};max={self.max_tokens};2p={int(bool(self.two_pass))}{ctx}"


@functools.cache
def response_model(model: type[M]) -> type[M]:
    """Wrapped for instructor once per class: it would wrap a plain model anew on every call."""
    return instructor.response_schema(model)


@dataclass(frozen=True)
class Call:
    """One step's request over one chunk, as the step loop hands it to whoever sends it."""

    step: str  # how its attempts are labelled: the step, and the chunk when there are several ("claims#2")
    response_model: type[BaseModel]
    request: dict[str, Any]
    article: Article  # the chunk, for the validators
    actors: Sequence[ActorDraft]  # pass one's actors, for the validators of the steps after it
    narrowing: Narrowing  # what a grammar-decoding backend may narrow the answer to


class Plan:
    """The requests for one model, mode and set of parameters; sends nothing itself."""

    def __init__(self, *, model: str, mode: instructor.Mode, params: GenerationParams, context_tokens: int,
                 meter: TokenMeter, label: str) -> None:
        if context_tokens <= params.max_tokens:
            raise ConfigurationError(f"context_tokens ({context_tokens}) must be larger than max_tokens "
                                     f"({params.max_tokens}): the prompt needs room besides the answer")
        self.model, self.mode, self.params = model, mode, params
        self.context_tokens, self.meter, self.label = context_tokens, meter, label

    @classmethod
    def for_backend(cls, backend: Backend, params: GenerationParams | None = None) -> Plan:
        """The plan a backend's capabilities call for: its context, its tokenizer, steps for a small model."""
        caps, info = backend.capabilities, backend.info
        params = params or GenerationParams()
        if params.two_pass is None:
            params = dataclasses.replace(params, two_pass=caps.small)
        context = params.context_tokens or caps.default_context
        if caps.max_context is not None and context > caps.max_context:
            raise ConfigurationError(f"context_tokens ({context}) is more than the model allows "
                                     f"({caps.max_context})")
        return cls(model=info.model, mode=info.mode, params=params, context_tokens=context,
                   meter=backend.meter(), label=info.label)

    @classmethod
    def for_server(cls, model: str, params: GenerationParams | None = None) -> Plan:
        """The one-call plan for an OpenAI-compatible server that is not asked here (batch files)."""
        params = dataclasses.replace(params or GenerationParams(), two_pass=False)
        context = params.context_tokens or OpenAICompatible.capabilities.default_context
        return cls(model=model, mode=instructor.Mode.TOOLS, params=params, context_tokens=context,
                   meter=CharEstimate(), label="openai-compatible")

    # -- the requests --------------------------------------------------------------------------------

    def steps(self) -> list[tuple[Step, type[BaseModel]]]:
        """One call for capable models; focused steps sharing a cached prefix for a small one."""
        if self.params.two_pass:
            return [(step, response_model(model)) for step, model in STEP_PLAN]
        return [("extract", response_model(Extraction))]

    def one_call(self) -> tuple[Step, type[BaseModel]]:
        """The only step of the one-call plan (what one batch line carries); refused for the multi-step plan."""
        steps = self.steps()
        if len(steps) != 1:
            raise ConfigurationError("a batch sends one request per article (or chunk): set two_pass to False")
        return steps[0]

    def request(self, article: Article, step: Step, actors: Sequence[ActorDraft] = ()) -> dict[str, Any]:
        """A step's request before instructor adds the schema: model, messages and generation parameters."""
        return {
            "model": self.model,
            "messages": build_messages(article, step, actors=actors),
            "temperature": self.params.temperature,
            "max_tokens": self.params.max_tokens,
        }

    def prepared(self, article: Article, step: Step, model: type[BaseModel],
                 actors: Sequence[ActorDraft] | None = None) -> dict[str, Any]:
        """A step's first request as instructor will send it (schema included): what is sized and batched."""
        if actors is None:
            actors = _PLACEHOLDER_ACTORS if step not in ("extract", "actors") else ()
        return handle_response_model(model, self.mode, **self.request(article, step, actors))[1]

    # -- sizes and chunks ----------------------------------------------------------------------------

    def budget(self) -> PromptBudget:
        """The context every request must fit, counted the way the backend counts."""
        return PromptBudget(self.context_tokens, self.params.max_tokens, self.meter)

    def chunks(self, article: Article, budget: PromptBudget | None = None) -> list[Chunk]:
        """How `article` is split to fit the context: one chunk unless its largest request would not fit."""
        budget = budget or self.budget()

        def largest(view: Article) -> int:
            return max(budget.meter.request(self.prepared(view, step, model)) for step, model in self.steps())

        return plan_chunks(article, largest, budget)

    # -- the step loop -------------------------------------------------------------------------------

    def calls(self, chunk: Chunk, count: int) -> Generator[Call, BaseModel, Extraction]:
        """Each step's call over one chunk; send back each validated answer; returns the chunk's draft."""
        results: list[BaseModel] = []
        for step, model in self.steps():
            actors = results[0].actors if results and isinstance(results[0], ActorList) else ()
            name = step if count == 1 else f"{step}#{chunk.index}"
            narrowing = Narrowing(len(chunk.article.sentences), tuple(a.id for a in actors))
            answer = yield Call(name, model, self.request(chunk.article, step, actors), chunk.article, actors,
                                narrowing)
            results.append(answer)
        return draft_of(results)

    def assemble(self, article: Article, chunks: Sequence[Chunk], drafts: Sequence[Extraction], log: AttemptLog,
                 started: dt.datetime) -> ArticleSummary:
        """One summary of the whole article from its chunks' drafts, with provenance."""
        draft = drafts[0] if len(drafts) == 1 else merge_drafts(chunks, drafts)
        provenance = Provenance(
            model=self.model, backend=self.label, mode=self.mode.value, prompt_hash=prompt_hash(),
            schema_version=SCHEMA_VERSION, attempts=log.records, usage=UsageTotals(**log.usage.as_dict()),
            started_at=started, finished_at=dt.datetime.now(dt.UTC), chunks=len(chunks),
        )
        return build_summary(article, draft.summary, draft.actors, draft, provenance)


def draft_of(results: Sequence[BaseModel]) -> Extraction:
    """The answers of one chunk's steps as one draft."""
    merged: dict[str, Any] = {"summary": "", "actors": [], "claims": [], "predictions": [], "warnings": []}
    for result in results:
        for name in merged:
            value = getattr(result, name, None)
            if value:
                merged[name] = value
    return Extraction.model_construct(**merged)
