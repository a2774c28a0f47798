"""The embedded model's grammar caps and the tidying of its answers, without the model (pure functions)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from summarizer.article.sentences import complete_sentences
from summarizer.grounding.answers import ActorList, ClaimsStep, Extraction, PredictionsStep, WarningsStep
from summarizer.models.embedded.grammar import LIST_CAPS, STRING_CAPS, constrain_schema, tidy_answer

LISTS = ("actors", "claims", "predictions", "warnings")
STEPS: tuple[type[BaseModel], ...] = (Extraction, ActorList, ClaimsStep, PredictionsStep, WarningsStep)


def _padded(text: str, key: str) -> str:
    """`text` made exactly as long as the cap of `key`, as the grammar leaves a string it closed at its cap."""
    cap = STRING_CAPS[key]
    assert len(text) <= cap
    return text + "x" * (cap - len(text)) if len(text) < cap else text


def _cut(sentences: str, key: str, tail: str = " Then the speaker went on to talk about something else") -> str:
    """Whole sentences followed by an unfinished one that the cap of `key` cuts mid-word."""
    return _mid_word(sentences + tail * (STRING_CAPS[key] // len(tail) + 2), STRING_CAPS[key])


def _mid_word(text: str, cap: int) -> str:
    """`text` cut at `cap` inside a word, as the grammar closes a string at its cap."""
    text = text[:cap]
    if not text[-2:].isalpha():
        text = text[:-2] + "qu"
    assert len(text) == cap
    return text


def _tidied(answer: dict[str, Any]) -> tuple[dict[str, Any], int]:
    text, dropped = tidy_answer(json.dumps(answer))
    return json.loads(text), dropped


# --------------------------------------------------------------------------- caps: the embedded model's only


@pytest.mark.parametrize("model", STEPS, ids=lambda m: m.__name__)
def test_response_models_put_no_bound_on_actors_or_items(model: type[BaseModel]) -> None:
    props = model.model_json_schema()["properties"]
    present = [name for name in LISTS if name in props]
    assert present
    for name in present:
        assert props[name]["type"] == "array"
        assert "maxItems" not in props[name], f"{model.__name__}.{name} is capped for every backend"


@pytest.mark.parametrize("model", STEPS, ids=lambda m: m.__name__)
def test_the_embedded_grammar_still_caps_every_list(model: type[BaseModel]) -> None:
    props = constrain_schema(model.model_json_schema(), 7, ["A1", "A2"])["properties"]
    for name in (n for n in LISTS if n in props):
        assert props[name]["maxItems"] == LIST_CAPS[name]


def test_schema_is_narrowed_to_this_article() -> None:
    schema = constrain_schema(ClaimsStep.model_json_schema(), 7, ["A1", "A2"])
    claim = schema["$defs"]["ClaimDraft"]["properties"]
    assert claim["sentences"]["items"]["enum"] == [1, 2, 3, 4, 5, 6, 7]
    assert claim["actor"]["enum"] == ["A1", "A2", "article"]
    assert claim["statement"]["maxLength"] == STRING_CAPS["statement"]
    assert schema["properties"]["summary"]["maxLength"] == STRING_CAPS["summary"]
    assert "quote" not in claim
    json.dumps(schema)


def test_a_capped_list_keeps_a_tighter_bound_it_already_had() -> None:
    schema = {"type": "object", "properties": {"claims": {"type": "array", "items": {}, "maxItems": 2}}}
    assert constrain_schema(schema, None, None)["properties"]["claims"]["maxItems"] == 2


# --------------------------------------------------------------------------- complete sentences


@pytest.mark.parametrize(("text", "kept"), [
    ("First one. Second is cut at wo", "First one."),
    ("All whole. Both end here.", "All whole. Both end here."),
    ('He said "no." Then he le', 'He said "no."'),
    ("He said it (twice). Then he", "He said it (twice)."),
    ("Ends with a question? Yes! And th", "Ends with a question? Yes!"),
    ("Mr. Roe said it. The next", "Mr. Roe said it."),  # a title does not end a sentence
    ("Talks with the U.S. military were cut o", ""),  # nor an abbreviation inside one
    ("They met the mayor. Then they met Gov.", "They met the mayor."),  # a title at the cut: the name was cut
    ("He thanked the mayor. He also thanked John F.", "He thanked the mayor."),  # so was an initial
    ("It trailed off... and then", ""),
    ("No sentence ends here at all", ""),
    ("", ""),
])
def test_complete_sentences_keeps_whole_sentences_only(text: str, kept: str) -> None:
    assert complete_sentences(text) == kept


# --------------------------------------------------------------------------- tidy_answer: never cut a sentence


def test_a_cut_statement_keeps_its_last_whole_sentence() -> None:
    whole = "Putin is testing the world's reaction to North Korean troops. He expects no firm answer."
    cut = _cut(whole, "statement", " Zelensky said the number of soldiers could rise to ten thousand by the end")
    answer, dropped = _tidied({"claims": [{"actor": "A1", "statement": cut, "sentences": [2]},
                                          {"actor": "A2", "statement": "Short and whole.", "sentences": [3]}],
                               "summary": "Fine."})
    assert dropped == 0
    assert [c["statement"] for c in answer["claims"]] == [whole, "Short and whole."]
    assert answer["claims"][0]["sentences"] == [2]


def test_an_item_whose_cut_statement_has_no_whole_sentence_is_dropped_and_counted() -> None:
    cut = _cut("", "statement", " Putin is testing the world's reaction to North Korean mercenaries")
    assert "." not in cut
    answer, dropped = _tidied({
        "claims": [{"actor": "A1", "statement": cut, "sentences": [2]},
                   {"actor": "A2", "statement": "Short and whole.", "sentences": [3]}],
        "predictions": [{"actor": "A1", "statement": cut, "sentences": [4], "timeframe": None}],
        "warnings": [{"actor": "A2", "statement": "Iodine deficiency harms children.", "sentences": [5]}],
        "summary": "Fine."})
    assert dropped == 2
    assert answer["claims"] == [{"actor": "A2", "statement": "Short and whole.", "sentences": [3]}]
    assert answer["predictions"] == []
    assert [w["statement"] for w in answer["warnings"]] == ["Iodine deficiency harms children."]


def test_a_statement_the_model_ended_itself_is_kept_as_written() -> None:
    """Only a string the grammar closed at its cap is cut; a short one without a stop is the model's own."""
    answer, dropped = _tidied({"claims": [{"actor": "A1", "statement": "Troops  at the border", "sentences": [1]}]})
    assert dropped == 0 and answer["claims"][0]["statement"] == "Troops at the border"


def test_a_statement_exactly_at_its_cap_that_ends_a_sentence_is_whole() -> None:
    text = _padded("The council approved the bridge", "statement")[:-1] + "."
    answer, dropped = _tidied({"claims": [{"actor": "A1", "statement": text, "sentences": [1]}]})
    assert dropped == 0 and answer["claims"][0]["statement"] == text


def test_a_cut_summary_ends_at_its_last_sentence_end() -> None:
    whole = "Zelensky said North Korea is sending troops to Russia. Austin expects them in combat soon."
    cut = _cut(whole, "summary")
    answer, dropped = _tidied({"claims": [], "summary": cut})
    assert dropped == 0 and answer["summary"] == whole


def test_a_cut_summary_without_a_sentence_end_is_empty_not_half_a_sentence() -> None:
    cut = _cut("", "summary", " the Afghan robotics team was awarded a silver medal for courageous achievement")
    answer, dropped = _tidied({"claims": [], "summary": cut})
    assert dropped == 0 and answer["summary"] == ""


@pytest.mark.parametrize("key", ["condition", "consequence", "timeframe", "role", "name"])
def test_a_cut_phrase_ends_at_its_last_whole_word_marked_as_cut(key: str) -> None:
    """Phrases are not sentences: a cut one keeps its whole words and says it was cut."""
    cut = _mid_word("if the number of North Korean troops on the border is increased " * 5, STRING_CAPS[key])
    answer, _ = _tidied({"items": [{key: cut}]})
    shown = answer["items"][0][key]
    assert shown.endswith("…") and not shown.endswith(" …")
    head = shown.removesuffix("…")
    assert cut.startswith(head) and cut[len(head)] == " "  # it stops before a space: at a whole word


def test_an_answer_cut_off_as_a_whole_is_returned_as_it_is() -> None:
    assert tidy_answer('{"claims": [{"statement": "cut off') == ('{"claims": [{"statement": "cut off', 0)


def test_a_raw_newline_inside_a_string_is_repaired_not_re_asked() -> None:
    raw = '{"warnings": [{"actor": "A1", "statement": "Iodine deficiency\n harms children", "sentences": [4],\n' \
          ' "addressees": ["parents\n"], "consequence": null, "condition": null}]}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    text, dropped = tidy_answer(raw)
    (warning,) = json.loads(text)["warnings"]
    assert dropped == 0
    assert warning["statement"] == "Iodine deficiency harms children" and warning["addressees"] == ["parents\n"]


def test_an_overview_summary_the_model_stopped_mid_sentence_keeps_only_whole_sentences() -> None:
    from summarizer.grounding.answers import Overview

    assert Overview(actors=[], summary="Obama spoke. He admitted that his failure to pass").summary == "Obama spoke."
    assert Overview(actors=[], summary="President Obama admitted that his failure to pass").summary == ""
    assert Overview(actors=[], summary="It rained. It rained. It stopped.").summary == "It rained. It stopped."
