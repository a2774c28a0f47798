"""Helpers for the faithfulness tests: a result's items checked again with `grounding/verify.py`, and a model
answer grounded (validated against its article) without being verified."""

from __future__ import annotations

from typing import Any

from summarizer import Article
from summarizer.grounding.answers import Extraction
from summarizer.grounding.verify import Facts, actor_problems, item_problems
from summarizer.schema import (
    ARTICLE_VOICE,
    ActorDraft,
    ArticleSummary,
    ClaimDraft,
    ItemDraft,
    PredictionDraft,
    WarningDraft,
)

KINDS = ("claims", "predictions", "warnings")
_DRAFTS: dict[str, type[ItemDraft]] = {"claims": ClaimDraft, "predictions": PredictionDraft,
                                       "warnings": WarningDraft}


def kept_problems(result: ArticleSummary, article: Article) -> list[tuple[str, str, dict[str, str]]]:
    """Every kept item (kind, statement, problems) and actor ("actors", name, problem) that fails a faithfulness
    check: a verified result has none."""
    actors = [ActorDraft(id=a.id, name=a.name, kind=a.kind, role=a.role, aliases=a.aliases) for a in result.actors]
    facts = Facts(article, actors)
    found: list[tuple[str, str, dict[str, str]]] = [
        ("actors", actor_id, {"actors": reason}) for actor_id, reason in actor_problems(article, actors).items()]
    for kind in KINDS:
        for item in getattr(result, kind):
            draft = _DRAFTS[kind](actor=item.actor_id or ARTICLE_VOICE, statement=item.statement,
                                  sentences=[s.sentence for s in item.evidence.sentences],
                                  quote=item.evidence.quote.text if item.evidence.quote else None)
            problems = item_problems(facts, kind, draft)
            if problems:
                found.append((kind, item.statement, problems))
    return found


def grounded(arguments: dict[str, Any], article: Article) -> Extraction:
    """A one-call answer validated against its article as the grounding checks leave it (actors merged, citations
    re-anchored, repeats dropped), with no verifier in context: what faithfulness verification starts from."""
    return Extraction.model_validate(arguments, context={"article": article})


def item_count(answer: Extraction | ArticleSummary) -> int:
    return sum(len(getattr(answer, kind)) for kind in KINDS)
