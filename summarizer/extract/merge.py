"""One draft for a whole article from the drafts of its chunks.

Sentence numbers are lifted to the full article's, so `build_summary` takes offsets and text from the full
article itself and every span stays verbatim. Actors are merged across chunks by name (see `actors.py`) and
renumbered A1, A2, … Chunks overlap by a sentence or two, so an item there is often found twice: two items
from different chunks are one when they have the same actor and the same sentences, or near-identical
statements with the same actor or a shared sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz

from summarizer.extract.chunking import Chunk
from summarizer.grounding.answers import Extraction
from summarizer.grounding.checks import ITEM_FIELDS, NEAR_SAME, merge_actor_drafts, normalise
from summarizer.schema import ARTICLE_VOICE, ItemDraft, WarningDraft

__all__ = ["NEAR_SAME", "merge_drafts"]

_FILLABLE = ("quote", "timeframe", "condition", "consequence")


def merge_drafts(chunks: Sequence[Chunk], drafts: Sequence[Extraction]) -> Extraction:
    """Merge per-chunk drafts (each numbered within its chunk) into one numbered like the full article."""
    pairs = list(zip(chunks, drafts, strict=True))
    local = [a.model_copy(update={"id": _local(c, a.id)}) for c, d in pairs for a in d.actors]
    merged, remap = merge_actor_drafts(local)
    final = {a.id: f"A{i}" for i, a in enumerate(merged, 1)}
    ids = {old: final[new] for old, new in remap.items()}
    values: dict[str, Any] = {
        "actors": [a.model_copy(update={"id": final[a.id]}) for a in merged],
        "summary": _join([d.summary for d in drafts]),
    }
    for field in ITEM_FIELDS:
        found = [(c.index, _lift(item, c, ids)) for c, d in pairs for item in getattr(d, field)]
        values[field] = _once(found)
    return Extraction.model_construct(**values)


def _local(chunk: Chunk, actor_id: str) -> str:
    return f"{chunk.index}:{actor_id}"


def _lift(item: ItemDraft, chunk: Chunk, ids: dict[str, str]) -> ItemDraft:
    """A copy of `item` with full-article sentence numbers and merged actor ids."""
    voice = item.actor == ARTICLE_VOICE
    actor = ARTICLE_VOICE if voice else ids.get(_local(chunk, item.actor), ARTICLE_VOICE)
    sentences = [chunk.sentence_number(n) for n in item.sentences]
    update: dict[str, object] = {"actor": actor, "sentences": sentences}
    if isinstance(item, WarningDraft):
        update["addressees"] = [ids.get(_local(chunk, a), a) for a in item.addressees]
    lifted = item.model_copy(update=update)
    if item._model_cited is not None:
        lifted._model_cited = [chunk.sentence_number(n) for n in item._model_cited]
    return lifted


def _once(found: list[tuple[int, ItemDraft]]) -> list[ItemDraft]:
    """Items from different chunks that are one item, kept once (evidence united); then in reading order."""
    kept: list[tuple[int, ItemDraft]] = []
    for chunk, item in found:
        twin = next((k for c, k in kept if c != chunk and _same(k, item)), None)
        if twin is None:
            kept.append((chunk, item))
        else:
            _absorb(twin, item)
    return sorted((item for _, item in kept), key=lambda item: item.sentences[0])


def _same(a: ItemDraft, b: ItemDraft) -> bool:
    same_actor = a.actor == b.actor
    if a.sentences == b.sentences and (same_actor or ARTICLE_VOICE in (a.actor, b.actor)):
        return True
    if not (same_actor or set(a.sentences) & set(b.sentences)):
        return False
    return fuzz.token_sort_ratio(normalise(a.statement).lower(), normalise(b.statement).lower()) >= NEAR_SAME


def _absorb(keep: ItemDraft, other: ItemDraft) -> None:
    """Fold a duplicate into the item kept: a named speaker over the article's voice, all sentences, gaps."""
    if keep.actor == ARTICLE_VOICE:
        keep.actor = other.actor
    if keep._model_cited is not None or other._model_cited is not None:  # either twin's citations were moved
        keep._model_cited = sorted({*(keep._model_cited or keep.sentences), *(other._model_cited or other.sentences)})
    keep.sentences = sorted({*keep.sentences, *other.sentences})
    for name in _FILLABLE:
        if getattr(keep, name, None) is None and getattr(other, name, None) is not None:
            setattr(keep, name, getattr(other, name))
    if isinstance(keep, WarningDraft) and isinstance(other, WarningDraft):
        keep.addressees = list(dict.fromkeys([*keep.addressees, *other.addressees]))


def _join(summaries: Sequence[str]) -> str:
    """The chunks' summaries in order, near-repeats dropped (no extra call for a summary of summaries)."""
    kept: list[str] = []
    for text in (s.strip() for s in summaries):
        if text and all(fuzz.ratio(text, k) < NEAR_SAME for k in kept):
            kept.append(text)
    return " ".join(kept)

