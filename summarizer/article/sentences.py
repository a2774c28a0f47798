"""Sentence splitting with character offsets, tuned for news text.

syntok does the hard part (abbreviations, initials, decimals, quotes, brackets). Its output is then
corrected for what news copy does that syntok does not expect: every line break ends a sentence (headlines
and datelines carry no final stop), a title abbreviation ("Rep.", "Gov.", "Lt.") precedes a name rather than
ending a sentence, an ellipsis inside an open quotation continues the quote, and a full stop placed after a
closing quote (``...". Next``) does end the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from syntok.segmenter import segment  # type: ignore[import-untyped]
from syntok.tokenizer import Tokenizer  # type: ignore[import-untyped]

__all__ = ["complete_sentences", "split_sentences", "unrepeated"]

# A line ends at any line-break character str.splitlines() knows; lines are split independently.
_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")

# Titles that stand before a name: "Rep. Jane Roe" never ends a sentence at "Rep.".
_TITLES = frozenset({
    "Adm", "Amb", "Atty", "Brig", "Capt", "Cmdr", "Col", "Cpl", "Det", "Dr", "Fr", "Gen", "Gov", "Hon",
    "Insp", "Lt", "Maj", "Messrs", "Mmes", "Mr", "Mrs", "Ms", "Msgr", "Pres", "Prof", "Pvt", "Rep", "Reps",
    "Rev", "Sen", "Sens", "Sgt", "Supt",
})  # fmt: skip
_ENDS_WITH_TITLE = re.compile(r"(?:^|[\s(\[“‘\"'])(?P<word>[A-Z][a-z]{0,6})\.$")
_ELLIPSIS_END = re.compile(r"(?:\.\s?\.\s?\.|…)$")
# A stop after a closing quote, then the next sentence: `... truth ...". As of` / `“the end”. Then`.
_STOP_AFTER_QUOTE = re.compile(r"(?<=[”\"’']\.)\s+(?=[“\"‘'(\[]?[A-Z0-9])")

# A sentence ends with a stop, "!" or "?", then any closing quotes or brackets; an ellipsis trails off instead.
_SENTENCE_END = re.compile(r"(?<![.…])[.!?][\"'”’»)\]]*$")
# A stop after a single capital at the very end of a cut text may be an initial ("John F.", "the U.S.").
_ENDS_WITH_INITIAL = re.compile(r"(?:^|[\s.(\[“‘\"'])[A-Z]\.$")

_OPENING_QUOTES = "“«„"
_CLOSING_QUOTES = "”»"


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of each sentence so evidence can point at exact characters."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        spans.extend(_split_line(text, line.start(), line.end()))
    return spans


def _split_line(text: str, line_start: int, line_end: int) -> Iterator[tuple[int, int]]:
    """Split one line: syntok's starts, corrected, tile the line; whitespace is trimmed off each piece."""
    line = text[line_start:line_end]
    first = len(line) - len(line.lstrip())
    if first == len(line):
        return
    starts = [first, *(s for s in _syntok_starts(line) if s > first)]
    starts = _merge_false_breaks(line, starts)
    starts = _add_quote_stop_breaks(line, starts)
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else len(line)
        piece = line[start:stop].rstrip()
        if piece:
            yield line_start + start, line_start + start + len(piece)


def complete_sentences(text: str) -> str:
    """The text up to and including its last complete sentence, or "" when it has none.

    For a text cut off at a length cap: it keeps every whole sentence and drops the unfinished rest, so what is
    left never ends mid-sentence or mid-word. Sentences are found by `split_sentences` (so "Mr. Roe" or
    "U.S. troops" do not end one), and a sentence counts as complete when it ends with ".", "!" or "?", possibly
    followed by closing quotes or brackets, and is followed by whitespace or the end of the text. At the very end
    of the text a stop after a title or a single capital ("Gov.", "John F.") is taken as unfinished, because the
    cut may have come before the name that follows. A trailing ellipsis is not a sentence end.
    """
    end_of_text = len(text.rstrip())
    for start, end in reversed(split_sentences(text)):
        piece = text[start:end]
        if not _SENTENCE_END.search(piece) or (end < len(text) and not text[end].isspace()):
            continue
        if end == end_of_text and (_ends_with_title(piece) or _ENDS_WITH_INITIAL.search(piece)):
            continue
        return text[:end]
    return ""


def _syntok_starts(line: str) -> list[int]:
    """Offsets where syntok begins a sentence; token values are not trusted, only their offsets."""
    tokens = Tokenizer(replace_not_contraction=False).tokenize(line)
    return [sentence[0].offset for sentence in segment(tokens) if sentence]


def _merge_false_breaks(line: str, starts: list[int]) -> list[int]:
    """Drop breaks after a title abbreviation or after an ellipsis inside an open quotation.

    Quote depth is counted as the scan moves on, and only the tail of the preceding piece is examined,
    so a huge line with many candidate breaks stays linear.
    """
    kept = [starts[0]]
    curly = straight = scanned = 0
    for start in starts[1:]:
        chunk = line[scanned:start]
        curly += sum(map(chunk.count, _OPENING_QUOTES)) - sum(map(chunk.count, _CLOSING_QUOTES))
        straight += chunk.count('"')
        scanned = start
        end = start
        while end > kept[-1] and line[end - 1].isspace():
            end -= 1
        tail = line[max(kept[-1], end - 12) : end]  # a title is at most 8 characters, an ellipsis 5
        in_quote = curly > 0 or straight % 2 == 1
        if _ends_with_title(tail) or (in_quote and _ELLIPSIS_END.search(tail)):
            continue
        kept.append(start)
    return kept


def _ends_with_title(piece: str) -> bool:
    """True when the piece ends with a title such as "Gov." that must be followed by a name."""
    match = _ENDS_WITH_TITLE.search(piece)
    return match is not None and match.group("word") in _TITLES


def _add_quote_stop_breaks(line: str, starts: list[int]) -> list[int]:
    """Add the breaks syntok misses where a full stop follows a closing quotation mark."""
    extra = {m.end() for m in _STOP_AFTER_QUOTE.finditer(line)}
    return sorted(set(starts) | extra)


def unrepeated(text: str) -> str:
    """`text` with each sentence kept once (the first time), compared without case and spacing."""
    seen: set[str] = set()
    kept = []
    for start, end in split_sentences(text):
        key = " ".join(text[start:end].lower().split())
        if key not in seen:
            seen.add(key)
            kept.append(text[start:end])
    return " ".join(kept) if kept else text
