"""The result store: one row per key, failures kept with their reason, WAL, and a stable publication order."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from summarizer.errors import AttemptsExhaustedError, ConfigurationError, Usage
from summarizer.runs.store import Store, StoreKey

KEY = StoreKey("a" * 64, "prompt-hash", "1", "gpt-4o-mini", "t=0.0;max=4096;2p=0")


def _ok(store: Store, key: StoreKey = KEY, summary: str = '{"x": 1}', name: str = "a") -> None:
    store.put_ok(key, summary, prompt_tokens=10, completion_tokens=5, attempts=1, title="T", path="a.txt",
                 name=name)


def _failure() -> AttemptsExhaustedError:
    return AttemptsExhaustedError("gave up after 5 attempts; last error: http_500", attempts=5,
                                  usage=Usage(100, 0), records=[{"n": 1, "outcome": "http_500"}],
                                  status_code=500)


def _rows(store: Store) -> int:
    return int(sqlite3.connect(store.path).execute("SELECT count(*) FROM results").fetchone()[0])


def test_result_round_trips_only_under_its_exact_key(tmp_path: Path) -> None:
    with Store.in_folder(tmp_path) as store:
        _ok(store)
        stored = store.get(KEY)
        assert stored is not None and stored.status == "ok" and stored.summary == '{"x": 1}'
        assert (stored.prompt_tokens, stored.completion_tokens, stored.title) == (10, 5, "T")
        for part in ("input_id", "prompt_hash", "schema_version", "model", "params"):
            assert store.get(dataclasses.replace(KEY, **{part: "changed"})) is None, part


def test_failure_is_stored_with_reason_attempts_and_usage(tmp_path: Path) -> None:
    with Store.in_folder(tmp_path) as store:
        store.put_failed(KEY, _failure(), title="T", path="a.txt")
        stored = store.get(KEY)
        assert stored is not None and stored.status == "failed"
        assert stored.reason == "AttemptsExhaustedError" and "http_500" in (stored.message or "")
        assert stored.attempts == 5 and stored.prompt_tokens == 100
        assert stored.records == [{"n": 1, "outcome": "http_500"}]
        _ok(store)  # a retry that succeeds replaces the failure: still one row per key
        assert store.get(KEY).status == "ok"  # type: ignore[union-attr]
        assert _rows(store) == 1


def test_a_failed_recompute_never_overwrites_a_good_result(tmp_path: Path) -> None:
    with Store.in_folder(tmp_path) as store:
        _ok(store)
        store.put_failed(KEY, _failure(), title="T", path="a.txt")
        assert store.get(KEY).status == "ok"  # type: ignore[union-attr]
        assert _rows(store) == 1


def test_store_uses_wal(tmp_path: Path) -> None:
    with Store.in_folder(tmp_path) as store:
        mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert store.path == tmp_path / ".summarizer" / "store.sqlite"


def test_republishing_keeps_an_articles_place(tmp_path: Path) -> None:
    other = dataclasses.replace(KEY, input_id="b" * 64)
    newer = dataclasses.replace(KEY, model="gpt-4o")
    with Store.in_folder(tmp_path) as store:
        _ok(store, KEY, '"a1"')
        _ok(store, other, '"b"', name="b")
        _ok(store, newer, '"a2"')  # the same article again, with another model
        assert store.published_names() == ["a", "b"]
        assert [store.summary(store.published_key(n)) for n in ("a", "b")] == ['"a2"', '"b"']  # type: ignore[arg-type]
        assert store.published_key("a") == newer
        store.publish("a", KEY)  # back to the first result
        assert store.published_names() == ["a", "b"] and store.published_key("a") == KEY
        store.unpublish(["a"])  # its input is gone; the results stay for reuse
        assert store.published_names() == ["b"] and store.get(KEY) is not None


def test_a_store_of_an_earlier_version_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / ".summarizer" / "store.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:  # the version-1 layout, keyed by article id
        db.execute("CREATE TABLE results (article_id TEXT, status TEXT)")
        db.execute("INSERT INTO results VALUES ('x', 'ok')")
    with Store.in_folder(tmp_path, readonly=True) as store:
        assert store.get(KEY) is None  # a dry run reads nothing from it, and does not fail
    with Store.in_folder(tmp_path) as store:
        assert _rows(store) == 0 and store.published_names() == []
        _ok(store)
        assert store.get(KEY) is not None


def test_unreadable_store_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / ".summarizer" / "store.sqlite"
    path.parent.mkdir()
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigurationError, match="cannot open the result store"):
        Store.in_folder(tmp_path)


def test_readonly_store_reads_without_writing(tmp_path: Path) -> None:
    with Store.in_folder(tmp_path) as store:
        _ok(store)
    with Store.in_folder(tmp_path, readonly=True) as store:
        assert store.get(KEY) is not None
        with pytest.raises(sqlite3.OperationalError):
            _ok(store, dataclasses.replace(KEY, model="x"))
