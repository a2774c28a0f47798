"""What a `--via batch-api` run has handed to the provider, kept in the run's store so nothing is sent twice.

Two tables beside the results: `batch_jobs` (one uploaded input file, and the batch made from it once it
exists) and `batch_requests` (custom_id → store key and chunk: the custom_id is a short hash of the key, so
this is the way back). A restarted process finds its batches here and resumes polling them instead of
resubmitting. The tables are created by the store, which owns the database; the ledger reads and writes them
through the store's connection, each write one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from summarizer.runs.store import Store, StoreKey

__all__ = ["CONSUMED", "Job", "Ledger", "LineRef"]

CONSUMED = "consumed"  # a job whose results are in the store: never polled again


@dataclass(frozen=True)
class LineRef:
    """Which result a request line belongs to: the store key, and the chunk of the article it carries."""

    custom_id: str
    key: StoreKey
    chunk: int
    chunks: int


@dataclass
class Job:
    """One uploaded input file and, once created, its batch."""

    input_file_id: str
    batch_id: str | None
    lines: int
    status: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Ledger:
    """The batch tables of one output folder's store; use from one thread, like the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def uploaded(self, input_file_id: str, lines: Sequence[LineRef]) -> None:
        """An input file is at the provider: remember it and what each of its lines stands for."""
        with self.store.transaction() as db:
            db.execute("INSERT INTO batch_jobs (input_file_id, lines, status, updated_at) VALUES (?, ?, ?, ?)",
                       (input_file_id, len(lines), "uploaded", _now()))
            db.executemany(
                "INSERT OR REPLACE INTO batch_requests (custom_id, input_file_id, input_id, prompt_hash,"
                " schema_version, model, params, chunk, chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(line.custom_id, input_file_id, *line.key.values(), line.chunk, line.chunks) for line in lines])

    def created(self, input_file_id: str, batch_id: str, status: str) -> None:
        """The batch for an input file exists: from now on a rerun polls it."""
        with self.store.transaction() as db:
            db.execute("UPDATE batch_jobs SET batch_id=?, status=?, updated_at=? WHERE input_file_id=?",
                       (batch_id, status, _now(), input_file_id))

    def seen(self, job: Job, status: str) -> None:
        """The status a poll found (or CONSUMED once the job's results are stored)."""
        job.status = status
        with self.store.transaction() as db:
            db.execute("UPDATE batch_jobs SET status=?, updated_at=? WHERE input_file_id=?",
                       (status, _now(), job.input_file_id))

    def open_jobs(self) -> list[Job]:
        """Jobs whose results are not in the store yet, oldest first."""
        rows = self.store.db.execute("SELECT input_file_id, batch_id, lines, status FROM batch_jobs WHERE status != ?"
                                " ORDER BY rowid", (CONSUMED,)).fetchall()
        return [Job(*row) for row in rows]

    def lines_of(self, job: Job) -> list[LineRef]:
        """The request lines a job carries (those not resubmitted in a later job since)."""
        rows = self.store.db.execute(
            "SELECT custom_id, input_id, prompt_hash, schema_version, model, params, chunk, chunks"
            " FROM batch_requests WHERE input_file_id=? ORDER BY rowid", (job.input_file_id,)).fetchall()
        return [LineRef(row[0], StoreKey(*row[1:6]), row[6], row[7]) for row in rows]
