"""Sentence boundaries on news text: the offsets every piece of evidence points into."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from summarizer.article.sentences import split_sentences

FIXTURES = Path(__file__).parents[2] / "fixtures" / "articles"
SEED = FIXTURES / "zelensky-north-korea.txt"
WIKINEWS = sorted(p for p in FIXTURES.glob("*.txt") if p != SEED)


def sentences(text: str) -> list[str]:
    """Split and check the invariants every caller relies on."""
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        piece = text[start:end]
        assert piece, (start, end)
        assert piece == piece.strip()
        assert "\n" not in piece
        assert start >= previous_end
        previous_end = end
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. Senate met in Washington, D.C., on Tuesday. It adjourned.",
            ["The U.S. Senate met in Washington, D.C., on Tuesday.", "It adjourned."],
        ),
        (
            "Mr. Smith and Dr. Jones met Gen. Milley on Jan. 5 about it. They left.",
            ["Mr. Smith and Dr. Jones met Gen. Milley on Jan. 5 about it.", "They left."],
        ),
        ("The No. 5 seed won. Fans cheered.", ["The No. 5 seed won.", "Fans cheered."]),
        (
            "J. R. R. Tolkien wrote it. It sold 3.5 million copies.",
            ["J. R. R. Tolkien wrote it.", "It sold 3.5 million copies."],
        ),
        (
            "Sen. John Doe and Rep. Jane Roe spoke. Gov. Abbott and Lt. Col. Smith came.",
            ["Sen. John Doe and Rep. Jane Roe spoke.", "Gov. Abbott and Lt. Col. Smith came."],
        ),
        (
            "“We tried ... And I believe it failed,” he said. Next one.",
            ["“We tried ... And I believe it failed,” he said.", "Next one."],
        ),
        (
            '"We tried... And I believe it failed," he said. Next one.',
            ['"We tried... And I believe it failed," he said.', "Next one."],
        ),
        (
            "“We will win,” he said.” Next sentence here.",
            ["“We will win,” he said.”", "Next sentence here."],
        ),
        ('"We will win." Next sentence here.', ['"We will win."', "Next sentence here."]),
        (
            'The page said "search for truth ...". As of noon it was back.',
            ['The page said "search for truth ...".', "As of noon it was back."],
        ),
        ("Is it true? She laughed! Nobody knew.", ["Is it true?", "She laughed!", "Nobody knew."]),
        ("He moved to the U.S. The move was hard.", ["He moved to the U.S.", "The move was hard."]),
    ],
)
def test_news_punctuation(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_every_line_break_ends_a_sentence() -> None:
    text = "HEADLINE WITHOUT STOP\nKYIV, Ukraine\r\nBody starts here. Second one.\n\n  \n  Last one.  "
    assert sentences(text) == [
        "HEADLINE WITHOUT STOP",
        "KYIV, Ukraine",
        "Body starts here.",
        "Second one.",
        "Last one.",
    ]


def test_unicode_line_separators_end_sentences() -> None:
    assert sentences("One line\u2028another line\u2029third") == ["One line", "another line", "third"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n \t\n"])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_offsets_point_into_the_original_text() -> None:
    text = "  Leading blanks. Then more.\n\tTabbed line"
    assert split_sentences(text) == [(2, 17), (18, 28), (30, 41)]


def test_seed_quote_with_ellipses_is_one_sentence() -> None:
    found = sentences(SEED.read_text(encoding="utf-8"))
    putin = [s for s in found if s.startswith("“Putin is checking")]
    assert putin == [
        "“Putin is checking the reaction of the West … And I believe that after all these reactions, Putin "
        "will decide and increase the contingent … The reaction that is there today is nothing, it is zero,” "
        "Zelensky complained to South Korean broadcaster KBS in a televised interview."
    ]


def test_seed_boundaries() -> None:
    found = sentences(SEED.read_text(encoding="utf-8"))
    assert len(found) == 37
    assert found[0].endswith("preparing to fight on Russia’s behalf.")
    assert (
        "The Ukrainian president elaborated on his concerns in a thread on social media platform X "
        "on Thursday." in found
    )
    index = found.index("“For Russia, they help avoid politically damaging domestic mobilization,” he said.")
    assert found[index + 1].startswith("“For North Korea, their troops gain invaluable combat experience")
    assert "“I see a disturbing parallel here." in found
    assert found[-1].startswith("“Make no mistake") and found[-1].endswith("he warned.")


def test_wikinews_abbreviations_do_not_split() -> None:
    found = sentences((FIXTURES / "afghan.txt").read_text(encoding="utf-8"))
    assert "The team arrived in Washington D.C. after many difficulties." in found
    assert any("critics of U.S. President Donald Trump's policies" in s for s in found)
    assert "Friday, July 21, 2017" in found  # a dateline without a stop is its own sentence
    assert (
        "After visa snags, all-girl Afghan team honored for 'courageous achievement' at international "
        "robotics competition" in found
    )
    taxes = sentences((FIXTURES / "taxes.txt").read_text(encoding="utf-8"))
    assert any(s.startswith("Undersecretary for Education Mr. Toccafondi says") for s in taxes)
    warming = sentences((FIXTURES / "warming.txt").read_text(encoding="utf-8"))
    assert any(s.startswith("The U.S. Department of Agriculture notes") for s in warming)


def test_wikinews_stop_after_closing_quote_splits() -> None:
    found = sentences((FIXTURES / "hackers.txt").read_text(encoding="utf-8"))
    assert any(s.endswith('"The word scientology means search for truth ...".') for s in found)
    assert any(s.startswith("As of 15:11 GMT the site was accessible again") for s in found)


def test_wikinews_ellipsis_inside_quote_continues() -> None:
    found = sentences((FIXTURES / "defector.txt").read_text(encoding="utf-8"))
    quote = [s for s in found if s.startswith("Rathbun asserted that Scientology officials")]
    assert len(quote) == 1
    assert quote[0].endswith(
        "The next thing Daniel knows he's in a cell where he sat for the next 30 hours.\""
    )


@pytest.mark.parametrize("path", [SEED, *WIKINEWS], ids=lambda p: p.name)
def test_invariants_hold_on_every_fixture(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = sentences(text)
    assert len(found) > 5
    # Nothing but whitespace lies between sentences.
    spans = split_sentences(text)
    gaps = [text[a_end:b_start] for (_, a_end), (b_start, _) in itertools.pairwise(spans)]
    assert all(not gap.strip() for gap in gaps)


def test_a_summary_sentence_said_again_is_kept_once() -> None:
    from summarizer.article.sentences import unrepeated

    text = "The law may change. The Church resists.  The law may  change. The Church resists. It is new."
    assert unrepeated(text) == "The law may change. The Church resists. It is new."
    assert unrepeated("One sentence only.") == "One sentence only."
