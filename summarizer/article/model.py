"""The article as the model sees it: normalised text, metadata, and numbered sentences with offsets."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import unicodedata
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from summarizer.article.sentences import split_sentences
from summarizer.errors import InputError, SummarizerError

__all__ = [
    "Article", "ArticleIndexError", "Sentence", "article_id", "clean_line", "is_blank", "lone_surrogate",
    "normalize_text", "printable_path",
]  # fmt: skip

# Invisible characters that reorder the text around them: in a file name they can disguise its real name.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = re.compile(r"[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+")


class ArticleIndexError(SummarizerError, IndexError):
    """A sentence number or character span that lies outside the article."""


class Sentence(BaseModel):
    """One sentence, numbered as the model sees it and tied to exact characters of the article."""

    model_config = ConfigDict(frozen=True)

    n: int = Field(ge=1, description="1-based sentence number, as shown to the model in `[n]` markers.")
    start: int = Field(ge=0, description="Offset of the sentence's first character in `Article.text`.")
    end: int = Field(ge=0, description="Offset just past the sentence's last character in `Article.text`.")
    text: str = Field(description="The sentence itself; always equal to `Article.text[start:end]`.")


class Article(BaseModel):
    """A news article ready to summarise; every offset refers to its normalised `text`."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(
        description="SHA-256 hex digest of the normalised text: the same text always gets the same id, "
        "whatever its metadata."
    )
    text: str = Field(
        description="The normalised article body the model reads, without front matter or an inline "
        "date header."
    )
    title: str | None = Field(
        default=None, description="Headline, when the input carried one; one line without control characters."
    )
    date: datetime.date | None = Field(default=None, description="Publication date, when known.")
    source: str | None = Field(default=None, description="Where the article comes from: a URL or origin.")
    byline: str | None = Field(default=None, description="Author or authors, as the input names them.")
    path: str | None = Field(
        default=None, description="The file the article was read from, as printable text (bytes that are not "
        "UTF-8 shown as `\\xe9`, control characters escaped); for display only."
    )
    sentences: tuple[Sentence, ...] = Field(
        description="The sentences of `text` in order, numbered from 1, with their character offsets."
    )

    @field_validator("title", "source", "byline")
    @classmethod
    def _one_clean_line(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Metadata is shown on terminals and in reports: one line, no control characters, valid Unicode."""
        if value is None:
            return None
        if (at := lone_surrogate(value)) is not None:
            raise ValueError(_surrogate_problem(value, at, f"the {info.field_name}"))
        return clean_line(value) or None

    @field_validator("path")
    @classmethod
    def _printable_path(cls, value: str | None) -> str | None:
        return None if value is None else printable_path(value)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        """Refuse an article whose id or sentences disagree with its text (e.g. a tampered cache entry)."""
        if self.id != article_id(self.text):
            raise ValueError("id is not the SHA-256 of the text")
        for i, sentence in enumerate(self.sentences, start=1):
            if sentence.n != i:
                raise ValueError(f"sentence numbers must run 1, 2, 3…; found {sentence.n} at position {i}")
            if self.text[sentence.start : sentence.end] != sentence.text or not sentence.text:
                raise ValueError(f"sentence {i} does not match text[{sentence.start}:{sentence.end}]")
        return self

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        title: str | None = None,
        date: datetime.date | None = None,
        source: str | None = None,
        byline: str | None = None,
        path: str | None = None,
    ) -> Article:
        """Build an article from raw body text: normalise it, split it, and derive its id."""
        path = None if path is None else printable_path(path)
        for what, value in (("the text", text), ("the title", title), ("the source", source),
                            ("the byline", byline)):
            if value is not None and (at := lone_surrogate(value)) is not None:
                raise InputError(_surrogate_problem(value, at, what), path=path)
        body = normalize_text(text)
        if is_blank(body):
            raise InputError("article is empty", path=path)
        sentences = tuple(
            Sentence(n=n, start=start, end=end, text=body[start:end])
            for n, (start, end) in enumerate(split_sentences(body), start=1)
        )
        return cls(
            id=article_id(body),
            text=body,
            title=title,
            date=date,
            source=source,
            byline=byline,
            path=path,
            sentences=sentences,
        )

    def sentence(self, n: int) -> Sentence:
        """Look up a sentence by the number the model cites."""
        if not 1 <= n <= len(self.sentences):
            raise ArticleIndexError(
                f"sentence {n} does not exist; the article has sentences 1 to {len(self.sentences)}"
            )
        return self.sentences[n - 1]

    def numbered(self) -> str:
        """Render the text as `[n] sentence` lines so the model can cite sentences by number."""
        return "\n".join(f"[{s.n}] {s.text}" for s in self.sentences)

    def span_text(self, start: int, end: int) -> str:
        """Return text[start:end], refusing spans that would silently clip or wrap around."""
        if not 0 <= start <= end <= len(self.text):
            raise ArticleIndexError(f"span {start}:{end} is outside the article text (0:{len(self.text)})")
        return self.text[start:end]


def normalize_text(text: str) -> str:
    """Canonical form of a body so offsets and ids do not depend on line endings or trailing blanks."""
    text = unicodedata.normalize("NFC", text).removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def is_blank(text: str) -> bool:
    """Nothing to read: only whitespace and invisible format characters (zero-width space, BOM, joiners)."""
    return all(char.isspace() or unicodedata.category(char) == "Cf" for char in text)


def article_id(normalized_text: str) -> str:
    """The stable id of an already-normalised text: its SHA-256 hex digest."""
    return hashlib.sha256(normalized_text.encode("utf-8")).hexdigest()


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate (half of a UTF-16 pair, e.g. from a JSON "\\ud800"), or None.

    Such a string is not valid Unicode: it cannot be written as UTF-8, so a result holding it could never be
    stored or written.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


def _surrogate_problem(text: str, at: int, what: str) -> str:
    code = f"\\u{ord(text[at]):04x}"
    near = printable_path(text[max(0, at - 20) : at + 20].encode("utf-8", "backslashreplace").decode())
    return (f"{what} contains {code}, a lone surrogate (half of a UTF-16 pair without its other half), which is "
            f"not a character (near '{near}'); fix or remove the escape '{code}' in the file")


def clean_line(text: str) -> str:
    """Text for one line of a terminal or report: tabs and line breaks become spaces, other control
    characters (ESC, NUL, DEL, C1) are dropped, so a title can neither clear a screen nor split a log line."""
    if text.isprintable():
        return text.strip()
    text = _LINE_BREAKS.sub(" ", text)
    return "".join(char for char in text if unicodedata.category(char) != "Cc").strip()


def printable_path(path: str | os.PathLike[str]) -> str:
    """A file name as valid, printable text, for messages and `Article.path` (display only, never opened).

    Bytes that are not UTF-8 (kept by Python as surrogate escapes) are shown as `\\xe9`, control characters
    (newline, ESC, NUL…) and bidirectional overrides as their escapes (`\\n`, `\\x1b`, `\\u202e`).
    """
    text = os.fspath(path)
    if text.isprintable():
        return text
    shown: list[str] = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
            shown.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            shown.append(f"\\u{code:04x}")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            shown.append(char.encode("unicode_escape").decode("ascii"))
        else:
            shown.append(char)
    return "".join(shown)
