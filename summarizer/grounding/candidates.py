"""The sentence-first plan's candidates: the sentences the text attributes, with their speakers and kinds.

A small model recalls badly from a whole article but decides well about one sentence when the choices are
given. So the code finds what the rules of news writing make findable — which sentences are attributed, to
whom (`grounding/attribution.py`), which kinds their words allow (`grounding/kinds.py`) — and the model only
would only have to label each candidate. Measured: asked to label the candidates (one of the kinds their words
allow, or none, under a grammar), the embedded model answered "none" for 11 of 12 on `defector.txt`, where the
gold has an item on each; so the candidates are labelled by their words (`items_from_candidates`), and the model
names the actors and writes the summary (`grounding/answers.Overview`). A quotation that runs over several
sentences is one candidate while its sentences are of one kind (a quote that goes on from a claim to a warning is
two items, as a reader would list them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from summarizer.article.model import Article
from summarizer.grounding.attribution import QUOTE_CONTINUES, attribute, content_of, named_sources
from summarizer.grounding.kinds import kinds_in
from summarizer.grounding.timeframes import timeframe_in
from summarizer.schema import ActorDraft, ClaimDraft, PredictionDraft, WarningDraft

__all__ = ["Candidate", "CandidateItems", "find_candidates", "items_from_candidates", "with_sources"]

MIN_WORDS = 4  # a statement shorter than this is an attribution's remains, not something said
MERGE = 3  # sentences of one running quotation kept together as one candidate (gold-set check: 2 or 3 do best)


@dataclass(frozen=True)
class Candidate:
    """One attributed statement: its sentences, its possible speakers and kinds, its words."""

    sentences: tuple[int, ...]
    speakers: tuple[str, ...]  # actor ids, the text's attribution first
    kinds: tuple[str, ...]  # the kinds its words allow, the most specific first
    statement: str  # what was said, in the sentence's own words (attribution removed)
    cue: str


def with_sources(article: Article, actors: Sequence[ActorDraft]) -> list[ActorDraft]:
    """The actors, plus the sources the text names ("X said", "according to X") that none of them answers to:
    a small model's actor list misses many speakers, and an unlisted speaker's statements would be lost."""
    taken = {a.id for a in actors}
    added = []
    for name, kind in named_sources(article, actors):
        n = len(taken) + 1
        while f"A{n}" in taken:
            n += 1
        taken.add(f"A{n}")
        added.append(ActorDraft(id=f"A{n}", name=name, kind=kind))
    return [*actors, *added]


def find_candidates(article: Article, actors: Sequence[ActorDraft]) -> list[Candidate]:
    """Every attributed statement of the article, in text order."""
    found = attribute(article, actors)
    out: list[Candidate] = []
    for n in sorted(found):
        attribution = found[n]
        sentence = article.sentences[n - 1].text
        statement = content_of(sentence, attribution)
        last = out[-1] if out else None
        if attribution.cue == QUOTE_CONTINUES and last is not None and last.sentences[-1] == n - 1 \
                and last.speakers[:1] == attribution.speakers[:1] and len(last.sentences) < MERGE \
                and kinds_in(statement)[0] == last.kinds[0]:
            words = " ".join(content_of(article.sentences[i - 1].text, found[i]) for i in (*last.sentences, n))
            out[-1] = Candidate((*last.sentences, n), last.speakers, kinds_in(words),
                                " ".join(x for x in (last.statement, statement) if x), last.cue)
            continue
        if len(statement.split()) < MIN_WORDS:
            continue  # "Rathbun stated," only introduces the quote that follows; "An industry body." says nothing
        out.append(Candidate((n,), attribution.speakers, kinds_in(statement if attribution.cue != "warned" else
                                                                  sentence), statement, attribution.cue))
    return out




@dataclass
class CandidateItems:
    """The items the candidates make, by kind, in article order."""

    claims: list[ClaimDraft] = field(default_factory=list)
    predictions: list[PredictionDraft] = field(default_factory=list)
    warnings: list[WarningDraft] = field(default_factory=list)


_CONDITION = re.compile(r"\b(?:if|unless|once|provided that|as long as)\b[^,.;:]*", re.IGNORECASE)


def items_from_candidates(article: Article, found: Sequence[Candidate]) -> CandidateItems:
    """One item per candidate, of the most specific kind its words allow; its statement is the sentence's own
    words, its timeframe and condition the sentence's phrases (`timeframes.timeframe_in`), as written."""
    out = CandidateItems()
    for c in found:
        kind = c.kinds[0]
        common: dict[str, Any] = {"actor": c.speakers[0], "statement": c.statement, "sentences": list(c.sentences)}
        condition = _CONDITION.search(c.statement)
        if kind == "predictions":
            words = " ".join(article.sentences[n - 1].text for n in c.sentences)
            out.predictions.append(PredictionDraft(**common, timeframe=timeframe_in(words),
                                                   condition=condition.group(0) if condition else None,
                                                   certainty=_certainty(c.statement)))
        elif kind == "warnings":
            out.warnings.append(WarningDraft(**common, condition=condition.group(0) if condition else None))
        else:
            out.claims.append(ClaimDraft(**common))
    return out


def _certainty(text: str) -> Literal["certain", "likely", "possible", "uncertain"]:
    t = text.lower()
    if re.search(r"\b(?:may|might|could|possibly|perhaps)\b", t):
        return "possible"
    if re.search(r"\b(?:expects?|expected|likely|probably|plans?|aims?)\b", t):
        return "likely"
    return "certain" if re.search(r"\b(?:will|won't|shall)\b", t) else "likely"
