"""`OUT/review.html`: one self-contained page to check a run item by item and turn the verdicts into gold.

The page is a single file (inline CSS and JS, no network: its Content-Security-Policy allows only its own
script, by hash) that works from `file://`. The run's data is embedded as JSON in `<script type="application/json">`
blocks, with every `<`, `>` and `&` written as a `\\u` escape, so an article that contains `</script>` stays data;
the page builds its DOM with `textContent` only. Each article is its own block, parsed only when the article is
opened, and the article list is paged, so a run of thousands of articles opens quickly.

Offsets in the results count code points; the page splits the text with `Array.from` (code points), so text
outside the BMP (emoji) is highlighted at the right place. The sentences of every article (not only the cited
ones) are taken from the article's own splitter (`Article.from_text` on `article.text`), so a reviewer can add a
missed item by selecting sentences with the numbers `summarizer eval` uses.

The export (a JSON array of gold annotations in the `fixtures/gold/` format, each with the article `text` so that
`summarizer eval` needs no articles folder) is described in `summarizer.eval.gold`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from summarizer.article.model import normalize_text
from summarizer.article.sentences import split_sentences
from summarizer.errors import ConfigurationError, SummarizerError
from summarizer.runs.actor_index import INDEX_JSON, ActorRow, build_actor_index, load_actor_index
from summarizer.runs.output import OutputFolder
from summarizer.runs.review_page import CSS, JS
from summarizer.schema import ArticleSummary

__all__ = ["REVIEW_HTML", "article_data", "render_review", "results_in_folder", "script_json", "write_review"]

REVIEW_HTML = "review.html"
_KINDS = ("claims", "predictions", "warnings")
_FAILURE_FIELDS = ("stage", "reason", "message", "path", "article_id", "title", "attempts")


def script_json(data: Any) -> str:
    """JSON that is safe inside a `<script type="application/json">` element: no `<`, `>` or `&` appear raw
    (they only occur inside JSON strings, where `\\u003c` means the same), so neither `</script>` nor `<!--`
    can end or change the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sentences(summary: ArticleSummary) -> list[list[int]]:
    """Every sentence of the article as [start, end] code-point offsets, from the splitter the run used; the
    cited sentences alone when the text cannot be split the same way (e.g. a result from another version)."""
    meta, cited = summary.article, dict[int, tuple[int, int]]()
    for kind in _KINDS:
        for item in getattr(summary, kind):
            for s in item.evidence.sentences:
                cited[s.sentence] = (s.start, s.end)
    if meta.text and normalize_text(meta.text) == meta.text:
        with contextlib.suppress(SummarizerError, ValueError):
            spans = split_sentences(meta.text)  # the splitter alone: no Article, half the time
            if all(1 <= n <= len(spans) and spans[n - 1] == span for n, span in cited.items()):
                return [[start, end] for start, end in spans]
    return [[*cited[n]] for n in sorted(cited)]


def _review_key(summary: ArticleSummary) -> str:
    """Where the page keeps this result's verdicts: the article, the model and the prompt that made it."""
    p = summary.provenance
    return hashlib.sha256("\x1f".join((summary.article.id, p.model, p.prompt_hash)).encode()).hexdigest()[:24]


def _file_name(name: str, summary: ArticleSummary) -> str:
    """The gold `article` field: the input file's name (as in fixtures/gold/), else the output name."""
    path = summary.article.path
    if path and ":" not in Path(path).name:  # not a `.jsonl` line (feed.jsonl:3)
        return Path(path).name
    return name


def article_data(index: int, name: str, summary: ArticleSummary) -> dict[str, Any]:
    """What the page needs of one article: its text, every sentence's offsets, and the result's items (the
    evidence sentences as numbers and offsets only: their text is in the article)."""
    meta = summary.article
    data: dict[str, Any] = {
        "i": index, "name": name, "file": _file_name(name, summary), "rk": _review_key(summary),
        "id": meta.id, "title": meta.title, "date": meta.date.isoformat() if meta.date else None,
        "source": meta.source, "path": meta.path, "text": meta.text or "", "has_text": meta.text is not None,
        "sentences": _sentences(summary), "summary": summary.summary, "model": summary.provenance.model,
        "actors": [a.model_dump(mode="json") for a in summary.actors],
    }
    for kind in _KINDS:
        items = []
        for item in getattr(summary, kind):
            dumped = item.model_dump(mode="json")
            for sentence in dumped["evidence"]["sentences"]:
                del sentence["text"]
            items.append(dumped)
        data[kind] = items
    return data


def _list_entry(data: dict[str, Any]) -> dict[str, Any]:
    return {"i": data["i"], "name": data["name"], "id": data["id"], "rk": data["rk"], "title": data["title"],
            "date": data["date"], "n": [len(data[k]) for k in ("actors", *_KINDS)]}


def _actor_rows(rows: Iterable[ActorRow]) -> list[dict[str, Any]]:
    return [{"name": r.name, "kinds": r.kinds, "aliases": r.aliases, "maybe": r.possibly_same_as,
             "n": [r.claims, r.predictions, r.warnings], "ids": [a.id for a in r.articles]} for r in rows]


def render_review(results: Iterable[tuple[str, ArticleSummary]], stream: IO[str], *, title: str,
                  failures: Iterable[dict[str, Any]] = (), actors: Iterable[ActorRow] | None = None) -> int:
    """Write the page to `stream`, one article at a time; returns how many articles it holds.

    `actors` is the run-wide actor index (`actors_index.json`); None builds it from `results` as they pass.
    """
    script_hash = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode("ascii")
    stream.write(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        f"script-src 'sha256-{script_hash}'; style-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        "<noscript>This review page needs JavaScript.</noscript>\n"
    )
    entries: list[dict[str, Any]] = []
    summaries: list[ArticleSummary] = []
    for index, (name, summary) in enumerate(results):
        data = article_data(index, name, summary)
        stream.write(f'<script type="application/json" id="a{index}">{script_json(data)}</script>\n')
        entries.append(_list_entry(data))
        if actors is None:
            summaries.append(summary)
    rows = build_actor_index(summaries) if actors is None else actors
    failed = [{k: f.get(k) for k in _FAILURE_FIELDS} for f in failures]
    run = {"title": title, "articles": entries, "failures": failed, "actors": _actor_rows(rows)}
    stream.write(f'<script type="application/json" id="run-data">{script_json(run)}</script>\n')
    stream.write(f"<script>{JS}</script>\n</body>\n</html>\n")
    return len(entries)


def _failures(out: Path) -> list[dict[str, Any]]:
    """The records of OUT/failures.jsonl (unreadable lines are passed over)."""
    found: list[dict[str, Any]] = []
    path = out / "failures.jsonl"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                if isinstance(record := json.loads(line), dict):
                    found.append(record)
    return found


def write_review(folder: OutputFolder, results: Iterable[tuple[str, str | ArticleSummary]]) -> Path:
    """Write OUT/review.html atomically from the run's results (name, result JSON or summary), OUT's
    failures.jsonl and actors_index.json (built from the results when OUT has none)."""
    out = folder.out
    actors = None
    if (out / INDEX_JSON).is_file():
        with contextlib.suppress(ConfigurationError):
            actors = load_actor_index(out)

    def parsed() -> Iterator[tuple[str, ArticleSummary]]:
        for name, result in results:
            yield name, result if isinstance(result, ArticleSummary) else ArticleSummary.model_validate_json(result)

    with folder.replacing(REVIEW_HTML) as stream:
        render_review(parsed(), stream, title=f"Review · {out.resolve().name}", failures=_failures(out),
                      actors=actors)
    return out / REVIEW_HTML


def results_in_folder(out: Path) -> list[tuple[str, ArticleSummary]]:
    """Every article result in OUT (not the store, not the aggregates), named like `summarizer run` names them
    (the path below OUT without `.json`), in name order."""
    found = []
    for path in sorted(out.rglob("*.json")):
        relative = path.relative_to(out)
        if any(part.startswith(".") for part in relative.parts):
            continue
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if not (isinstance(data, dict) and "article" in data and "provenance" in data):
            continue
        try:
            summary = ArticleSummary.model_validate(data)
        except ValidationError:
            continue
        found.append((relative.with_suffix("").as_posix(), summary))
    return found
