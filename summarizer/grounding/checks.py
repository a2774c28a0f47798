"""The grounding checks: every item cites real sentences, every actor reference resolves, every quote is verbatim.

The model cites sentence numbers; this module checks them against the `Article` and turns them into spans with
character offsets. Quotes are compared after normalising whitespace and quote characters only: there is no
fuzzy acceptance, so "will not fall" never passes for "will fall".

The article reaches the validators through `validation_article()` (a contextvar) rather than instructor's
`context=`, because instructor renders every message as a Jinja template when given a context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationInfo
from rapidfuzz import fuzz

from summarizer.article.model import Article
from summarizer.grounding.names import Mention, group_mentions, split_title, unique_aliases, variant_key
from summarizer.grounding.verify import current as current_verifier
from summarizer.grounding.verify import verify_draft
from summarizer.schema import ARTICLE_VOICE, ActorDraft, ItemDraft

_ARTICLE: ContextVar[Article | None] = ContextVar("summarizer_article", default=None)
_ACTORS: ContextVar[Sequence[ActorDraft] | None] = ContextVar("summarizer_actors", default=None)

_QUOTE_CHARS = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"',
                              "‘": "'", "’": "'", "‚": "'", "‛": "'", "`": "'"})
_WS = re.compile(r"\s+")
_VOICE_WORDS = {ARTICLE_VOICE, "", "none", "null", "narrator", "the article", "author", "reporter"}

D = TypeVar("D", bound=BaseModel)
ITEM_FIELDS = ("claims", "predictions", "warnings")
# Re-anchoring: a statement that (nearly) copies one sentence is tied to that sentence. Partial-ratio scores
# (0-100) compare the statement with each sentence; below ANCHOR_MIN nothing is changed.
ANCHOR_MIN = 85
KEEP_MIN = 60
NEAR_SAME = 90  # rapidfuzz token_sort_ratio (0-100) from which two statements are one said twice


@contextmanager
def validation_article(article: Article, actors: Sequence[ActorDraft] | None = None) -> Iterator[None]:
    """Make `article` (and pass-one actors) visible to the draft validators in this context."""
    token_a = _ARTICLE.set(article)
    token_b = _ACTORS.set(actors)
    try:
        yield
    finally:
        _ARTICLE.reset(token_a)
        _ACTORS.reset(token_b)


def _context(info: ValidationInfo | None) -> tuple[Article | None, Sequence[ActorDraft] | None]:
    ctx: Any = info.context if info is not None else None
    if isinstance(ctx, dict) and isinstance(ctx.get("article"), Article):
        return ctx["article"], ctx.get("actors")
    return _ARTICLE.get(), _ACTORS.get()


# --------------------------------------------------------------------------- verbatim matching


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Collapse whitespace and unify quote characters; return the new text and, per char, its origin offset."""
    out: list[str] = []
    origin: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not in_space and out:
                out.append(" ")
                origin.append(i)
            in_space = True
            continue
        in_space = False
        out.append(ch.translate(_QUOTE_CHARS))
        origin.append(i)
    if out and out[-1] == " ":
        out.pop()
        origin.pop()
    return "".join(out), origin


def normalise(text: str) -> str:
    """The comparison form of a quote: whitespace and quote characters only."""
    return _WS.sub(" ", text.translate(_QUOTE_CHARS)).strip()


def find_verbatim(text: str, quote: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Offsets of `quote` inside `text[start:end]`, comparing normalised forms; None if absent."""
    end = len(text) if end is None else end
    needle = normalise(quote)
    if not needle:
        return None
    hay, origin = normalise_with_map(text[start:end])
    pos = hay.find(needle)
    if pos < 0:
        return None
    return start + origin[pos], start + origin[pos + len(needle) - 1] + 1


# --------------------------------------------------------------------------- actors


def merge_actor_drafts(actors: Sequence[ActorDraft]) -> tuple[list[ActorDraft], dict[str, str]]:
    """Merge actors that are one (same id, or names that agree: see `actors.py`); return them and an id remap.

    The fullest name becomes the name, every other name an alias; the first actor of a group keeps its id.
    """
    by_id: dict[str, ActorDraft] = {}
    for actor in actors:
        if actor.name.strip().lower() in _VOICE_WORDS:
            continue  # the article's own voice is not an actor
        if actor.id in by_id:
            same = by_id[actor.id]
            same.aliases = [*same.aliases, actor.name, *actor.aliases]
        else:
            by_id[actor.id] = actor.model_copy(update={"aliases": list(actor.aliases)})
    kept = list(by_id.values())
    groups = group_mentions([Mention(a.name, tuple(a.aliases), a.kind) for a in kept])
    merged: list[ActorDraft] = []
    remap: dict[str, str] = {}
    for members, name in zip(groups.members, groups.canonical, strict=True):
        drafts = [kept[i] for i in members]
        first = drafts[0]
        names = [n for d in drafts for n in (d.name, *d.aliases)]
        role = next((d.role for d in drafts if d.role.strip()), first.role)
        if first.kind == "person":  # "Secretary of Defense Lloyd Austin" is Lloyd Austin, in that role
            title, bare = split_title(name)
            name, role = bare, (role if role.strip() else title)
        aliases = unique_aliases(names, name)
        merged.append(first.model_copy(update={"name": name, "role": role, "aliases": aliases}))
        remap.update({d.id: first.id for d in drafts})
    return merged, remap


def _resolve_actor(ref: str, actors: Sequence[ActorDraft], remap: dict[str, str]) -> str | bool | None:
    """An actor id for `ref`, None for the article's voice, or False if it does not resolve."""
    raw = ref.strip()
    if raw.lower() in _VOICE_WORDS:
        return None
    if raw in remap:
        return remap[raw]
    for a in actors:
        if a.id.lower() == raw.lower():
            return a.id
    key = variant_key(raw)
    for a in actors:
        if key and (key == variant_key(a.name) or key in {variant_key(x) for x in a.aliases}):
            return a.id
    return False


# --------------------------------------------------------------------------- the validator


def check_draft(draft: D, info: ValidationInfo | None = None) -> D:
    """Validate a draft against its article; raise one ValueError listing every problem and how to fix it."""
    article, context_actors = _context(info)
    if article is None:
        return draft  # no article in context: structural validation only (e.g. `summarizer schema`)
    verifier = current_verifier()
    if verifier is not None:
        verifier.validating()
    if "actors" in type(draft).model_fields:  # the one-call answer lists its own actors
        merged, remap = merge_actor_drafts(getattr(draft, "actors"))  # noqa: B009
        setattr(draft, "actors", merged)  # noqa: B010
        actors: Sequence[ActorDraft] = merged
    else:
        actors = context_actors or ()
        remap = {a.id: a.id for a in actors}
    problems: list[str] = []
    n_max = len(article.sentences)
    ids = ", ".join(f"{a.id} ({a.name})" for a in actors) or "none yet"
    for field in (f for f in ITEM_FIELDS if f in type(draft).model_fields):
        items: list[ItemDraft] = getattr(draft, field)
        for i, item in enumerate(items):
            where = f"{field}[{i}]"
            resolved = _resolve_actor(item.actor, actors, remap)
            if resolved is False:
                problems.append(
                    f'{where}.actor "{item.actor}" is not an actor id. Use one of: {ids}, or "{ARTICLE_VOICE}"'
                    + (" — or add the missing actor to `actors`." if "actors" in type(draft).model_fields else ".")
                )
            else:
                item.actor = resolved if isinstance(resolved, str) else ARTICLE_VOICE
            bad = [n for n in item.sentences if not 1 <= n <= n_max]
            if bad:
                problems.append(
                    f"{where}.sentences cites {', '.join(map(str, bad))}, which do not exist: "
                    f"the article has sentences 1–{n_max}. Cite only numbers shown in [brackets]."
                )
                continue
            by_model = sorted(set(item.sentences))
            item.sentences = anchor_sentences(article, item.statement, by_model)
            if item.sentences != by_model:
                item._model_cited = by_model
            if not item.statement.strip():
                problems.append(f"{where}.statement is empty: state the item in one sentence.")
            if item.quote is not None and not item.quote.strip():
                item.quote = None
            if item.quote is not None and quote_span(article, item) is None:
                cited = ", ".join(map(str, item.sentences))
                problems.append(
                    f'{where}.quote "{item.quote}" is not an exact copy of words in sentence(s) {cited}. '
                    "Copy the words exactly as written there, cite the sentence that contains them, "
                    "or set quote to null."
                )
        if not problems:
            setattr(draft, field, _dedupe(items))
    if problems:
        raise ValueError("The answer is not grounded in the article:\n- " + "\n- ".join(problems))
    if verifier is not None:
        verify_draft(article, draft, verifier, actors)
    return draft


def anchor_sentences(article: Article, statement: str, cited: list[int]) -> list[int]:
    """Tie a statement that nearly copies one sentence to that sentence, keeping cited ones that also match.

    Small models copy a sentence well but misremember its number; the copy is the better evidence. A statement
    that copies nothing (a paraphrase) keeps the model's citations unchanged.
    """
    text = normalise(statement)
    if len(text) < 20:
        return cited
    scores = {s.n: fuzz.partial_ratio(text, normalise(s.text)) for s in article.sentences}
    best = max(scores, key=lambda n: scores[n])
    if scores[best] < ANCHOR_MIN or best in cited:
        return cited
    keep = [n for n in cited if scores[n] >= KEEP_MIN]
    return sorted({best, *keep})


def _dedupe(items: list[ItemDraft]) -> list[ItemDraft]:
    """Drop repeats (small models loop): same actor and the same statement, or the same sentences and a
    near-identical statement (rapidfuzz token_sort_ratio ≥ NEAR_SAME)."""
    out: list[ItemDraft] = []
    for item in items:
        if not any(_repeats(item, kept) for kept in out):
            out.append(item)
    return out


def _repeats(item: ItemDraft, kept: ItemDraft) -> bool:
    if item.actor != kept.actor:
        return False
    a, b = normalise(item.statement).lower(), normalise(kept.statement).lower()
    return a == b or (item.sentences == kept.sentences and fuzz.token_sort_ratio(a, b) >= NEAR_SAME)


def quote_span(article: Article, item: ItemDraft) -> tuple[int, int] | None:
    assert item.quote is not None
    first = article.sentence(item.sentences[0])
    last = article.sentence(item.sentences[-1])
    return find_verbatim(article.text, item.quote, first.start, last.end)
