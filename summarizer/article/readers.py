"""Files to `Article`s: formats, encodings, size limits.

Formats go by suffix (SUPPORTED_SUFFIXES); a file named explicitly with any other suffix is read as text.
Which files a folder holds is `runs/inputs.py`'s business.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import datetime
import errno
import json
import re
import stat
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from summarizer.article.model import Article, clean_line, is_blank, lone_surrogate, printable_path
from summarizer.errors import InputError

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_SUFFIXES", "InputLineError", "iter_file", "read_article", "read_articles"]

DEFAULT_MAX_BYTES = 5_000_000
SUPPORTED_SUFFIXES: Mapping[str, str] = {
    ".txt": "text", ".md": "text", ".markdown": "text",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".html": "html", ".htm": "html", ".xhtml": "html",
}  # fmt: skip

# UTF-32 LE before UTF-16 LE: its byte-order mark starts with the same two bytes.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)  # fmt: skip
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_INLINE_DATE = re.compile(r"\A\s*date\s*[:=]?\s*(?P<date>\d{4}-\d{1,2}-\d{1,2})(?:[ \t]+|[ \t]*\n|\Z)", re.I)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(?P<block>(?:.*\n)*?)(?:---|\.\.\.)[ \t]*(?:\n|\Z)")
_SIMPLE_FIELD = re.compile(r"\A(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?P<value>(?:[ \t].*)?)\Z")
_ISO_DATE = re.compile(r"\A\s*(\d{4})-(\d{1,2})-(\d{1,2})(?P<time>[T ][0-9:.+\-Z ]*)?\s*\Z")
_ISO_TIME = re.compile(r"\A[T ]\s*(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*"
                       r"(?:Z|(?P<sign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)?\s*\Z")
# `---` and then a `key:` line, but no closing fence: front matter the writer forgot to close.
_OPEN_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(?:[ \t]*\n)*[A-Za-z_][\w-]*[ \t]*:")
# A valid UTF-8 encoding of a Latin letter with a diacritic or of typographic punctuation: in a file that is
# not UTF-8 as a whole, such a sequence means parts of the file were saved in different encodings.
_UTF8_LATIN = re.compile(rb"[\xc3-\xc5][\x80-\xbf]|\xc2[\xa0-\xbf]|\xe2\x80[\x93\x94\x98-\x9e\xa6]|\xe2\x82\xac")
# UTF-8 read as Windows-1252 or Latin-1 and saved again as UTF-8 ("CafÃ©", "itâ€™s"): such a text is garbled.
_DOUBLE_ENCODED = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]|\u00e2\u20ac[\u0080-\u00bf\u2122\u0153\u02dc\u00a6"
    "\u201c\u201d\u2018\u2019\u201a\u201e\u2013\u2014]"
)
# A Latin letter and a Cyrillic or Greek one in the same word.
_MIXED_SCRIPTS = re.compile(
    "[A-Za-z\u00c0-\u024f][^\\W\\d_]*[\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][^\\W\\d_]*[A-Za-z\u00c0-\u024f]"
)
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\u061f\u0964]")
_OS_ERRORS: Mapping[type[OSError], str] = {
    FileNotFoundError: "file not found", IsADirectoryError: "is a folder, not a file",
    PermissionError: "permission denied: the file cannot be read",
}  # fmt: skip
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true/false"}


class InputLineError(InputError):
    """One line of a `.jsonl` file cannot be read; `line` is its 1-based number."""

    def __init__(self, message: str, *, path: str | None, line: int) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}", path=path)


class _Invalid(Exception):
    """A problem found while parsing; the caller knows the path and line and wraps it in an InputError."""


class _LongNumber(Exception):
    """A number too long for `int()` (more digits than `sys.get_int_max_str_digits()`), with where it is."""

    def __init__(self, digits: str, line: int | None = None) -> None:
        super().__init__(digits)
        self.digits, self.line = digits, line

    def problem(self, where: str) -> str:
        count = len(self.digits.strip().lstrip("+-").replace("_", ""))
        return (f"a number with {count:,} digits {where} is longer than the {sys.get_int_max_str_digits():,} "
                "digits a number may have; put it in quotes to keep it as text, or remove it")


def read_article(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Read a file that holds exactly one article; raise InputError otherwise."""
    articles = read_articles(path, max_bytes=max_bytes)
    if len(articles) != 1:
        raise InputError(f"holds {len(articles)} articles, not one; use read_articles()", path=str(path))
    return articles[0]


def read_articles(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article]:
    """Read every article of a file, raising the first InputError (use iter_file() to go on past it)."""
    articles: list[Article] = []
    for result in iter_file(path, max_bytes=max_bytes):
        if isinstance(result, InputError):
            raise result
        articles.append(result)
    return articles


def iter_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Article | InputError]:
    """Yield each article of a file, or an InputError in its place, so a batch can record it and go on.

    Never raises: a file-level problem (missing, too big, binary, bad JSON, an impossible date, a number too
    long to read, a lone surrogate, mixed encodings) is yielded once; in a `.jsonl` file each broken line is
    yielded as an `InputLineError` between the good articles. Any other exception while reading is caught too
    and yielded as this file's (or line's) InputError, so a reader bug never ends a batch. Paths in articles
    and messages are printable text (`printable_path`), whatever bytes the file name holds.
    """
    display = printable_path(path)  # valid, printable text: the name may hold undecodable bytes or ESC
    try:
        file = Path(path)
        data = _read_bytes(file, max_bytes)
        kind = SUPPORTED_SUFFIXES.get(file.suffix.lower(), "text")
        text = _decode(data, html=kind == "html").removeprefix("\ufeff")
        if is_blank(text):
            raise _Invalid("file is empty" + (": only whitespace or invisible characters" if text else ""))
        if kind == "jsonl":
            yield from _iter_jsonl(text, display)
        elif kind == "json":
            yield _article_from_json(_load_json(text), display)
        elif kind == "html":
            yield _article_from_html(text, display)
        else:
            yield _article_from_text(text, display)
    except _Invalid as problem:
        yield InputError(printable_path(str(problem)), path=display)
    except InputError as error:
        yield error
    except Exception as error:  # the safety net: whatever else goes wrong stays this file's error
        yield InputError(_unexpected(error), path=display)


def _unexpected(error: BaseException) -> str:
    detail = printable_path(str(error))
    detail = f": {detail[:300]}{'…' if len(detail) > 300 else ''}" if detail else ""
    return (f"cannot be read: unexpected {type(error).__name__}{detail}; this is a bug in summarizer, please "
            "report it with the file (the rest of the batch goes on)")


_FILE_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device"}


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read at most max_bytes + 1 bytes so a huge file is refused without loading it."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a FIFO without a writer would block the run
            raise _Invalid(f"not a regular file ({_FILE_KINDS.get(stat.S_IFMT(mode), 'special file')}); "
                           "save the article to a file and pass that")
        with path.open("rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Invalid(f"cannot read file: {error.strerror} (a symlink loop: the link leads back to itself "
                           "through one or more links); point it at the article file, or remove it") from None
        raise _Invalid(_OS_ERRORS.get(type(error), f"cannot read file: {error.strerror or error}")) from None
    if len(data) > max_bytes:
        try:
            size = _format_size(path.stat().st_size, "{:.1f}")
        except OSError:
            size = "larger than the limit"
        raise _Invalid(f"file is {size}; the limit is {_format_size(max_bytes, '{:g}')} (--max-bytes)")
    return data


def _format_size(size: int, number: str) -> str:
    """Sizes in MB as the --max-bytes option is documented, small ones in bytes."""
    return f"{number.format(size / 1_000_000)} MB" if size >= 100_000 else f"{size} bytes"


def _decode(data: bytes, *, html: bool = False) -> str:
    """Decode by BOM, then strict UTF-8, then (HTML) the declared charset, then charset-normalizer's guess."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError as error:
                raise _Invalid(f"not valid {codec} despite its byte-order mark: {error.reason}") from None
    if b"\x00" in data:
        if (wide := _utf16_without_bom(data)) is not None:
            return wide
        raise _Invalid("binary file (it contains NUL bytes); expected text, Markdown, JSON, JSONL or HTML")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = error.start
    else:
        if garbled := _DOUBLE_ENCODED.search(text):
            try:
                meant = f"'{garbled.group().encode('cp1252').decode('utf-8')}'"
            except UnicodeError:
                meant = "one character"
            raise _Invalid(
                f"the text is garbled by a wrong conversion: '{garbled.group()}' at character {garbled.start():,} "
                f"is how {meant} looks when UTF-8 is read as Windows-1252 and saved again; convert the original "
                "file to UTF-8 once, or repair this one (e.g. with the ftfy tool)"
            )
        return text
    lied = ""
    if html and (declared := _META_CHARSET.search(data[:4096])):
        charset = declared.group(1).decode("ascii")
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            text = data.decode(charset)
            if (word := _mixed_script_word(text)) is None:
                return _not_mixed(data, text, bad)
            lied = f"the page declares charset {charset}, but read that way its words mix alphabets ('{word}')"
    # Not UTF-8: guess. The guess ignores a declaration found wrong above, and must not mix alphabets in a word.
    guesses = list(charset_normalizer.from_bytes(data, preemptive_behaviour=not lied))
    if not guesses:
        raise _Invalid("binary file (no text encoding fits it); expected text, Markdown, JSON, JSONL or HTML")
    for guess in guesses:
        text = str(guess)
        if (word := _mixed_script_word(text)) is None:
            return _not_mixed(data, text, bad)
        lied = lied or f"read as {guess.encoding}, the most likely encoding, its words mix alphabets ('{word}')"
    raise _Invalid(f"the text encoding cannot be worked out: {lied}; save the file as UTF-8"
                   + (" (or correct its <meta charset>)" if html else ""))


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 or UTF-32 text saved without a byte-order mark, recognised by where its zero bytes fall."""
    for codec, width, zeros in (("utf-32-le", 4, 3), ("utf-32-be", 4, 0), ("utf-16-le", 2, 1), ("utf-16-be", 2, 0)):
        units = len(data) // width
        if not units or len(data) % width:
            continue
        # ASCII characters (spaces, digits, punctuation at least) leave a zero in the high byte of their unit
        high, low = data[zeros::width], data[width - 1 - zeros :: width]
        if high.count(0) < 0.05 * units or low.count(0) > 0.02 * units:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        ascii_share = sum(char < "\x80" for char in text) / len(text)
        if ascii_share >= 0.05 and all(char in "\t\n\r" or unicodedata.category(char) != "Cc" for char in text):
            return text
    return None


def _not_mixed(data: bytes, text: str, bad: int) -> str:
    """The text of a file that is not UTF-8 as a whole, unless parts of it are UTF-8 after all (mixed)."""
    utf8 = _UTF8_LATIN.search(data)
    if utf8 is None:
        return text
    letters = [char for char in text if ord(char) > 127 and char.isalpha()]
    if sum(unicodedata.name(char, "").startswith("LATIN") for char in letters) < 0.8 * len(letters):
        return text  # e.g. Cyrillic Windows-1251, where such byte pairs are ordinary letters
    raise _Invalid(
        f"the file mixes text encodings: '{utf8.group().decode()}' at byte {utf8.start():,} is UTF-8, but byte "
        f"0x{data[bad]:02X} at byte {bad:,} is not (it is from a single-byte encoding such as Latin-1); "
        "save the whole file in one encoding, UTF-8"
    )


def _mixed_script_word(text: str) -> str | None:
    """A word mixing Latin with Cyrillic or Greek letters ('Cafй'): the sign of text decoded with the wrong
    single-byte table. None when there is none."""
    match = _MIXED_SCRIPTS.search(text)
    if match is None:
        return None
    start, end = match.span()
    while start and text[start - 1].isalpha():
        start -= 1
    while end < len(text) and text[end].isalpha():
        end += 1
    return text[start:end]


def _article_from_text(text: str, display: str) -> Article:
    """Plain text or Markdown: YAML front matter, else an optional inline `date YYYY-MM-DD` header."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    front = _split_front_matter(text)
    if front is not None:
        fields, body = front
        if is_blank(body):
            raise _Invalid("article is empty: the file has front matter but no article text after it")
        return Article.from_text(body, path=display, **_metadata(fields, "front matter", strict=True))
    if _OPEN_FRONT_MATTER.match(text):
        raise _Invalid("front matter is not closed: the file starts with '---' and 'key:' lines, but no line "
                       "'---' ends them, so the article text cannot be told apart; add a line '---' after the "
                       "last field")
    match = _INLINE_DATE.match(text)
    if match is None:
        return Article.from_text(text, path=display)
    date = _parse_date(match["date"], "inline date header", strict=True)
    return Article.from_text(text[match.end() :], date=date, path=display)


def _split_front_matter(text: str) -> tuple[dict[str, Any], str] | None:
    """Split `---`-fenced YAML from the body; None when the text has no (closed) front matter."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None
    try:
        fields = yaml.load(match["block"], Loader=_FrontMatterLoader)  # safe: SafeLoader with two changes
    except _LongNumber as number:
        first = text[: match.start("block")].count("\n") + 1
        raise _Invalid(number.problem(f"in front matter line {first + (number.line or 0)}")) from None
    except yaml.YAMLError as error:
        fields = _simple_front_matter(match["block"])
        if fields is None:
            mark = getattr(error, "problem_mark", None)
            line = text[: match.start("block")].count("\n") + 1 + mark.line if mark else None
            where = f" (line {line})" if line else ""
            problem = getattr(error, "problem", error)
            raise _Invalid(f"front matter is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise _Invalid("front matter is nested too deeply to read") from None
    if not isinstance(fields, dict | None):
        raise _Invalid("front matter must be YAML keys such as 'title:' and 'date:'")
    return fields or {}, text[match.end() :]


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, except that timestamps stay text (a date is checked by `_parse_date`, which can say
    what is wrong with `2024-02-30`) and a number too long for `int()` is reported with its line."""


def _yaml_int(loader: _FrontMatterLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        raise _LongNumber(str(node.value), node.start_mark.line) from None


def _yaml_timestamp(loader: _FrontMatterLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_yaml_str(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _yaml_timestamp)
_FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _yaml_int)


def _simple_front_matter(block: str) -> dict[str, Any] | None:
    """Read `key: value` lines literally, as Wikinews exports do (`title: Reports: 'x' ...` is not YAML)."""
    lines = [line for line in block.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    matches = [_SIMPLE_FIELD.match(line) for line in lines]
    if not all(matches):
        return None
    return {m["key"]: re.sub(r"\A(['\"])(.*)\1\Z", r"\2", m["value"].strip()) for m in matches if m}


def _load_json(text: str, what: str = "JSON") -> Any:
    """Parse JSON, turning syntax errors and absurd nesting into messages with positions."""
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}" if what == "JSON" else f"column {error.colno}"
        # json's messages may end in "at" ("Unterminated string starting at"): say it once
        raise _Invalid(f"invalid {what}: {error.msg.removesuffix(' at')} at {where}") from None
    except _LongNumber as number:
        at = max(text.find(number.digits), 0)
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        where = f"at line {line} column {column}" if what == "JSON" else f"at column {column}"
        raise _Invalid(number.problem(where)) from None
    except RecursionError:
        raise _Invalid(f"{what} is nested too deeply to read") from None


def _json_int(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:
        raise _LongNumber(digits) from None


def _article_from_json(data: Any, display: str) -> Article:
    """A JSON object with a required "text" and optional title, date, url/source, byline/author."""
    if not isinstance(data, dict):
        kind = _JSON_TYPES.get(type(data), "null")
        hint = "; put one article per line in a .jsonl file" if isinstance(data, list) else ""
        raise _Invalid(f'expected a JSON object with a "text" field, found {kind}{hint}')
    if not isinstance(data.get("text"), str):
        raise _Invalid(
            'the "text" field must be a string' if "text" in data else 'JSON object has no "text" field'
        )
    if is_blank(data["text"]):
        raise _Invalid('the "text" field is empty')
    _check_unicode(data["text"], 'the "text" field')
    return Article.from_text(data["text"], path=display, **_metadata(data, "JSON", strict=True))


def _iter_jsonl(text: str, display: str) -> Iterator[Article | InputError]:
    """One article per non-blank line; a bad line becomes an InputLineError and reading goes on."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        found: Article | InputError
        try:
            found = _article_from_json(_load_json(line, "JSON line"), f"{display}:{number}")
        except _Invalid as problem:
            found = InputLineError(printable_path(str(problem)), path=display, line=number)
        except InputError as error:
            message = str(error).removeprefix(f"{error.path}: ")
            found = InputLineError(message, path=display, line=number)
        except Exception as error:  # the safety net, line by line: the good lines around it are still read
            found = InputLineError(_unexpected(error), path=display, line=number)
        yield found


def _article_from_html(html: str, display: str) -> Article:
    """Main text and metadata of a saved web page, without scripts, navigation or comments."""
    try:
        import trafilatura
    except ImportError as error:
        raise _Invalid(
            f"reading HTML needs trafilatura, a core dependency of summarizer, which cannot be imported ({error}); "
            "install it again with: pip install trafilatura"
        ) from None
    try:
        # Main text only: no comments, and in doubt leave a block out (navigation, teasers, share bars).
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, favor_precision=True
        )
    except Exception as error:  # lxml and trafilatura raise many kinds on broken pages: all mean unreadable
        raise _Invalid(f"cannot parse HTML: {error}") from None
    lines = (getattr(doc, "text", None) or "").split("\n")
    body = "\n\n".join(line.strip() for line in lines if line.strip())
    if not body:
        raise _Invalid("no article text found in HTML")
    if len(body.split()) < 12 and not _SENTENCE_END.search(body):
        shown = clean_line(body)
        shown = shown if len(shown) <= 60 else shown[:60] + "…"
        raise _Invalid(f"no article text found in HTML: its only text is '{shown}', which reads like navigation "
                       "or a heading, not an article (no sentence); save the page of the article itself")
    fields = {name: getattr(doc, name, None) for name in ("title", "date", "url", "author")}
    return Article.from_text(body, path=display, **_metadata(fields, "HTML", strict=False))


def _metadata(fields: Mapping[Any, Any], where: str, *, strict: bool) -> dict[str, Any]:
    """Pick title, date, source and byline out of front matter, JSON or extracted HTML metadata."""
    lowered = {str(key).lower(): value for key, value in fields.items()}
    byline = lowered.get("byline") or lowered.get("author")
    if isinstance(byline, list) and all(isinstance(item, str) for item in byline):
        byline = "; ".join(byline)
    names: dict[str, str] = {}  # repeats dropped, whatever their case ("A; A" comes from trafilatura)
    for name in re.split(r"[;,]\s*", _text_field(byline, "byline", where) or ""):
        if name.strip():
            names.setdefault(name.strip().casefold(), name.strip())
    return {
        "title": _text_field(lowered.get("title"), "title", where),
        "date": _parse_date(lowered.get("date"), f"{where} date", strict=strict),
        "source": _text_field(lowered.get("source") or lowered.get("url"), "source", where),
        "byline": ", ".join(names.values()) or None,
    }


def _text_field(value: Any, key: str, where: str) -> str | None:
    """A metadata value as stripped text; numbers are accepted, structures are an error."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(f"{where} field '{key}' must be text")
    text = str(value)
    _check_unicode(text, f"{where} field '{key}'")
    return text.strip()


def _check_unicode(text: str, what: str) -> None:
    """Refuse a lone surrogate (a JSON or YAML `\\ud800` escape): no result holding it could be stored."""
    if (at := lone_surrogate(text)) is not None:
        code = f"\\u{ord(text[at]):04x}"
        near = printable_path(text[max(0, at - 20) : at + 20].encode("utf-8", "backslashreplace").decode())
        raise _Invalid(f"{what} contains the escape {code}, a lone surrogate (half of a UTF-16 pair without its "
                       f"other half), which is not a character (near '{near}'); fix or remove that escape")


def _parse_date(value: Any, what: str, *, strict: bool) -> datetime.date | None:
    """Accept dates, datetimes and ISO strings; a bad value is an error only where the user wrote it."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.date() if isinstance(value, datetime.datetime) else value
    match = _ISO_DATE.match(value) if isinstance(value, str) else None
    if match is None:
        if strict:
            raise _Invalid(f"{what} {printable_path(repr(value))} is not a date; write it as YYYY-MM-DD")
        return None
    year, month, day = (int(part) for part in match.groups()[:3])
    problem = _date_problem(year, month, day) or _time_problem(match["time"] or "")
    if problem is None:
        return datetime.date(year, month, day)
    if strict:
        raise _Invalid(f"{what} {value.strip()!r} is impossible: {problem}; write it as YYYY-MM-DD")
    return None


def _date_problem(year: int, month: int, day: int) -> str | None:
    """What makes year-month-day no calendar date, in words; None when it is one."""
    if year == 0:
        return "there is no year 0 (years start at 1)"
    if not 1 <= month <= 12:
        swapped = f" (if it is day-first, write {year:04}-{day:02}-{month:02})" if 1 <= day <= 12 else ""
        return f"there is no month {month}{swapped}"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} {year} has {days} days, not {day}"
    return None


def _time_problem(time: str) -> str | None:
    """What is wrong with the time and UTC offset after a date, if they are written out and impossible."""
    match = _ISO_TIME.match(time)
    if match is None:
        return None  # only separators or digits the date reading has always ignored
    if int(match["h"]) > 23 or int(match["m"]) > 59 or int(match["s"] or 0) > 60:
        return f"{time.strip(' T')} is not a time of day"
    if match["sign"] and (int(match["oh"]) > 23 or int(match["om"] or 0) > 59):
        offset = f"{match['sign']}{match['oh']}:{match['om'] or '00'}"
        return f"{offset} is not a UTC offset (offsets run from -12:00 to +14:00)"
    return None
