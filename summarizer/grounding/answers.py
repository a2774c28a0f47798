"""The answers the model fills in, as instructor response models: the drafts of `schema.py`, grounded.

Each answer is validated against its article as it is parsed (`checks.check_draft`): an answer that cites a
sentence that does not exist, an unknown actor or a quote that is not verbatim is re-asked with a message
saying exactly what to fix. The article reaches the validators through `checks.validation_article()`.

No list here is bounded: a capable model may return every actor and item the article has, within its answer
budget (`GenerationParams.max_tokens`). Only the embedded model is capped, by its grammar
(`models/embedded/grammar.LIST_CAPS`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from summarizer.article.sentences import complete_sentences, unrepeated
from summarizer.grounding.checks import check_draft, merge_actor_drafts
from summarizer.schema import ActorDraft, ActorKind, ClaimDraft, PredictionDraft, WarningDraft

__all__ = ["ActorList", "ClaimsStep", "Extraction", "NamedActor", "Overview", "PredictionsStep", "WarningsStep"]


class ActorList(BaseModel):
    """Pass one of the two-pass design: the actors only."""

    actors: list[ActorDraft] = Field(description="Every named actor, each once.")

    @model_validator(mode="after")
    def _merged(self) -> ActorList:
        self.actors = merge_actor_drafts(self.actors)[0]
        return self


def _summary_field() -> str:
    return Field(description="A neutral 2–3 sentence summary of the article.")  # type: ignore[no-any-return]


def _items_field(what: str) -> list:  # type: ignore[type-arg]
    return Field(default_factory=list, description=what)  # type: ignore[no-any-return,unused-ignore]


class NamedActor(BaseModel):
    """An actor as the sentence-first plan asks for it: no id to write (the code numbers them)."""

    name: str = Field(description="Canonical full name as the article gives it, without titles.")
    kind: ActorKind = Field(description="person, organization, country, group or other.")
    aliases: list[str] = Field(default_factory=list,
                               description="Other names the article uses for this actor (short forms, titles).")


class Overview(BaseModel):
    """The model's part of the sentence-first plan: the actors, then the summary (the items come from the
    sentences themselves: `grounding/candidates.py`). Actors carry no id, which saves a small model ~7 tokens
    each; `drafts` numbers and merges them."""

    actors: list[NamedActor] = Field(description="Every named actor, each once.")
    summary: str = _summary_field()

    @field_validator("summary")
    @classmethod
    def _said_once(cls, summary: str) -> str:
        """A small model may write its summary's sentence again and again until the cap: each is kept once; and
        one it stopped mid-sentence ("…his failure to pass") keeps only its whole sentences (maybe none)."""
        summary = unrepeated(summary.strip())
        return summary if not summary or summary.endswith((".", "!", "?", "”", '"', "’", ")")) else \
            complete_sentences(summary)

    @property
    def drafts(self) -> list[ActorDraft]:
        """The actors numbered A1, A2, … and merged where they are one (`checks.merge_actor_drafts`)."""
        numbered = [ActorDraft(id=f"A{i}", name=a.name, kind=a.kind, aliases=a.aliases)
                    for i, a in enumerate(self.actors, 1)]
        return merge_actor_drafts(numbered)[0]


class Extraction(BaseModel):
    """Everything in one answer: actors first, then the items that cite them by id, the summary last."""

    actors: list[ActorDraft] = Field(description="Every named actor, each once.")
    claims: list[ClaimDraft] = _items_field("Attributed claims.")
    predictions: list[PredictionDraft] = _items_field("Attributed predictions.")
    warnings: list[WarningDraft] = _items_field("Attributed warnings.")
    summary: str = _summary_field()

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> Extraction:
        return check_draft(self, info)


class _Step(BaseModel):
    """One focused step of the multi-step plan used for small models; validated like `Extraction`."""

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> _Step:
        return check_draft(self, info)


class ClaimsStep(_Step):
    """Step two: claims, then the summary."""

    claims: list[ClaimDraft] = _items_field("Attributed claims.")
    summary: str = _summary_field()


class PredictionsStep(_Step):
    """Step three: predictions."""

    predictions: list[PredictionDraft] = _items_field("Attributed predictions.")


class WarningsStep(_Step):
    """Step four: warnings."""

    warnings: list[WarningDraft] = _items_field("Attributed warnings.")
