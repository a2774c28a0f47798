"""Grounding rules and timeframe resolution, on small hand-made cases."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from summarizer.article.model import Article
from summarizer.grounding.answers import Extraction
from summarizer.grounding.checks import anchor_sentences, find_verbatim, merge_actor_drafts, validation_article
from summarizer.grounding.timeframes import resolve_timeframe
from summarizer.redact import redact
from summarizer.schema import ActorDraft

TEXT = "Officials said the bridge will fall. “It will not fall,” the mayor said.\n\nNothing else happened today."
ARTICLE = Article.from_text(TEXT, date=dt.date(2024, 11, 1))


def _draft(**item: object) -> dict[str, object]:
    claim = {"actor": "A1", "statement": "The bridge will fall.", "sentences": [1], "quote": None, **item}
    return {"summary": "s", "actors": [{"id": "A1", "name": "Officials", "kind": "group", "role": "r"}],
            "claims": [claim], "predictions": [], "warnings": []}


def test_verbatim_quote_ignores_only_whitespace_and_quote_style() -> None:
    assert find_verbatim(TEXT, '"It will not   fall,"') is not None
    assert find_verbatim(TEXT, "the bridge will not fall") is None
    start, end = find_verbatim(TEXT, "will fall")  # type: ignore[misc]
    assert TEXT[start:end] == "will fall"


def test_reversed_quote_is_rejected_with_a_precise_message() -> None:
    with validation_article(ARTICLE), pytest.raises(ValidationError) as info:
        Extraction.model_validate(_draft(quote="the bridge will not fall"))
    assert "not an exact copy" in str(info.value) and "sentence(s) 1" in str(info.value)


def test_nonexistent_sentence_message_names_the_valid_range() -> None:
    with validation_article(ARTICLE), pytest.raises(ValidationError) as info:
        Extraction.model_validate(_draft(sentences=[9]))
    assert "the article has sentences 1–3" in str(info.value)


def test_validation_context_may_be_passed_explicitly() -> None:
    with pytest.raises(ValidationError):
        Extraction.model_validate(_draft(sentences=[9]), context={"article": ARTICLE})
    assert Extraction.model_validate(_draft(sentences=[9])).claims  # no article: structure only


def test_statement_copying_a_sentence_is_anchored_to_it() -> None:
    assert anchor_sentences(ARTICLE, "It will not fall, the mayor said.", [1]) == [2]
    assert anchor_sentences(ARTICLE, "A paraphrase that copies nothing at all here", [1]) == [1]


def test_actor_aliases_merge_but_koreas_do_not() -> None:
    actors = [ActorDraft(id="A1", name="President Volodymyr Zelensky", kind="person"),
              ActorDraft(id="A2", name="Volodymyr Zelensky", kind="person", aliases=["Zelensky"]),
              ActorDraft(id="A3", name="North Korea", kind="country"),
              ActorDraft(id="A4", name="South Korea", kind="country")]
    merged, remap = merge_actor_drafts(actors)
    assert [a.id for a in merged] == ["A1", "A3", "A4"] and remap["A2"] == "A1"


@pytest.mark.parametrize(("text", "start", "end"), [
    ("in the coming days", "2024-11-01", "2024-11-08"),
    ("a matter of days, not months", "2024-11-01", "2024-11-08"),
    ("next month", "2024-12-01", "2024-12-31"),
    ("within two weeks", "2024-11-01", "2024-11-15"),
    ("by the end of the year", "2024-11-01", "2024-12-31"),
    ("by March", "2024-11-01", "2025-03-31"),
])
def test_timeframes_resolve_against_the_article_date(text: str, start: str, end: str) -> None:
    tf = resolve_timeframe(text, dt.date(2024, 11, 1))
    assert tf is not None and (tf.start.isoformat(), tf.end.isoformat()) == (start, end)


def test_unresolvable_timeframes_stay_none() -> None:
    assert resolve_timeframe("eventually", dt.date(2024, 11, 1)) is None
    assert resolve_timeframe("next week", None) is None


def test_redaction_hides_keys_even_partly_masked() -> None:
    assert "canary" not in redact("key canary-123456 leaked", ["canary-123456"])
    assert "sk-abc" not in redact("Incorrect API key provided: sk-abc***wxyz.")


def test_a_repeated_item_is_kept_once_and_a_different_one_on_the_same_sentence_stays() -> None:
    draft = _draft()
    claim = draft["claims"][0]  # type: ignore[index]
    draft["claims"] = [claim,
                       {**claim, "statement": "The bridge will fall!"},            # the same, punctuated
                       {**claim, "statement": "the bridge, it will fall."},        # near-identical, same sentence
                       {**claim, "statement": "Officials spoke about the bridge."},  # different: stays
                       {**claim, "statement": "The bridge will fall.", "actor": "article"}]  # other speaker: stays
    with validation_article(ARTICLE):
        claims = Extraction.model_validate(draft).claims
    assert [(c.actor, c.statement) for c in claims] == [
        ("A1", "The bridge will fall."), ("A1", "Officials spoke about the bridge."),
        ("article", "The bridge will fall.")]
