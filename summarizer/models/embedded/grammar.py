"""The embedded model's answers: its schema narrowed to one article as a llama.cpp grammar, then tidied.

The forced tool's JSON Schema becomes the grammar llama.cpp decodes under, so an answer cannot leave the
schema; sentence numbers and actor ids are narrowed to this article's, and lists and strings are capped
(`LIST_CAPS`, `STRING_CAPS`) to bound run time and rambling. `tidy_answer` repairs what the grammar lets
through.

The caps are for this small model only: the response models (`grounding/answers.py`) put no bound on the
number of actors or items, so a hosted or server model may return every one the article has.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from summarizer.article.sentences import complete_sentences
from summarizer.schema import ARTICLE_VOICE

__all__ = ["LIST_CAPS", "STRING_CAPS", "constrain_schema", "tidy_answer"]

# A 1.5B model writes long, repetitive lists when it may; every token costs ~60 ms on 2 cores. These caps are
# enforced by the grammar, so they bound both run time and rambling. The prose caps are set so that a model
# that does what it is asked (a 2–3 sentence summary, one short sentence per statement) rarely reaches them.
LIST_CAPS = {"actors": 16, "claims": 6, "predictions": 4, "warnings": 2, "sentences": 2, "aliases": 3,
             "addressees": 2}
STRING_CAPS = {"id": 12, "summary": 360, "statement": 220, "name": 60, "role": 40, "timeframe": 40, "condition": 120,
               "consequence": 120}
ITEM_STRING_CAPS = {"aliases": 40, "addressees": 60}  # strings inside lists: unbounded, a small model can loop
PROSE = frozenset(STRING_CAPS) - {"id"}  # capped strings a reader reads: a cut one is never passed off as whole
SENTENCES = frozenset({"summary", "statement"})  # prose written as sentences: a cut one keeps whole sentences only
DROPPED = ("quote", "role")  # optional in the schema: sentence numbers ground every item; roles cost tokens


def _cap_string(node: dict[str, Any], limit: int) -> None:
    for option in node.get("anyOf", [node]):
        if option.get("type") == "string":
            option["maxLength"] = limit


def constrain_schema(schema: dict[str, Any], n_sentences: int | None, actor_ids: Sequence[str] | None,
                     ) -> dict[str, Any]:
    """Narrow the schema for *this* article: sentence numbers 1..n, actor ids, list and string caps."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for name in DROPPED:
                    if name in props and name not in node.get("required", []):
                        del props[name]
                for name, prop in props.items():
                    if not isinstance(prop, dict):
                        continue
                    if name in LIST_CAPS and prop.get("type") == "array":
                        prop["maxItems"] = min(prop.get("maxItems", LIST_CAPS[name]), LIST_CAPS[name])
                    if name in STRING_CAPS:
                        _cap_string(prop, STRING_CAPS[name])
                    if name in ITEM_STRING_CAPS and isinstance(prop.get("items"), dict):
                        _cap_string(prop["items"], ITEM_STRING_CAPS[name])
                if n_sentences and isinstance(props.get("sentences"), dict):
                    items = props["sentences"].get("items", {})
                    items.pop("type", None)
                    items["enum"] = list(range(1, n_sentences + 1))
                    props["sentences"]["items"] = items
                if actor_ids and isinstance(props.get("actor"), dict):
                    props["actor"] = {"enum": [*actor_ids, ARTICLE_VOICE], "description": props["actor"].get(
                        "description", "")}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def tidy_answer(text: str) -> tuple[str, int]:
    """Repairs of a grammar-decoded answer that would otherwise cost a re-ask or mislead a reader; the answer
    and the number of items dropped because the cap cut their statement before its first sentence ended.

    - A raw control character (a newline) inside a string, which llama-cpp-python's schema grammar lets through
      and strict JSON refuses: prose strings get their whitespace collapsed, anything else is escaped.
    - A string the grammar cut at its cap (it closed the string, not the model) is never passed off as whole:
      - a `summary` or `statement` (sentences) keeps its text up to its last complete sentence
        (`article.sentences.complete_sentences`), never a sentence cut short;
      - an item whose cut `statement` holds no complete sentence is dropped from its list (and counted): it has
        nothing whole to say;
      - a cut `summary` with no complete sentence becomes empty (the article's own text is not a summary, and
        half a sentence is not one either); the raised cap makes this rare;
      - `name`, `role`, `timeframe`, `condition` and `consequence` are phrases, not sentences: a cut one ends at
        its last whole word followed by "…", so a reader sees it was cut.

    Text that is not a JSON object (an answer cut off as a whole) is returned as it is.
    """
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        return text, 0
    if not isinstance(data, dict):
        return text, 0
    dropped = 0

    def walk(node: Any) -> Any:
        nonlocal dropped
        if isinstance(node, dict):
            return {key: _prose(key, value) if key in PROSE and isinstance(value, str) else walk(value)
                    for key, value in node.items()}
        if isinstance(node, list):
            kept = [value for value in node if not _unfinished_item(value)]
            dropped += len(node) - len(kept)
            return [walk(value) for value in kept]
        return node

    return json.dumps(walk(data), ensure_ascii=False), dropped


def _unfinished_item(node: Any) -> bool:
    """An item whose statement the cap cut before its first sentence ended."""
    if not isinstance(node, dict) or not isinstance(statement := node.get("statement"), str):
        return False
    return len(statement) >= STRING_CAPS["statement"] and not _prose("statement", statement)


def _prose(key: str, value: str) -> str:
    cut = len(value) >= STRING_CAPS[key]
    value = " ".join(value.split())
    if not cut:
        return value
    if key in SENTENCES:
        return complete_sentences(value)
    head = value[: value.rfind(" ")] if " " in value else value
    return head.rstrip(" ,;:-") + "…"
