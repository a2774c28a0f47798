"""Prompt building: the step hints (cued sentences)."""

from __future__ import annotations

from summarizer import Article
from summarizer.extract.prompts import build_messages, cued_sentences

TEXT = ("The council met on Monday. "                                   # 1: nothing to cue
        "The mayor said the budget was balanced. "                      # 2: speech
        "“We are on track,” the treasurer added. "                      # 3: speech and a quotation
        "Officials expect the bridge to reopen by 2026. "               # 4: future
        "Engineers warned that heavy rain could delay the works.")      # 5: speech, future and warning
ARTICLE = Article.from_text(TEXT)


def test_each_step_cues_its_own_sentences() -> None:
    assert len(ARTICLE.sentences) == 5
    assert cued_sentences(ARTICLE, "claims") == [2, 3, 5]
    assert cued_sentences(ARTICLE, "predictions") == [4, 5]
    assert cued_sentences(ARTICLE, "warnings") == [5]
    assert cued_sentences(ARTICLE, "actors") == cued_sentences(ARTICLE, "extract") == []


def test_the_hint_is_in_the_step_instruction_after_the_article() -> None:
    user = build_messages(ARTICLE, "claims")[1]["content"]
    article_end = user.index("[5] Engineers")
    hint = user.index("Sentences that report what someone said: [2], [3], [5].")
    assert hint > article_end  # the article stays a shared prefix of every step's prompt
    assert "Sentences" not in build_messages(ARTICLE, "actors")[1]["content"].split("[5] Engineers")[1]


def test_no_cue_no_hint() -> None:
    quiet = Article.from_text("The council met on Monday. The room was full.")
    assert "Sentences about the future" not in build_messages(quiet, "predictions")[1]["content"]

