"""Article: normalised text, stable id, and sentences whose offsets always match the text."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from summarizer.article.model import Article, ArticleIndexError, Sentence, normalize_text
from summarizer.errors import InputError, SummarizerError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "articles"

TEXT = "Kyiv accused Moscow of escalation. Officials said more troops were coming.\n\nNo one replied."


def test_from_text_numbers_sentences_with_exact_offsets() -> None:
    article = Article.from_text(TEXT)
    assert [s.n for s in article.sentences] == [1, 2, 3]
    assert [s.text for s in article.sentences] == [
        "Kyiv accused Moscow of escalation.",
        "Officials said more troops were coming.",
        "No one replied.",
    ]
    for sentence in article.sentences:
        assert article.text[sentence.start : sentence.end] == sentence.text


def test_metadata_is_kept() -> None:
    article = Article.from_text(
        TEXT,
        title="Headline",
        date=datetime.date(2024, 11, 1),
        source="https://example.org/a",
        byline="A. Reporter",
        path="in/a.txt",
    )
    assert (article.title, article.date, article.source, article.byline, article.path) == (
        "Headline",
        datetime.date(2024, 11, 1),
        "https://example.org/a",
        "A. Reporter",
        "in/a.txt",
    )


def test_numbered_view_is_what_the_model_sees() -> None:
    assert Article.from_text(TEXT).numbered() == (
        "[1] Kyiv accused Moscow of escalation.\n"
        "[2] Officials said more troops were coming.\n"
        "[3] No one replied."
    )


def test_sentence_lookup_by_number() -> None:
    article = Article.from_text(TEXT)
    assert article.sentence(2).text == "Officials said more troops were coming."
    for bad in (0, -1, 4):
        with pytest.raises(ArticleIndexError, match=f"sentence {bad} does not exist; .* 1 to 3"):
            article.sentence(bad)


def test_span_text_and_its_bounds() -> None:
    article = Article.from_text(TEXT)
    assert article.span_text(0, 4) == "Kyiv"
    assert article.span_text(5, 5) == ""
    for start, end in ((-1, 3), (4, 2), (0, len(article.text) + 1)):
        with pytest.raises(ArticleIndexError, match="outside the article text"):
            article.span_text(start, end)
    assert issubclass(ArticleIndexError, SummarizerError)


def test_text_is_normalised() -> None:
    raw = "\ufeff  Cafe\u0301 opens.   \r\nSecond line.\t\r\n\r\n\n"
    article = Article.from_text(raw)
    assert article.text == "Café opens.\nSecond line."
    assert article.text == normalize_text(raw)
    assert [s.text for s in article.sentences] == ["Café opens.", "Second line."]


def test_id_is_sha256_of_normalised_text_and_ignores_metadata() -> None:
    plain = Article.from_text("One.\nTwo.")
    assert plain.id == hashlib.sha256(b"One.\nTwo.").hexdigest()
    assert Article.from_text("One.  \r\nTwo.\r\n", title="T", date=datetime.date(2020, 1, 1)).id == plain.id
    assert Article.from_text("One.\nTwo!").id != plain.id


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n\t", "\ufeff"])
def test_empty_article_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="article is empty") as caught:
        Article.from_text(text, path="in/empty.txt")
    assert caught.value.path == "in/empty.txt"
    assert "in/empty.txt" in str(caught.value)


def test_models_are_frozen() -> None:
    article = Article.from_text(TEXT)
    with pytest.raises(ValidationError):
        article.title = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        article.sentences[0].text = "changed"  # type: ignore[misc]


def test_round_trip_through_json() -> None:
    article = Article.from_text(TEXT, date=datetime.date(2024, 11, 1))
    assert Article.model_validate_json(article.model_dump_json()) == article


def test_inconsistent_article_is_refused() -> None:
    data = Article.from_text(TEXT).model_dump()
    tampered_id = {**data, "id": "0" * 64}
    with pytest.raises(ValidationError, match="id is not the SHA-256"):
        Article.model_validate(tampered_id)
    bad_sentence = {**data, "sentences": [{**data["sentences"][0], "end": 5}, *data["sentences"][1:]]}
    with pytest.raises(ValidationError, match="sentence 1 does not match"):
        Article.model_validate(bad_sentence)
    renumbered = {**data, "sentences": data["sentences"][1:]}
    with pytest.raises(ValidationError, match="sentence numbers must run"):
        Article.model_validate(renumbered)


@pytest.mark.parametrize("model", [Article, Sentence])
def test_every_field_is_described(model: type[Article] | type[Sentence]) -> None:
    for name, field in model.model_fields.items():
        assert field.description, name
    assert model.model_json_schema()["properties"]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_offsets_hold_on_every_fixture(path: Path) -> None:
    article = Article.from_text(path.read_text(encoding="utf-8"))
    assert article.sentences
    for sentence in article.sentences:
        assert sentence.text
        assert article.text[sentence.start : sentence.end] == sentence.text
