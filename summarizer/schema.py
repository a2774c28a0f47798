"""What the model fills in (the *draft*) and what users get back (the `ArticleSummary`).

The draft cites sentence numbers; the code turns those numbers into verbatim evidence spans with character
offsets (see `grounding/`). Every field has a description because the model reads it. Plain data: the answers
the model fills in, with their grounding validators, are in `grounding/answers.py`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

SCHEMA_VERSION = "2"  # 2: the article text the offsets count in (`ArticleMeta.text`); inputs keyed with metadata
ARTICLE_VOICE = "article"

ActorKind = Literal["person", "organization", "country", "group", "other"]
Certainty = Literal["certain", "likely", "possible", "uncertain"]

MAX_ACTORS = 12  # actors the plan assumes when it sizes a chunk before pass one has listed them; not a bound
MAX_CITED = 4


# --------------------------------------------------------------------------- draft (model-facing)


class ActorDraft(BaseModel):
    """One actor the article names."""

    id: str = Field(description='Short id you assign, "A1", "A2", …; items refer to actors by this id.')
    name: str = Field(description="Canonical full name as the article gives it, without titles.")
    kind: ActorKind = Field(description="person, organization, country, group or other.")
    role: str = Field(default="", description="Who this actor is in this article, in a few words.")
    aliases: list[str] = Field(
        default_factory=list, description="Other names the article uses for this actor (short forms, titles)."
    )


class ItemDraft(BaseModel):
    """Fields shared by claims, predictions and warnings (the statement first: writing it anchors the citation)."""

    actor: str = Field(description=f'Id of the actor who said it, or "{ARTICLE_VOICE}" for the article\'s own voice.')
    statement: str = Field(description="The item as one short, neutral, self-contained sentence.")
    sentences: list[int] = Field(
        min_length=1,
        max_length=MAX_CITED,
        description="Numbers of the article sentences that say this, as shown in [brackets].",
    )
    quote: str | None = Field(
        default=None,
        description="Optional short exact quote copied from the cited sentences, or null. Never paraphrase here.",
    )
    # What the model cited, kept when grounding re-anchored the item to the sentence its statement copies (not part
    # of the schema the model sees).
    _model_cited: list[int] | None = PrivateAttr(default=None)


class ClaimDraft(ItemDraft):
    """Something an actor asserted as fact or opinion."""


class PredictionDraft(ItemDraft):
    """Something an actor expects to happen."""

    timeframe: str | None = Field(default=None, description='When, exactly as written ("in the coming days"), or null.')
    condition: str | None = Field(default=None, description="The condition it depends on, or null.")
    certainty: Certainty = Field(
        default="likely", description="How hedged: certain (will), likely (expects), possible (may), uncertain."
    )


class WarningDraft(ItemDraft):
    """Something an actor warned of."""

    addressees: list[str] = Field(
        default_factory=list, description="Ids of the actors warned (or their names if not actors)."
    )
    consequence: str | None = Field(default=None, description="The threatened consequence, or null.")
    condition: str | None = Field(default=None, description="Under which condition it happens, or null.")


# --------------------------------------------------------------------------- output (user-facing)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Out):
    """A verbatim piece of the article: `article.text[start:end] == text`.

    Offsets count Unicode code points (Python `str` indices) into `ArticleMeta.text`, the normalised text the model
    read (NFC, LF line ends, no front matter). In JavaScript, whose strings count UTF-16 units, convert first:
    `Array.from(text).slice(start, end).join("")`.
    """

    start: int = Field(description="Code-point offset where the span starts in `article.text`.")
    end: int = Field(description="Code-point offset where the span ends (exclusive) in `article.text`.")
    text: str = Field(description="The article text between the offsets, verbatim.")


class SentenceSpan(Span):
    """One cited sentence."""

    sentence: int = Field(description="The sentence number (1-based).")


class Evidence(_Out):
    """The sentences that support an item, so a reader can check it in one click."""

    sentences: list[SentenceSpan] = Field(description="The cited sentences, verbatim with offsets.")
    quote: Span | None = Field(default=None, description="An exact short quote inside the cited sentences.")
    re_anchored_from: list[int] | None = Field(
        default=None,
        description="The sentence numbers the model cited, when the code replaced them with the sentence the "
        "statement copies nearly word for word; null when these are the model's own citations.",
    )


class Actor(_Out):
    """A person, organisation, country or group, once, with its aliases merged."""

    id: str = Field(description="Actor id, unique within this summary.")
    name: str = Field(description="Canonical name.")
    kind: ActorKind = Field(description="person, organization, country, group or other.")
    role: str = Field(description="Who this actor is in this article.")
    aliases: list[str] = Field(default_factory=list, description="Other names used for this actor.")


class _Item(_Out):
    id: str = Field(description="Item id, unique within this summary.")
    actor_id: str | None = Field(description="Actor id of the speaker; null for the article's own voice.")
    actor: str = Field(description='Resolved speaker name, or "(article)" for the article\'s own voice.')
    statement: str = Field(description="The item as a self-contained sentence.")
    evidence: Evidence = Field(description="Where the article says it.")


class Claim(_Item):
    """What an actor asserted."""


class Timeframe(_Out):
    """A prediction's timeframe resolved to dates against the article date."""

    start: dt.date = Field(description="Earliest date the timeframe covers.")
    end: dt.date = Field(description="Latest date the timeframe covers.")
    rule: str = Field(description="How the text was resolved (for auditing).")


class Prediction(_Item):
    """What someone expects to happen."""

    timeframe_text: str | None = Field(description="The timeframe as written.")
    timeframe: Timeframe | None = Field(description="The timeframe resolved against the article date, if possible.")
    condition: str | None = Field(description="The condition it depends on.")
    certainty: Certainty = Field(description="How hedged the prediction is.")


class Warning(_Item):
    """What someone warned of, to whom, under which condition."""

    addressees: list[str] = Field(description="Who was warned (names).")
    consequence: str | None = Field(description="The threatened consequence.")
    condition: str | None = Field(description="The condition under which it happens.")


class ArticleMeta(_Out):
    """Which article this summarises."""

    id: str = Field(description="sha256 of the normalised article text.")
    title: str | None = Field(default=None, description="Title, if known.")
    date: dt.date | None = Field(default=None, description="Publication date, if known.")
    source: str | None = Field(default=None, description="URL or origin, if known.")
    path: str | None = Field(default=None, description="File it was read from, if any.")
    sentences: int = Field(description="How many sentences the article was split into.")
    text: str | None = Field(
        default=None,
        description="The exact text every offset counts in: the article body normalised (NFC, LF line ends, "
        "without front matter or an inline date header). Offsets are code points.",
    )


class AttemptRecord(_Out):
    """One HTTP request to the model and what came of it."""

    n: int = Field(description="1-based attempt number within this summary.")
    step: str = Field(description="Which call this attempt belonged to (extract, actors, claims…); "
                      '"#k" marks chunk k of a long article.')
    outcome: str = Field(description="ok, invalid, length, http_429, http_500, timeout, connection, malformed …")
    error: str | None = Field(default=None, description="Short error text, if any.")
    prompt_tokens: int = Field(default=0, description="Prompt tokens billed for this attempt.")
    completion_tokens: int = Field(default=0, description="Completion tokens billed for this attempt.")
    started_at: dt.datetime = Field(description="UTC start time.")
    ended_at: dt.datetime = Field(description="UTC end time.")


class UsageTotals(_Out):
    """Tokens over every attempt, failed ones included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Provenance(_Out):
    """How this result was made."""

    model: str = Field(description="Model name sent to the backend.")
    backend: str = Field(description="openai-compatible, embedded, batch-api or import.")
    mode: str = Field(description="instructor mode used.")
    prompt_hash: str = Field(description="sha256 of the prompt templates used.")
    schema_version: str = Field(description="Version of this output schema.")
    attempts: list[AttemptRecord] = Field(description="Every request made, failed ones included.")
    usage: UsageTotals = Field(description="Token usage summed over all attempts.")
    started_at: dt.datetime = Field(description="UTC time the summary was started.")
    finished_at: dt.datetime = Field(description="UTC time the summary was finished.")
    chunks: int = Field(default=1, description="How many chunks the article was split into.")
    context_tokens: int | None = Field(
        default=None, description="The context window every request was sized to, in tokens (None: not recorded).")
    context_source: str | None = Field(
        default=None, description="Where that window came from: given by the caller (--context-tokens), reported "
                                  "by the server (e.g. llama.cpp GET /props), or the backend's default.")
    verification: dict[str, dict[str, int]] | None = Field(
        default=None, description='Items that failed a faithfulness check (speaker, kind, support, actors: '
                                  '`grounding/verify.py`), by what was done: {"dropped": {check: n}, "reasked": '
                                  '{check: n}}. None: not recorded.')
    answer_tokens: int | None = Field(
        default=None, description="max_tokens sent with each request: the caller's, or lowered to a quarter of a "
                                  "reported window that left the prompt less than half of it.")


class ArticleSummary(_Out):
    """The structured, grounded summary of one article."""

    schema_version: str = Field(default=SCHEMA_VERSION, description="Version of this output schema.")
    article: ArticleMeta = Field(description="The article summarised.")
    summary: str = Field(description="A neutral 2–3 sentence summary.")
    actors: list[Actor] = Field(description="People, organisations, countries and groups, each once.")
    claims: list[Claim] = Field(description="What each actor asserted.")
    predictions: list[Prediction] = Field(description="What someone expects to happen.")
    warnings: list[Warning] = Field(description="What someone warned of.")
    provenance: Provenance = Field(description="Model, prompt, attempts and usage behind this result.")
