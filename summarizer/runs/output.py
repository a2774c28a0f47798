"""The files of an output folder: per-article JSON and Markdown, summaries.jsonl, CSV tables, summaries.sqlite,
index, failures.

Every file is written whole to `OUT/.summarizer/tmp/` and moved into place with `os.replace`, so a reader
(or a run killed at any moment) sees the old file or the new one, never a partial one. Aggregate files are
rewritten from the store rather than appended to, so a crash can never leave a duplicate line. An article's
files are named after its input (`runs/names.py`: safe names, never outside OUT).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from summarizer.errors import ConfigurationError
from summarizer.runs.actor_index import INDEX_CSV, INDEX_JSON, ActorIndex, ActorRow, to_json, write_csv
from summarizer.runs.database import DATABASE, building_database
from summarizer.runs.render import COLUMNS, csv_rows, index_row, markdown_index, markdown_report, safe_cell
from summarizer.runs.store import STORE_DIR
from summarizer.schema import ArticleSummary

__all__ = ["OutputFolder", "replacing_file"]


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
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
            self._lock = (self.meta / "lock").open("a")
            probe = self.tmp / f".probe-{os.getpid()}"  # root may create folders where it cannot write files
            probe.touch()
            probe.unlink()
        except OSError as error:
            self.close()
            raise ConfigurationError(f"cannot write the outputs to {self.out}: {error.strerror or error}; "
                                     "choose another folder or make this one writable") from None
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

    def article_files(self, name: str) -> tuple[Path, Path]:
        """`OUT/<name>.json` and `OUT/<name>.md` (`runs/names.py`); refuses a name that would leave OUT."""
        parts = name.split("/")
        if not name or any(part in ("", ".", "..") or part.startswith(".") for part in parts) or "\\" in name:
            raise ValueError(f"not an output name: {name!r}")
        base = self.out.joinpath(*parts)
        return base.with_name(base.name + ".json"), base.with_name(base.name + ".md")

    def has_article(self, name: str) -> bool:
        return all(path.is_file() for path in self.article_files(name))

    def write_article(self, name: str, summary: ArticleSummary) -> None:
        """The article's Markdown report, then its JSON result: a JSON file in OUT means both are there."""
        json_path, md_path = self.article_files(name)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        self.write_text(md_path.relative_to(self.out).as_posix(), markdown_report(summary))
        self.write_text(json_path.relative_to(self.out).as_posix(), summary.model_dump_json(indent=2) + "\n")

    def remove_article(self, name: str) -> None:
        """Remove an article's files (JSON first: no JSON means no result), and folders left empty."""
        json_path, md_path = self.article_files(name)
        for path in (json_path, md_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        folder = json_path.parent
        while folder != self.out and folder.is_relative_to(self.out):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    # -- aggregates --------------------------------------------------------------------------------

    def write_jsonl(self, lines: Iterable[str]) -> None:
        """summaries.jsonl: one compact JSON result per line."""
        with self.replacing("summaries.jsonl") as stream:
            for line in lines:
                stream.write(line.replace("\n", " ") + "\n")

    def write_failures(self, failures: Iterable[Mapping[str, Any]]) -> None:
        """failures.jsonl: what failed in this run and why."""
        self.write_text("failures.jsonl", "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in failures))

    def write_tables(self, summaries: Iterable[tuple[str, ArticleSummary]]) -> None:
        """actors/claims/predictions/warnings.csv, index.md, summaries.sqlite (`runs/database.py`) and the actors
        index, in one pass."""
        actors = ActorIndex()
        with contextlib.ExitStack() as stack:
            database = stack.enter_context(building_database(self.out / DATABASE, self.tmp))
            writers = {}
            for table, columns in COLUMNS.items():
                writer = csv.writer(stack.enter_context(self.replacing(f"{table}.csv")))
                writer.writerow(columns)
                writers[table] = writer
            index = stack.enter_context(self.replacing("index.md"))
            rows = []
            for name, summary in summaries:
                for table, table_rows in csv_rows(summary).items():
                    writers[table].writerows([safe_cell(c) for c in row] for row in table_rows)
                rows.append(index_row(name, summary))
                actors.add(summary)
                database.add(name, summary)
            index.write(markdown_index(rows))
            actor_rows = actors.rows()
            database.add_actor_index(actor_rows)
        self.write_actor_index(actor_rows)

    def write_actor_index(self, rows: list[ActorRow]) -> None:
        """actors_index.csv and actors_index.json: one row per actor across the run."""
        with self.replacing(INDEX_CSV) as stream:
            write_csv(rows, stream)
        self.write_text(INDEX_JSON, to_json(rows))
