"""Files to `Article`s: formats, encodings, size limits.

Formats go by suffix (SUPPORTED_SUFFIXES); a file named explicitly with any other suffix is read as text.
Which files a folder holds is `runs/inputs.py`'s business.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime
import json
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from summarizer.article.model import Article, is_blank
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
_ISO_DATE = re.compile(r"\A\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+\-Z ]*)?\s*\Z")
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

    Never raises InputError: a file-level problem (missing, too big, binary, bad JSON) is yielded once; in a
    `.jsonl` file each broken line is yielded as an `InputLineError` between the good articles.
    """
    display = str(path)
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
        yield InputError(str(problem), path=display)
    except InputError as error:
        yield error


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
        raise _Invalid("binary file (it contains NUL bytes); expected text, Markdown, JSON, JSONL or HTML")
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("utf-8")
    if html and (declared := _META_CHARSET.search(data[:4096])):
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return data.decode(declared.group(1).decode("ascii"))
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _Invalid("binary file (no text encoding fits it); expected text, Markdown, JSON, JSONL or HTML")
    return str(best)


def _article_from_text(text: str, display: str) -> Article:
    """Plain text or Markdown: YAML front matter, else an optional inline `date YYYY-MM-DD` header."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    front = _split_front_matter(text)
    if front is not None:
        fields, body = front
        return Article.from_text(body, path=display, **_metadata(fields, "front matter", strict=True))
    match = _INLINE_DATE.match(text)
    if match is None:
        return Article.from_text(text, path=display)
    date = _parse_date(match["date"], f"inline header 'date {match['date']}'", strict=True)
    return Article.from_text(text[match.end() :], date=date, path=display)


def _split_front_matter(text: str) -> tuple[dict[str, Any], str] | None:
    """Split `---`-fenced YAML from the body; None when the text has no (closed) front matter."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None
    try:
        fields = yaml.safe_load(match["block"])
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
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}" if what == "JSON" else f"column {error.colno}"
        # json's messages may end in "at" ("Unterminated string starting at"): say it once
        raise _Invalid(f"invalid {what}: {error.msg.removesuffix(' at')} at {where}") from None
    except RecursionError:
        raise _Invalid(f"{what} is nested too deeply to read") from None


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
    return Article.from_text(data["text"], path=display, **_metadata(data, "JSON", strict=True))


def _iter_jsonl(text: str, display: str) -> Iterator[Article | InputError]:
    """One article per non-blank line; a bad line becomes an InputLineError and reading goes on."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield _article_from_json(_load_json(line, "JSON line"), f"{display}:{number}")
        except _Invalid as problem:
            yield InputLineError(str(problem), path=display, line=number)


def _article_from_html(html: str, display: str) -> Article:
    """Main text and metadata of a saved web page, without scripts, navigation or comments."""
    try:
        import trafilatura
    except ImportError as error:
        raise _Invalid(
            f"reading HTML needs trafilatura, which cannot be imported ({error}); "
            'install it with: pip install "summarizer[html]"'
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
    return str(value).strip()


def _parse_date(value: Any, what: str, *, strict: bool) -> datetime.date | None:
    """Accept dates, datetimes and ISO strings; a bad value is an error only where the user wrote it."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.date() if isinstance(value, datetime.datetime) else value
    match = _ISO_DATE.match(value) if isinstance(value, str) else None
    if match is not None:
        with contextlib.suppress(ValueError):
            return datetime.date(*(int(part) for part in match.groups()))
    if strict:
        raise _Invalid(f"{what} {value!r} is not a date; write it as YYYY-MM-DD")
    return None
