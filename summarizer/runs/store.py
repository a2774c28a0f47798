"""The SQLite store that makes reruns free: one row per (article, prompt, schema, model, parameters).

A second table, `published`, says which result the files of each name in OUT show, so every output can be regenerated
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from summarizer.errors import ConfigurationError, ProviderError

__all__ = ["STORE_DIR", "Store", "StoreKey", "StoredResult"]

STORE_DIR = ".summarizer"
_FILE = "store.sqlite"
_KEY_COLUMNS = ("input_id", "prompt_hash", "schema_version", "model", "params")
VERSION = 2  # PRAGMA user_version of the store; a store of an earlier version is started afresh
_TABLES = ("results", "published", "batch_jobs", "batch_requests")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    input_id TEXT NOT NULL,
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
    PRIMARY KEY (input_id, prompt_hash, schema_version, model, params)
);
CREATE TABLE IF NOT EXISTS published (
    name TEXT PRIMARY KEY,
    input_id TEXT NOT NULL,
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
    input_id TEXT NOT NULL,
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

    input_id: str  # what the model is shown of the article: its text, title and date (`runs.run.input_id`)
    prompt_hash: str
    schema_version: str
    model: str
    params: str

    def values(self) -> tuple[str, str, str, str, str]:
        return (self.input_id, self.prompt_hash, self.schema_version, self.model, self.params)


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
            self.stale = False  # read-only and written by an earlier version: holds nothing this one can use
            if readonly:
                self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                self.stale = self.db.execute("PRAGMA user_version").fetchone()[0] < VERSION
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
                self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
                self.db.execute("PRAGMA journal_mode=WAL")
                self._create()
            self.db.execute("PRAGMA busy_timeout=5000")
        except sqlite3.DatabaseError as error:
            raise ConfigurationError(
                f"cannot open the result store {path}: {error}; move it away to start afresh"
            ) from None

    def _create(self) -> None:
        """Create the tables in one commit; a store an earlier version wrote is emptied first (its keys and
        results no longer match what this version would compute)."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        old = self.db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        drop = "".join(f"DROP TABLE IF EXISTS {t};" for t in _TABLES) if old and version < VERSION else ""
        self.db.executescript(f"BEGIN; {drop} {_SCHEMA} PRAGMA user_version={VERSION}; COMMIT;")

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
        if self.stale:
            return None
        row = self.db.execute(
            "SELECT status, summary, reason, message, attempts, prompt_tokens, completion_tokens, records,"
            " title, path FROM results WHERE input_id=? AND prompt_hash=? AND schema_version=?"
            " AND model=? AND params=?",
            key.values(),
        ).fetchone()
        if row is None:
            return None
        status, summary, reason, message, attempts, prompt, completion, records, title, path = row
        return StoredResult(status, summary, reason, message, attempts, prompt, completion,
                            json.loads(records) if records else [], title, path)

    def published_key(self, name: str) -> StoreKey | None:
        """Which result the files called `name` in OUT show."""
        row = self.db.execute(
            f"SELECT {', '.join(_KEY_COLUMNS)} FROM published WHERE name=?", (name,)
        ).fetchone()
        return StoreKey(*row) if row else None

    def published_names(self) -> list[str]:
        """Every name with files in OUT, in the order they first reached it."""
        return [row[0] for row in self.db.execute("SELECT name FROM published ORDER BY rowid")]

    def summary(self, key: StoreKey) -> str | None:
        """The JSON of the stored result of `key`, if it is a finished one."""
        row = self.db.execute(
            "SELECT summary FROM results WHERE input_id=? AND prompt_hash=? AND schema_version=?"
            " AND model=? AND params=? AND status='ok'", key.values()).fetchone()
        return None if row is None else str(row[0])

    # -- writes ------------------------------------------------------------------------------------

    def put_ok(self, key: StoreKey, summary_json: str, *, prompt_tokens: int, completion_tokens: int,
               attempts: int, title: str | None, path: str | None, name: str) -> None:
        """Store a finished summary and publish it as `name`, in one transaction."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO results (input_id, prompt_hash, schema_version, model, params,"
                " status, summary, attempts, prompt_tokens, completion_tokens, title, path, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?)",
                (*key.values(), summary_json, attempts, prompt_tokens, completion_tokens, title, path,
                 _now()),
            )
            self._publish(db, name, key)

    def put_failed(self, key: StoreKey, error: ProviderError | Exception, *, title: str | None,
                   path: str | None) -> None:
        """Store a failure with its reason, attempts and usage; never overwrites a good result (--force)."""
        usage = error.usage if isinstance(error, ProviderError) else None
        records = error.records if isinstance(error, ProviderError) else []
        with self.transaction() as db:
            db.execute(
                "INSERT INTO results (input_id, prompt_hash, schema_version, model, params, status, reason,"
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

    def publish(self, name: str, key: StoreKey) -> None:
        """Make the files called `name` in OUT show this (stored, ok) result."""
        with self.transaction() as db:
            self._publish(db, name, key)

    def unpublish(self, names: Iterable[str]) -> None:
        """Forget that OUT holds files called `names` (their inputs are gone); their results stay for reuse."""
        with self.transaction() as db:
            db.executemany("DELETE FROM published WHERE name=?", [(n,) for n in names])

    @staticmethod
    def _publish(db: sqlite3.Connection, name: str, key: StoreKey) -> None:
        # An upsert keeps the row's rowid, so a name keeps its place among the published ones.
        db.execute(
            f"INSERT INTO published (name, {', '.join(_KEY_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET input_id=excluded.input_id, prompt_hash=excluded.prompt_hash,"
            " schema_version=excluded.schema_version, model=excluded.model, params=excluded.params",
            (name, *key.values()),
        )


def reason_of(error: BaseException) -> str:
    """The short machine-friendly reason recorded for a failure."""
    return error.reason if isinstance(error, ProviderError) else type(error).__name__
