"""The plan: the exact requests that summarise one article, shared by every way of sending them.

The realtime `Summarizer`, the provider's Batch API, `batch export` for vLLM and the dry-run sizes all take
their requests from here, so a batch line is the very first request the realtime path would send.
- steps: one call (`Extraction`) for capable models; for small models, focused steps that share a cached prompt
  prefix (instructions, article, actor list) and differ only in their last line: actors, then claims,
  predictions and warnings;
- the context: the caller's `context_tokens`, else the window the server reports (asked once, when the first
  request is sized: `models/context.py`), else the backend's default. A reported window is fitted (`_fit`): the
  answer budget (`max_tokens`) is lowered to a quarter of the window, and the focused steps are used instead of
  the one call (unless the caller chose), when that is what leaves the article a quarter of the window per chunk
  (the one call's instructions and schema alone are ~2,700 tokens by characters / 3). What was chosen is not
  part of the store key (the caller's parameters are), and each result's provenance records it;
- chunks: an article whose largest request would not fit the context is split (`chunking.py`);
- the step loop (`Plan.calls`) is written once, as a generator: it yields each step's `Call` and receives the
  validated answer, so the sync and async senders only send;
- assembly: chunk drafts merged (`merge.py`) into one `ArticleSummary` with its provenance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import instructor
from instructor.processing.response import handle_response_model
from pydantic import BaseModel

from summarizer.article.model import Article
from summarizer.errors import ConfigurationError
from summarizer.extract.chunking import CHUNK_FILL, Chunk, PromptBudget, plan_chunks
from summarizer.extract.merge import merge_drafts
from summarizer.extract.prompts import Step, build_messages, prompt_hash
from summarizer.grounding.answers import ActorList, ClaimsStep, Extraction, Overview, PredictionsStep, WarningsStep
from summarizer.grounding.assemble import build_summary
from summarizer.grounding.candidates import find_candidates, items_from_candidates, with_sources
from summarizer.grounding.verify import Verifier, verify_draft
from summarizer.grounding.verify import current as current_verifier
from summarizer.models.backend import Backend, CharEstimate, ContextProbe, ContextWindow, Narrowing, TokenMeter
from summarizer.models.openai_compat import OpenAICompatible
from summarizer.models.retry import AttemptLog
from summarizer.schema import MAX_ACTORS, SCHEMA_VERSION, ActorDraft, ArticleSummary, Provenance, UsageTotals

__all__ = ["GIVEN", "STEP_PLAN", "Call", "ContextChoice", "GenerationParams", "Plan", "draft_of", "response_model"]

GIVEN = "given (--context-tokens / GenerationParams.context_tokens)"  # the source of a caller's window

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
    sentence_first: bool | None = None  # None: the sentence-first plan for a small model when two_pass is open

    def key(self) -> str:
        ctx = "" if self.context_tokens is None else f";ctx={self.context_tokens}"
        first = ";sf=1" if self.sentence_first else ""
        return f"t={self.temperature};max={self.max_tokens};2p={int(bool(self.two_pass))}{ctx}{first}"


@dataclass(frozen=True)
class ContextChoice:
    """The context window requests are sized to, where it came from, and the answer budget within it."""

    tokens: int
    source: str  # GIVEN, what the server reported (e.g. "llama.cpp GET /props ..."), or "<backend> default"
    answer_tokens: int  # max_tokens sent with each request: `params.max_tokens`, or lowered to fit the window
    two_pass: bool  # the focused steps rather than one call

    def describe(self, params: GenerationParams) -> str:
        """One line for people: the window, its source, and what was fitted to it."""
        line = f"{self.tokens:,} tokens ({self.source})"
        if self.answer_tokens != params.max_tokens:
            line += (f"; answers limited to {self.answer_tokens:,} tokens (max_tokens {params.max_tokens:,} "
                     "left the prompt too little room)")
        if self.two_pass and not params.two_pass:
            line += "; the focused steps, whose prompts are smaller than the one call's"
        return line


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
                 meter: TokenMeter, label: str, context_source: str = GIVEN,
                 detect: Callable[[], ContextWindow | None] | None = None, max_context: int | None = None,
                 choose_steps: bool = False) -> None:
        """`context_tokens` is the window (from `context_source`); with `detect`, it is the fallback used when
        the server reports none, asked when a request is first sized (`context`), capped at `max_context` and
        fitted (`_fit`; `choose_steps`: the caller left `two_pass` open, so the fit may pick the steps)."""
        if context_tokens <= params.max_tokens:
            raise ConfigurationError(f"context_tokens ({context_tokens}) must be larger than max_tokens "
                                     f"({params.max_tokens}): the prompt needs room besides the answer")
        self.model, self.mode, self.params = model, mode, params
        self.meter, self.label = meter, label
        self._fallback = ContextChoice(context_tokens, context_source, params.max_tokens, bool(params.two_pass))
        self._detect, self._max_context, self._choose_steps = detect, max_context, choose_steps
        self._context: ContextChoice | None = None if detect is not None else self._fallback
        self._lock = threading.Lock()

    @classmethod
    def for_backend(cls, backend: Backend, params: GenerationParams | None = None) -> Plan:
        """The plan a backend's capabilities call for: its context, its tokenizer, steps for a small model.

        The context is the caller's `context_tokens`; else the window the server reports, if the backend can
        ask (`ContextProbe`), asked when the first request is sized; else the backend's default.
        """
        caps, info = backend.capabilities, backend.info
        params = params or GenerationParams()
        open_steps = params.two_pass is None
        if params.sentence_first is None:
            params = dataclasses.replace(params, sentence_first=caps.small and open_steps)
        if params.two_pass is None:
            params = dataclasses.replace(params, two_pass=caps.small)
        if params.context_tokens is not None:
            if caps.max_context is not None and params.context_tokens > caps.max_context:
                raise ConfigurationError(f"context_tokens ({params.context_tokens}) is more than the model allows "
                                         f"({caps.max_context})")
            return cls(model=info.model, mode=info.mode, params=params, context_tokens=params.context_tokens,
                       meter=backend.meter(), label=info.label)
        detect = backend.context_window if isinstance(backend, ContextProbe) else None
        return cls(model=info.model, mode=info.mode, params=params, context_tokens=caps.default_context,
                   meter=backend.meter(), label=info.label, context_source=f"{info.label} default",
                   detect=detect, max_context=caps.max_context, choose_steps=open_steps)

    @classmethod
    def for_server(cls, model: str, params: GenerationParams | None = None) -> Plan:
        """The one-call plan for an OpenAI-compatible server that is not asked here (batch files)."""
        params = dataclasses.replace(params or GenerationParams(), two_pass=False)
        context = params.context_tokens or OpenAICompatible.capabilities.default_context
        source = GIVEN if params.context_tokens else "openai-compatible default"
        return cls(model=model, mode=instructor.Mode.TOOLS, params=params, context_tokens=context,
                   meter=CharEstimate(), label="openai-compatible", context_source=source)

    # -- the context ---------------------------------------------------------------------------------

    @property
    def context(self) -> ContextChoice:
        """The window requests are sized to and where it came from; the server is asked (once) here."""
        with self._lock:
            if self._context is None:
                self._context = self._choose()
            return self._context

    @property
    def context_tokens(self) -> int:
        return self.context.tokens

    @property
    def answer_tokens(self) -> int:
        """The `max_tokens` each request carries (`params.max_tokens` unless lowered to fit the window)."""
        return self.context.answer_tokens

    def _choose(self) -> ContextChoice:
        found = self._detect() if self._detect is not None else None
        if found is None:
            return self._fallback
        tokens, source = found.tokens, found.source
        if self._max_context is not None and tokens > self._max_context:
            tokens, source = self._max_context, f"{source}, capped at the model's {self._max_context}"
        return self._fit(tokens, source)

    def _fit(self, tokens: int, source: str) -> ContextChoice:
        """The answer budget and plan for a reported window: the first of (one call, steps) x (max_tokens, a
        quarter of the window) that leaves the article a quarter of the window per chunk, else the roomiest."""
        wanted = self.params.max_tokens
        answers = list(dict.fromkeys(a for a in (wanted, min(wanted, tokens // 4)) if 0 < a < tokens)) or [1]
        plans = [False, True] if self._choose_steps else [bool(self.params.two_pass)]
        options = [(two_pass, answer) for two_pass in plans for answer in answers]

        def room(option: tuple[bool, int]) -> int:
            two_pass, answer = option
            return int((tokens - answer) * CHUNK_FILL) - self._fixed_prompt(two_pass, answer)

        best = next((o for o in options if room(o) >= tokens // 4), None) or max(options, key=room)
        return ContextChoice(tokens, source, best[1], best[0])

    def _fixed_prompt(self, two_pass: bool, answer: int) -> int:
        """The largest step's prompt for a one-sentence article: what every chunk's request carries anyway."""
        article = Article.from_text("A short sentence.", title="An article title of a usual length, about "
                                                                 "eighty characters long")
        steps = STEP_PLAN if two_pass else (("extract", Extraction),)
        return max(self.meter.request(handle_response_model(
            response_model(model), self.mode,
            **self._request(article, step, () if step in ("extract", "actors") else _PLACEHOLDER_ACTORS, answer))[1])
            for step, model in steps)

    # -- the requests --------------------------------------------------------------------------------

    def steps(self) -> list[tuple[Step, type[BaseModel]]]:
        """One call for capable models; focused steps sharing a cached prefix for a small one (or a small
        reported window: `context.two_pass`); for a small model, the sentence-first plan (actors, then labels
        found by the code, `_sentence_first`)."""
        if self.params.sentence_first:
            return [("overview", response_model(Overview))]
        if self.context.two_pass:
            return [(step, response_model(model)) for step, model in STEP_PLAN]
        return [("extract", response_model(Extraction))]

    def one_call(self) -> tuple[Step, type[BaseModel]]:
        """The only step of the one-call plan (what one batch line carries); refused for the multi-step plan.

        Asked before the context is chosen, it keeps the one call: a reported window then only lowers the
        answer budget (`_fit`), and nothing is probed here.
        """
        with self._lock:
            if self._context is None:
                self._choose_steps = False
            two_pass = self._context.two_pass if self._context is not None else bool(self.params.two_pass)
        if two_pass:
            raise ConfigurationError("a batch sends one request per article (or chunk): set two_pass to False")
        return "extract", response_model(Extraction)

    def request(self, article: Article, step: Step, actors: Sequence[ActorDraft] = ()) -> dict[str, Any]:
        """A step's request before instructor adds the schema: model, messages and generation parameters."""
        return self._request(article, step, actors, self.answer_tokens)

    def _request(self, article: Article, step: Step, actors: Sequence[ActorDraft], answer: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": build_messages(article, step, actors=actors),
            "temperature": self.params.temperature,
            "max_tokens": answer,
        }

    def prepared(self, article: Article, step: Step, model: type[BaseModel],
                 actors: Sequence[ActorDraft] | None = None) -> dict[str, Any]:
        """A step's first request as instructor will send it (schema included): what is sized and batched."""
        if actors is None:
            actors = _PLACEHOLDER_ACTORS if step not in ("extract", "actors", "overview") else ()
        return handle_response_model(model, self.mode, **self.request(article, step, actors))[1]

    # -- sizes and chunks ----------------------------------------------------------------------------

    def budget(self) -> PromptBudget:
        """The context every request must fit, counted the way the backend counts."""
        context = self.context
        return PromptBudget(context.tokens, context.answer_tokens, self.meter)

    def chunks(self, article: Article, budget: PromptBudget | None = None) -> list[Chunk]:
        """How `article` is split to fit the context: one chunk unless its largest request would not fit."""
        budget = budget or self.budget()

        def largest(view: Article) -> int:
            return max(budget.meter.request(self.prepared(view, step, model)) for step, model in self.steps())

        return plan_chunks(article, largest, budget)

    # -- the step loop -------------------------------------------------------------------------------

    def calls(self, chunk: Chunk, count: int) -> Generator[Call, BaseModel, Extraction]:
        """Each step's call over one chunk; send back each validated answer; returns the chunk's draft."""
        if self.params.sentence_first:
            return (yield from self._sentence_first(chunk, count))
        results: list[BaseModel] = []
        for step, model in self.steps():
            actors = results[0].actors if results and isinstance(results[0], ActorList) else ()
            name = step if count == 1 else f"{step}#{chunk.index}"
            narrowing = Narrowing(len(chunk.article.sentences), tuple(a.id for a in actors))
            answer = yield Call(name, model, self.request(chunk.article, step, actors), chunk.article, actors,
                                narrowing)
            results.append(answer)
        return draft_of(results)

    def _sentence_first(self, chunk: Chunk, count: int) -> Generator[Call, BaseModel, Extraction]:
        """The actors and the summary from the model; the items from the sentences that attribute them."""
        article = chunk.article
        step = "overview" if count == 1 else f"overview#{chunk.index}"
        answer = yield Call(step, response_model(Overview), self.request(article, "overview"), article, (),
                            Narrowing(len(article.sentences), ()))
        actors = with_sources(article, answer.drafts if isinstance(answer, Overview) else [])
        items = items_from_candidates(article, find_candidates(article, actors))
        draft = Extraction.model_construct(summary=getattr(answer, "summary", ""), actors=actors, claims=items.claims,
                                           predictions=items.predictions, warnings=items.warnings)
        verify_draft(article, draft, current_verifier() or Verifier(), actors)  # the words' own items: drop only
        return draft

    def assemble(self, article: Article, chunks: Sequence[Chunk], drafts: Sequence[Extraction], log: AttemptLog,
                 started: dt.datetime, verification: Verifier | None = None) -> ArticleSummary:
        """One summary of the whole article from its chunks' drafts, with provenance."""
        draft = drafts[0] if len(drafts) == 1 else merge_drafts(chunks, drafts)
        provenance = Provenance(
            model=self.model, backend=self.label, mode=self.mode.value, prompt_hash=prompt_hash(),
            schema_version=SCHEMA_VERSION, attempts=log.records, usage=UsageTotals(**log.usage.as_dict()),
            started_at=started, finished_at=dt.datetime.now(dt.UTC), chunks=len(chunks),
            context_tokens=self.context.tokens, context_source=self.context.source,
            answer_tokens=self.context.answer_tokens,
            verification=verification.counts() if verification is not None else None,
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
