"""The SQLite store that makes reruns free: one row per (article, prompt, schema, model, parameters).

A second table, `published`, says which result each article's files in OUT show, so every output can be regenerated
from the store alone after a crash. The batch tables (`batch_jobs`, `batch_requests`) live here too, read and
written by `runs/batch/ledger.py` through this store's connection: one owner for the database. The database runs in
WAL mode and every write is one transaction, so a process killed at any moment leaves either the whole write or
none of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from summarizer.errors import ConfigurationError, ProviderError

__all__ = ["STORE_DIR", "Store", "StoreKey", "StoredResult"]

STORE_DIR = ".summarizer"
_FILE = "store.sqlite"
_KEY_COLUMNS = ("article_id", "prompt_hash", "schema_version", "model", "params")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    article_id TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    summary TEXT,
    reason TEXT,
    message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    records TEXT,
    title TEXT,
    path TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (article_id, prompt_hash, schema_version, model, params)
);
CREATE TABLE IF NOT EXISTS published (
    article_id TEXT PRIMARY KEY,
    prompt_hash TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_jobs (
    input_file_id TEXT PRIMARY KEY,
    batch_id TEXT UNIQUE,
    lines INTEGER NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_requests (
    custom_id TEXT PRIMARY KEY,
    input_file_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    chunks INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_requests_by_file ON batch_requests (input_file_id);
"""


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write, whole or not at all, even if the process is killed."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True)
class StoreKey:
    """Everything that decides a result: change any part and the article is summarised again."""

    article_id: str
    prompt_hash: str
    schema_version: str
    model: str
    params: str

    def values(self) -> tuple[str, str, str, str, str]:
        return (self.article_id, self.prompt_hash, self.schema_version, self.model, self.params)


@dataclass(frozen=True)
class StoredResult:
    """One row: a finished summary (as JSON text) or a failure with its reason, attempts and usage."""

    status: Literal["ok", "failed"]
    summary: str | None
    reason: str | None
    message: str | None
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    records: list[dict[str, Any]]
    title: str | None
    path: str | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Store:
    """Results of earlier runs into one output folder; use from one thread (the batch's event loop)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
                self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")  # one commit, one sync
            self.db.execute("PRAGMA busy_timeout=5000")
        except sqlite3.DatabaseError as error:
            raise ConfigurationError(
                f"cannot open the result store {path}: {error}; move it away to start afresh"
            ) from None

    @classmethod
    def in_folder(cls, out: Path, *, readonly: bool = False) -> Store:
        """The store of an output folder (`OUT/.summarizer/store.sqlite`)."""
        return cls(out / STORE_DIR / _FILE, readonly=readonly)

    @staticmethod
    def exists_in(out: Path) -> bool:
        return (out / STORE_DIR / _FILE).is_file()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write, whole or not at all (for the store's views, such as the batch ledger)."""
        return transaction(self.db)

    # -- reads -------------------------------------------------------------------------------------

    def get(self, key: StoreKey) -> StoredResult | None:
        """The stored result for exactly this key, if any."""
        row = self.db.execute(
            "SELECT status, summary, reason, message, attempts, prompt_tokens, completion_tokens, records,"
            " title, path FROM results WHERE article_id=? AND prompt_hash=? AND schema_version=?"
            " AND model=? AND params=?",
            key.values(),
        ).fetchone()
        if row is None:
            return None
        status, summary, reason, message, attempts, prompt, completion, records, title, path = row
        return StoredResult(status, summary, reason, message, attempts, prompt, completion,
                            json.loads(records) if records else [], title, path)

    def published_key(self, article_id: str) -> StoreKey | None:
        """Which result the files of `article_id` in OUT show."""
        row = self.db.execute(
            f"SELECT {', '.join(_KEY_COLUMNS)} FROM published WHERE article_id=?", (article_id,)
        ).fetchone()
        return StoreKey(*row) if row else None

    def published_summaries(self) -> Iterator[str]:
        """The JSON of every published result, in the order articles first reached OUT."""
        on = " AND ".join(f"r.{c} = p.{c}" for c in _KEY_COLUMNS)
        yield from (row[0] for row in self.db.execute(
            f"SELECT r.summary FROM published p JOIN results r ON {on} WHERE r.status='ok' ORDER BY p.rowid"
        ))

    # -- writes ------------------------------------------------------------------------------------

    def put_ok(self, key: StoreKey, summary_json: str, *, prompt_tokens: int, completion_tokens: int,
               attempts: int, title: str | None, path: str | None) -> None:
        """Store a finished summary and publish it, in one transaction."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO results (article_id, prompt_hash, schema_version, model, params,"
                " status, summary, attempts, prompt_tokens, completion_tokens, title, path, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?)",
                (*key.values(), summary_json, attempts, prompt_tokens, completion_tokens, title, path,
                 _now()),
            )
            self._publish(db, key)

    def put_failed(self, key: StoreKey, error: ProviderError | Exception, *, title: str | None,
                   path: str | None) -> None:
        """Store a failure with its reason, attempts and usage; never overwrites a good result (--force)."""
        usage = error.usage if isinstance(error, ProviderError) else None
        records = error.records if isinstance(error, ProviderError) else []
        with self.transaction() as db:
            db.execute(
                "INSERT INTO results (article_id, prompt_hash, schema_version, model, params, status, reason,"
                " message, attempts, prompt_tokens, completion_tokens, records, title, path, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET reason=excluded.reason, message=excluded.message,"
                " attempts=excluded.attempts, prompt_tokens=excluded.prompt_tokens,"
                " completion_tokens=excluded.completion_tokens, records=excluded.records,"
                " title=excluded.title, path=excluded.path, updated_at=excluded.updated_at"
                " WHERE results.status = 'failed'",
                (*key.values(), reason_of(error), str(error),
                 getattr(error, "attempts", 0), usage.prompt_tokens if usage else 0,
                 usage.completion_tokens if usage else 0, json.dumps(records), title, path, _now()),
            )

    def publish(self, key: StoreKey) -> None:
        """Make the files of `key.article_id` in OUT show this (stored, ok) result."""
        with self.transaction() as db:
            self._publish(db, key)

    @staticmethod
    def _publish(db: sqlite3.Connection, key: StoreKey) -> None:
        # An upsert keeps the row's rowid, so an article keeps its place in summaries.jsonl and the CSVs.
        db.execute(
            f"INSERT INTO published ({', '.join(_KEY_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (article_id) DO UPDATE SET prompt_hash=excluded.prompt_hash,"
            " schema_version=excluded.schema_version, model=excluded.model, params=excluded.params",
            key.values(),
        )


def reason_of(error: BaseException) -> str:
    """The short machine-friendly reason recorded for a failure."""
    return error.reason if isinstance(error, ProviderError) else type(error).__name__
