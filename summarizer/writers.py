"""The files of an output folder: per-article JSON and Markdown, summaries.jsonl, CSV tables, index, failures.

Every file is written whole to `OUT/.summarizer/tmp/` and moved into place with `os.replace`, so a reader
(or a run killed at any moment) sees the old file or the new one, never a partial one. Aggregate files are
rewritten from the store rather than appended to, so a crash can never leave a duplicate line. File names
come only from article ids (sha256 hex), never from titles or paths.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from summarizer.actor_index import INDEX_CSV, INDEX_JSON, ActorIndex, to_json, write_csv
from summarizer.errors import ConfigurationError
from summarizer.schema import ArticleSummary, Claim, Prediction, Warning
from summarizer.store import STORE_DIR

__all__ = ["OutputFolder", "markdown_index", "markdown_report", "replacing_file"]


@contextlib.contextmanager
def replacing_file(path: Path, tmp_dir: Path | None = None) -> Iterator[IO[str]]:
    """A text stream whose content becomes `path` only when the block finishes without error.

    The temporary file is made in `tmp_dir` (default: beside `path`; either way on the same filesystem, so the
    final `os.replace` is atomic) and removed if the block fails.
    """
    tmp = (tmp_dir or path.parent) / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666 lets the umask decide permissions, as for any file the user creates.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_ID = re.compile(r"\A[0-9a-f]{64}\Z")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_BASE = ["article_id", "article_title", "article_date"]
_ITEM = [*_BASE, "item_id", "actor_id", "actor", "statement", "sentences", "evidence", "quote"]
COLUMNS: Mapping[str, list[str]] = {
    "actors": [*_BASE, "actor_id", "name", "kind", "role", "aliases"],
    "claims": _ITEM,
    "predictions": [*_ITEM, "timeframe_text", "timeframe_start", "timeframe_end", "condition", "certainty"],
    "warnings": [*_ITEM, "addressees", "consequence", "condition"],
}


class OutputFolder:
    """One run's hold on OUT: a lock against a second concurrent run, and atomic writes into it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.meta = out / STORE_DIR
        self.tmp = self.meta / "tmp"
        self._lock: IO[str] | None = None

    def open(self) -> OutputFolder:
        """Create OUT, take its lock, and clear temp files a killed run left behind."""
        if self.out.exists() and not self.out.is_dir():
            raise ConfigurationError(f"-o {self.out} is a file; give a folder for the outputs")
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._lock = (self.meta / "lock").open("a")
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock, runs must not overlap
            pass
        else:
            try:
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.close()
                raise ConfigurationError(
                    f"another summarizer run is writing to {self.out}; wait for it or choose another -o"
                ) from None
        for stale in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                stale.unlink()
        return self

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

    def __enter__(self) -> OutputFolder:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- atomic writes -----------------------------------------------------------------------------

    def replacing(self, name: str) -> contextlib.AbstractContextManager[IO[str]]:
        """A text stream whose content becomes `OUT/name` only when the block finishes without error."""
        return replacing_file(self.out / name, self.tmp)

    def write_text(self, name: str, text: str) -> None:
        with self.replacing(name) as stream:
            stream.write(text)

    # -- per article -------------------------------------------------------------------------------

    def article_files(self, article_id: str) -> tuple[Path, Path]:
        """`OUT/<id>.json` and `OUT/<id>.md`; refuses anything that is not an article id."""
        if not _ID.match(article_id):
            raise ValueError(f"not an article id: {article_id!r}")
        return self.out / f"{article_id}.json", self.out / f"{article_id}.md"

    def has_article(self, article_id: str) -> bool:
        return all(path.is_file() for path in self.article_files(article_id))

    def write_article(self, summary: ArticleSummary) -> None:
        """The article's JSON result and its Markdown report."""
        json_path, md_path = self.article_files(summary.article.id)
        self.write_text(json_path.name, summary.model_dump_json(indent=2) + "\n")
        self.write_text(md_path.name, markdown_report(summary))

    # -- aggregates --------------------------------------------------------------------------------

    def write_jsonl(self, lines: Iterable[str]) -> None:
        """summaries.jsonl: one compact JSON result per line."""
        with self.replacing("summaries.jsonl") as stream:
            for line in lines:
                stream.write(line.replace("\n", " ") + "\n")

    def write_failures(self, failures: Iterable[Mapping[str, Any]]) -> None:
        """failures.jsonl: what failed in this run and why."""
        self.write_text("failures.jsonl", "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in failures))

    def write_tables(self, summaries: Iterable[ArticleSummary]) -> None:
        """actors/claims/predictions/warnings.csv, index.md and the actors index, in one pass."""
        actors = ActorIndex()
        with contextlib.ExitStack() as stack:
            writers = {}
            for table, columns in COLUMNS.items():
                writer = csv.writer(stack.enter_context(self.replacing(f"{table}.csv")))
                writer.writerow(columns)
                writers[table] = writer
            index = stack.enter_context(self.replacing("index.md"))
            rows = []
            for summary in summaries:
                for table, table_rows in csv_rows(summary).items():
                    writers[table].writerows([safe_cell(c) for c in row] for row in table_rows)
                rows.append(_index_row(summary))
                actors.add(summary)
            index.write(markdown_index(rows))
        self.write_actor_index(actors)

    def write_actor_index(self, actors: ActorIndex) -> None:
        """actors_index.csv and actors_index.json: one row per actor across the run."""
        rows = actors.rows()
        with self.replacing(INDEX_CSV) as stream:
            write_csv(rows, stream)
        self.write_text(INDEX_JSON, to_json(rows))


# --------------------------------------------------------------------------- CSV


def safe_cell(value: object) -> object:
    """Article text is untrusted: a cell starting with = + - @ would run as a spreadsheet formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(summary: ArticleSummary) -> dict[str, list[list[str]]]:
    """One row per actor and per item, with the article's id, title and date and the evidence text."""
    meta = summary.article
    base = [meta.id, meta.title or "", meta.date.isoformat() if meta.date else ""]

    def item(it: Claim | Prediction | Warning) -> list[str]:
        ev = it.evidence
        return [*base, it.id, it.actor_id or "", it.actor, it.statement,
                ";".join(str(s.sentence) for s in ev.sentences), " ".join(s.text for s in ev.sentences),
                ev.quote.text if ev.quote else ""]

    return {
        "actors": [[*base, a.id, a.name, a.kind, a.role, "; ".join(a.aliases)] for a in summary.actors],
        "claims": [item(c) for c in summary.claims],
        "predictions": [[*item(p), p.timeframe_text or "",
                         p.timeframe.start.isoformat() if p.timeframe else "",
                         p.timeframe.end.isoformat() if p.timeframe else "", p.condition or "", p.certainty]
                        for p in summary.predictions],
        "warnings": [[*item(w), "; ".join(w.addressees), w.consequence or "", w.condition or ""]
                     for w in summary.warnings],
    }


# --------------------------------------------------------------------------- Markdown


def _md(text: str | None) -> str:
    """Text from articles and models, safe inside Markdown (no markup, no raw HTML, one line)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def _evidence(it: Claim | Prediction | Warning) -> list[str]:
    lines = [f"> \\[{s.sentence}\\] {_md(s.text)}  " for s in it.evidence.sentences]
    if it.evidence.quote:
        lines.append(f"> Quote: “{_md(it.evidence.quote.text)}”")
    if it.evidence.re_anchored_from:
        cited = ", ".join(f"[{n}]" for n in it.evidence.re_anchored_from)
        lines.append(f"> *The model cited {_md(cited)}; the statement copies the sentence shown, so it is cited "
                     "instead.*")
    return lines


def _details(pairs: Iterable[tuple[str, str | None]]) -> list[str]:
    shown = [f"{label}: {_md(value)}" for label, value in pairs if value]
    return [" · ".join(shown) + "  "] if shown else []


def markdown_report(summary: ArticleSummary) -> str:
    """A readable report of one result: summary, actors, then each item with its actor and evidence."""
    meta, prov = summary.article, summary.provenance
    header = [meta.date.isoformat() if meta.date else None, meta.source, meta.path, f"id {meta.id[:12]}"]
    out = [f"# {_md(meta.title) or 'Untitled article'}", "", " · ".join(_md(h) for h in header if h), "",
           "## Summary", "", _md(summary.summary), ""]
    out += [f"## Actors ({len(summary.actors)})", ""]
    if summary.actors:
        out += ["| Actor | Kind | Role | Also called |", "|---|---|---|---|"]
        out += [f"| {_md(a.name)} | {a.kind} | {_md(a.role)} | {_md(', '.join(a.aliases))} |"
                for a in summary.actors]
        out.append("")
    sections: list[tuple[str, list[Claim] | list[Prediction] | list[Warning]]] = [
        ("Claims", summary.claims), ("Predictions", summary.predictions), ("Warnings", summary.warnings)]
    for title, items in sections:
        out += [f"## {title} ({len(items)})", ""]
        for it in items:
            out.append(f"**{it.id} · {_md(it.actor)}**: {_md(it.statement)}  ")
            if isinstance(it, Prediction):
                when = it.timeframe_text
                if when and it.timeframe:
                    when = f"{when} ({it.timeframe.start} – {it.timeframe.end})"
                out += _details([("When", when), ("Certainty", it.certainty), ("If", it.condition)])
            elif isinstance(it, Warning):
                out += _details([("To", ", ".join(it.addressees)), ("Consequence", it.consequence),
                                 ("If", it.condition)])
            out += [*_evidence(it), ""]
    usage = prov.usage
    out += ["---", "", f"Model {_md(prov.model)} ({prov.backend}) · prompt {prov.prompt_hash[:12]} · "
            f"{usage.prompt_tokens} tokens in, {usage.completion_tokens} out · "
            f"{len(prov.attempts)} request(s)", ""]
    return "\n".join(out)


def _index_row(summary: ArticleSummary) -> list[str]:
    meta = summary.article
    return [f"[{_md(meta.title) or meta.id[:12]}]({meta.id}.md)", meta.date.isoformat() if meta.date else "",
            *(str(len(x)) for x in (summary.actors, summary.claims, summary.predictions, summary.warnings))]


def markdown_index(rows: list[list[str]]) -> str:
    """index.md: one line per article with links to its report."""
    out = [f"# Summaries ({len(rows)} articles)", "",
           "| Article | Date | Actors | Claims | Predictions | Warnings |", "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"
