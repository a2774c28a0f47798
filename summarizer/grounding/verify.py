"""Faithfulness: every item is checked against its cited sentences before anything is written, on every backend.

Grounded (the cited sentences exist, `checks.py`) is not faithful. Four plain checks, no second model:
- **speaker**: the item's actor is who the text makes the speaker of a cited sentence (`attribution.py`: "X
  said", "according to X", a pronoun or title resolving to X, a quotation X opened), or at least is named in a
  cited sentence or the one before it that attributes speech; the article's own voice is always a speaker;
- **kind**: a prediction's cited words look ahead, a warning's name a danger or use a warning verb
  (`kinds.py`); a claim's sentence is attributed speech or cognition (a speech verb, a quotation, "according
  to"), unless it is the article's voice;
- **support**: the statement's content is in the cited sentences: its numbers all, and at least half of its
  content words (by their first five letters; the sentence before may supply the subject a quotation goes on
  about), and no negation the sentences do not have. A dropped negation ("will not fall" → "will fall") is not
  caught when the sentence has another negation elsewhere: a sentence-level check cannot tell the clauses apart;
- **actors**: every actor's name, or one of its aliases, occurs in the article.

What fails is re-asked with the exact reasons where a re-ask is cheap (`Verifier.reasks` per answer: hosted and
server models), else dropped; both are counted per check (`Verifier.counts`) and go into the result's provenance
(`Provenance.verification`) and `summarizer eval`'s table. The verifier reaches the validators through a
contextvar (`verifying`), like the article does (`checks.validation_article`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from summarizer.article.model import Article
from summarizer.grounding.attribution import SPEECH, attribute, mentions, quoted_spans
from summarizer.grounding.kinds import kinds_in
from summarizer.schema import ARTICLE_VOICE, ActorDraft, ItemDraft

__all__ = ["CHECKS", "Verifier", "actor_problems", "current", "item_problems", "verify_draft", "verifying"]

CHECKS = ("speaker", "kind", "support", "actors")
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|none|nobody|nothing|neither|nor|without)\b|n['’]t\b",
                       re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP_WORDS = (
    "a about above after again against all also am an and any are as at be because been before being "
    "below between both but by can could did do does doing down during each few for from further had has "
    "have having he her here hers herself him himself his how i if in into is it its itself just may me "
    "might more most must my myself no nor not now of off on once only or other our ours ourselves out "
    "over own same she should so some such than that the their theirs them themselves then there these "
    "they this those through to too under until up very was we were what when where which while who whom "
    "why will with would you your yours yourself said says say told tell stated states according added "
    "wrote writes claimed claims believes believed expects expected warned warns warning also however "
    "would could should one two three new "
)
_STOP = frozenset(_STOP_WORDS.split())
SUPPORT_MIN = 0.5  # the share of a statement's content words its cited sentences must contain
_VERIFIER: ContextVar[Verifier | None] = ContextVar("summarizer_verifier", default=None)


@dataclass
class Verifier:
    """One summary's verification: how many re-asks an answer may get, and what was re-asked or dropped."""

    reasks: int = 0  # re-asks per answer for faithfulness problems; 0: drop at once (the embedded model)
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKS, 0))
    reasked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKS, 0))
    _left: int = 0
    _answers_after: int = 0  # answers instructor may still take for this call after the one being validated

    def start_answer(self, retries: int) -> None:
        """A new call, which instructor may re-ask `retries` times (for any reason): its answer may be re-asked
        for faithfulness `reasks` times, never when no answer would follow (then what fails is dropped)."""
        self._left = self.reasks
        self._answers_after = retries + 1

    def validating(self) -> None:
        """One answer of the current call is being validated (called once per answer, by `check_draft`)."""
        self._answers_after = max(0, self._answers_after - 1)

    def take_reask(self) -> bool:
        if self._left <= 0 or self._answers_after <= 0:
            return False
        self._left -= 1
        return True

    def counts(self) -> dict[str, dict[str, int]]:
        return {"dropped": dict(self.dropped), "reasked": dict(self.reasked)}


@contextmanager
def verifying(verifier: Verifier) -> Iterator[Verifier]:
    """Make `verifier` the one the validators count into, in this context."""
    token = _VERIFIER.set(verifier)
    try:
        yield verifier
    finally:
        _VERIFIER.reset(token)


def current() -> Verifier | None:
    return _VERIFIER.get()


class Facts:
    """What the checks need to know about one article and its actors, computed once."""

    def __init__(self, article: Article, actors: Sequence[ActorDraft]) -> None:
        self.article = article
        self.actors = {a.id: a for a in actors}
        self.speakers = {n: set(a.speakers) for n, a in attribute(article, actors).items()}
        self.named: dict[int, set[str]] = {}
        for m in mentions(article, actors):
            n = _sentence_at(article, m.start)
            if n is None:
                continue
            sentence = article.sentences[n - 1]
            if not any(a <= m.start - sentence.start < b for a, b in quoted_spans(sentence.text)):
                self.named.setdefault(n, set()).add(m.actor)  # a name inside a quotation is not its speaker


def _sentence_at(article: Article, offset: int) -> int | None:
    for s in article.sentences:
        if s.start <= offset < s.end:
            return s.n
    return None


def item_problems(facts: Facts, kind: str, item: ItemDraft) -> dict[str, str]:
    """The checks one item fails, each with the reason a model (or a reader) can act on."""
    article = facts.article
    cited = [n for n in item.sentences if 1 <= n <= len(article.sentences)]
    if not cited:
        return {}
    words = " ".join(article.sentences[n - 1].text for n in cited)
    where = ", ".join(f"[{n}]" for n in cited)
    problems: dict[str, str] = {}
    voice = item.actor == ARTICLE_VOICE
    if not voice:
        actor = facts.actors.get(item.actor)
        name = actor.name if actor else item.actor
        attributed = any(item.actor in facts.speakers.get(n, ()) for n in cited)
        nearby = any(item.actor in facts.named.get(m, ()) for n in cited for m in (n, n - 1)) and (
            SPEECH.search(words) is not None or '"' in words or "“" in words)
        if not attributed and not nearby:
            others = sorted({facts.actors[a].name for n in cited for a in facts.speakers.get(n, ())
                             if a in facts.actors})
            who = f"; the text attributes it to {', '.join(others)}" if others else ""
            problems["speaker"] = (f"{name} is not who says {where}{who}. Give the actor the sentence names as its "
                                   f'speaker, or "{ARTICLE_VOICE}" for the article\'s own account.')
    allowed = kinds_in(words, lenient=True)
    label = kind.rstrip("s")
    if kind != "claims" and kind not in allowed:
        problems["kind"] = (f"{where} does not express a {label}: "
                            + ("nothing in it looks ahead (will, expects, plans to…); a past report is a claim."
                               if kind == "predictions" else "it names no danger, risk or threat; that is a claim."))
    elif kind == "claims" and not voice and not (any(n in facts.speakers for n in cited)
                                                  or SPEECH.search(words) or '"' in words or "“" in words):
        problems["kind"] = (f"{where} reports no one's words (no speech verb, quotation or \"according to\"): "
                            f'it is the article\'s own account; drop it or give it to "{ARTICLE_VOICE}".')
    context = " ".join(article.sentences[n - 1].text for n in sorted({*cited, *(n - 1 for n in cited)} - {0}))
    reason = _unsupported(item.statement, words, context)
    if reason:
        problems["support"] = f'the statement "{item.statement}" {reason} in {where}.'
    return problems


def _stem(word: str) -> str:
    return re.sub(r"['’]s?$", "", word.lower())[:5]


def _unsupported(statement: str, words: str, context: str) -> str | None:
    """Why the statement is not what the cited words say, or None. Numbers and a negation must be in the cited
    sentences themselves; content words may come from the sentence before (the subject a quotation continues)."""
    numbers = [n for n in _NUMBER.findall(statement) if n not in words]
    if numbers:
        return f"has {', '.join(numbers)}, which is not"
    if _NEGATION.search(statement) and not _NEGATION.search(words):
        return "adds a negation that is not"
    content = [w.lower() for w in _WORD.findall(statement) if w.lower() not in _STOP and len(w) > 2]
    if not content:
        return None
    stems = {_stem(w) for w in _WORD.findall(context)}
    found = sum(_stem(w) in stems for w in content)
    if found / len(content) < SUPPORT_MIN:
        missing = [w for w in content if _stem(w) not in stems][:5]
        return f"says what is not written ({', '.join(missing)}…)"
    return None


def _letters(text: str) -> str:
    """Letters and digits only, lower case: "U. S. Agency" and "U.S. agency" are one name."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def actor_problems(article: Article, actors: Sequence[ActorDraft]) -> dict[str, str]:
    """Actors none of whose names occurs in the article, by id."""
    text = _letters(article.text)
    out = {}
    for a in actors:
        names = [k for k in map(_letters, (a.name, *a.aliases)) if k]
        if not any(k in text for k in names):
            out[a.id] = f'actor {a.id} "{a.name}" is not named in the article: list only actors it names.'
    return out


def verify_draft(article: Article, draft: object, verifier: Verifier, actors: Sequence[ActorDraft] = ()) -> None:
    """Check a draft's actors and items; raise ValueError with every reason while re-asks are left, else drop
    what fails. Counts go to `verifier`."""
    own = getattr(draft, "actors", None)
    listed: Sequence[ActorDraft] = own if own is not None else actors
    bad_actors = actor_problems(article, listed) if own is not None else {}
    facts = Facts(article, [a for a in listed if a.id not in bad_actors])
    found: list[tuple[str, int, dict[str, str]]] = []
    for kind in ("claims", "predictions", "warnings"):
        for i, item in enumerate(getattr(draft, kind, None) or []):
            problems = ({"actors": bad_actors[item.actor]} if item.actor in bad_actors
                        else item_problems(facts, kind, item))
            if problems:
                found.append((kind, i, problems))
    if not found and not bad_actors:
        return
    if verifier.take_reask():
        for check in {c for _, _, p in found for c in p} | ({"actors"} if bad_actors else set()):
            verifier.reasked[check] += 1
        lines = [*bad_actors.values(), *(f"{kind}[{i}] {check}: {reason}" for kind, i, problems in found
                                         for check, reason in problems.items())]
        raise ValueError("Some items are not faithful to the article:\n- " + "\n- ".join(lines))
    for kind, i, problems in reversed(found):
        getattr(draft, kind).pop(i)
        verifier.dropped[next(iter(problems))] += 1  # counted once, under the first check it fails
    if bad_actors:
        verifier.dropped["actors"] += len(bad_actors)
        setattr(draft, "actors", [a for a in listed if a.id not in bad_actors])  # noqa: B010
