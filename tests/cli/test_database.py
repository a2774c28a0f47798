"""`summarizer run` writes OUT/summaries.sqlite: the same results as summaries.jsonl and the CSVs, as tables with
keys; the README's example queries return rows for the seed article, through Python's sqlite3 and the sqlite3
CLI; the file is replaced whole, and a rerun after an input is deleted leaves it out."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_lib import ROOT, SEED, answer
from loopback import Reply
from memory import InProcessCLI, MemoryServer
from runs_lib import answer as marked_answer
from runs_lib import marker, results_in, write_articles

from summarizer.runs.database import DATABASE_VERSION

SECTION = "## Results as a database"
TABLES = ("actors", "claims", "predictions", "warnings")


def readme_queries() -> list[str]:
    """The fenced `sql` blocks of the README's database section, verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in readme
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.DOTALL)


def _run(memory: MemoryServer, cli: InProcessCLI, tmp_path: Path, marked: int = 2) -> tuple[Path, Path]:
    """The seed and `marked` small articles (in a subfolder) summarised into tmp_path/out."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    shutil.copy(SEED, folder / SEED.name)
    write_articles(folder / "local", marked)
    seed = answer("zelensky-north-korea")
    memory.responder = lambda r: Reply.tool_call(marked_answer() if marker(r) is not None else seed)
    out = tmp_path / "out"
    done = cli("run", folder, "-o", out)
    assert done.returncode == 0, done.stderr
    return folder, out


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        yield db


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _unsafe(cell: str) -> str:
    """A CSV cell as written before formula-neutralising (`render.safe_cell`)."""
    return cell[1:] if cell[:2] in ("'=", "'+", "'-", "'@") else cell


def test_the_database_holds_exactly_the_results_with_valid_keys(memory: MemoryServer, cli: InProcessCLI,
                                                                tmp_path: Path) -> None:
    _, out = _run(memory, cli, tmp_path)
    lines = [json.loads(line) for line in (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()]
    names = sorted(p.relative_to(out).with_suffix("").as_posix() for p in results_in(out))
    assert names == ["local/article-000", "local/article-001", "zelensky-north-korea"]

    with reading(out / "summaries.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA user_version").fetchone() == (DATABASE_VERSION,)
        for table in ("articles", *TABLES, "warning_addressees", "evidence", "actor_index"):  # keys declared
            assert any(row[5] for row in db.execute(f"PRAGMA table_info({table})")), table

        # articles: one row per result, named like its files, in the order of summaries.jsonl
        articles = db.execute("SELECT name, position, article_id, title, date, sentences, summary, model, text "
                              "FROM articles ORDER BY position").fetchall()
        assert sorted(a[0] for a in articles) == names
        assert [a[1] for a in articles] == list(range(1, len(lines) + 1))
        for row, line in zip(articles, lines, strict=True):
            meta = line["article"]
            assert json.loads((out / f"{row[0]}.json").read_text(encoding="utf-8"))["article"]["id"] == row[2]
            assert row[2:] == (meta["id"], meta["title"], meta["date"], meta["sentences"], line["summary"],
                               line["provenance"]["model"], meta["text"])
        by_name = {a[0]: a[2] for a in articles}

        # actors and items: the same rows as the CSVs, by (article id, id)
        for table in TABLES:
            key = "actor_id" if table == "actors" else "item_id"
            expected = sorted((r["article_id"], r[key]) for r in _csv(out / f"{table}.csv"))
            found = sorted((by_name[a], i) for a, i in db.execute(f"SELECT article, id FROM {table}"))
            assert found == expected and found, table
        predictions = {(r["article_id"], r["item_id"]): r for r in _csv(out / "predictions.csv")}
        for article, item, *values in db.execute(
                "SELECT article, id, actor_id, actor, statement, timeframe_text, timeframe_start, timeframe_end, "
                "condition, certainty FROM predictions"):
            row = predictions[by_name[article], item]
            assert [v or "" for v in values] == [_unsafe(row[c]) for c in (
                "actor_id", "actor", "statement", "timeframe_text", "timeframe_start", "timeframe_end",
                "condition", "certainty")]
        warnings = {(r["article_id"], r["item_id"]): r for r in _csv(out / "warnings.csv")}
        for article, item, addressees, consequence, condition in db.execute(
                "SELECT article, id, addressees, consequence, condition FROM warnings"):
            row = warnings[by_name[article], item]
            assert ("; ".join(json.loads(addressees)), consequence or "", condition or "") == (
                row["addressees"], row["consequence"], row["condition"])

        # evidence: every cited sentence and quote of every item, verbatim at its offsets
        expected_spans = sorted(
            (name, item["id"], kind, n, span.get("sentence"), span["start"], span["end"], span["text"])
            for name, line in zip([a[0] for a in articles], lines, strict=True)
            for field in ("claims", "predictions", "warnings") for item in line[field]
            for kind, n, span in [*(("sentence", i, s) for i, s in enumerate(item["evidence"]["sentences"], 1)),
                                  *([("quote", 1, item["evidence"]["quote"])] if item["evidence"]["quote"] else [])])
        spans = db.execute("SELECT * FROM evidence").fetchall()
        quotes = {(s[0], s[1]): s for s in spans if s[2] == "quote"}
        assert sorted((*s[:4], None if s[2] == "quote" else s[4], *s[5:]) for s in spans) == expected_spans
        assert all(q[4] is not None for q in quotes.values())  # each quote lies in one of its cited sentences
        assert db.execute("SELECT count(*) FROM evidence AS e JOIN articles AS a ON a.name = e.article "
                          "WHERE substr(a.text, e.start_offset + 1, e.end_offset - e.start_offset) != e.text"
                          ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM evidence AS e LEFT JOIN items AS i "
                          "ON i.article = e.article AND i.id = e.item WHERE i.id IS NULL").fetchone() == (0,)

        # the actor index: the rows of actors_index.csv, and every actor linked to the row it was counted in
        index = [(r["name"], int(r["articles"]), int(r["claims"]), int(r["predictions"]), int(r["warnings"]))
                 for r in _csv(out / "actors_index.csv")]
        assert db.execute("SELECT name, articles, claims, predictions, warnings FROM actor_index ORDER BY id"
                          ).fetchall() == index
        assert db.execute("SELECT count(*) FROM actors WHERE index_id IS NULL").fetchone() == (0,)
        assert db.execute("SELECT DISTINCT ix.name, ix.articles FROM actors AS a JOIN actor_index AS ix "
                          "ON ix.id = a.index_id WHERE a.name = 'Jane Doe'").fetchall() == [("Jane Doe", 2)]
        assert db.execute("SELECT warning, addressee, actor_id FROM warning_addressees "
                          "WHERE article = 'zelensky-north-korea' ORDER BY warning").fetchall() == [
            ("W1", "the West", None), ("W2", "South Korea", "A6"), ("W3", "North Korea", "A4")]


def _query_rows(db: sqlite3.Connection, query: str) -> list[dict[str, Any]]:
    cursor = db.execute(query)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_the_readme_queries_return_rows_for_the_seed(memory: MemoryServer, cli: InProcessCLI,
                                                      tmp_path: Path) -> None:
    _, out = _run(memory, cli, tmp_path)
    due, quoted, warned = readme_queries()
    with reading(out / "summaries.sqlite") as db:
        # 1. predictions due in November 2024: Zelensky's "matter of days" and Austin's "coming days"
        rows = _query_rows(db, due)
        assert [(r["speaker"], r["due"], r["article"]) for r in rows] == [
            ("Lloyd Austin", "2024-11-08", "zelensky-north-korea"),
            ("Volodymyr Zelensky", "2024-11-08", "zelensky-north-korea")]
        assert "join the fight against Ukraine in the coming days" in rows[0]["evidence"]
        assert "this is a matter of days, not months" in rows[1]["evidence"]
        assert rows[0]["role"] == "U.S. Secretary of Defense"
        # (Jane Doe's "next year" is due in 2025: not listed)

        # 2. quoted most often: Zelensky (claims C1, C2, predictions P1, P2, warning W2), then Austin (P3, W3)
        rows = _query_rows(db, quoted)
        assert [(r["actor"], r["quotes"], r["articles"], r["statements"]) for r in rows] == [
            ("Volodymyr Zelensky", 5, 1, 7), ("Lloyd Austin", 2, 1, 3)]

        # 3. warnings addressed to South Korea: Zelensky's W2 (resolved from the actor id A6)
        rows = _query_rows(db, warned)
        assert [(r["date"], r["warned_by"], r["article"]) for r in rows] == [
            ("2024-11-01", "Volodymyr Zelensky", "zelensky-north-korea")]
        assert rows[0]["statement"].startswith("South Korea could end up attacked")


def test_the_sqlite3_cli_opens_the_file_and_runs_the_readme_queries(memory: MemoryServer, cli: InProcessCLI,
                                                                     tmp_path: Path) -> None:
    executable = shutil.which("sqlite3")
    if executable is None:
        pytest.skip("no sqlite3 executable on PATH (apt-get install sqlite3); the queries ran through Python")
    _, out = _run(memory, cli, tmp_path)
    database = out / "summaries.sqlite"

    def sqlite_cli(*args: str) -> str:
        done = subprocess.run([executable, "-readonly", *args], capture_output=True, text=True, timeout=30,
                              check=False)
        assert done.returncode == 0 and not done.stderr, done.stderr
        return done.stdout

    assert sqlite_cli(str(database), "PRAGMA integrity_check;").strip() == "ok"
    assert sqlite_cli(str(database), "PRAGMA foreign_key_check;") == ""
    with reading(database) as db:
        for query in readme_queries():
            expected = _query_rows(db, query)
            printed = json.loads(sqlite_cli("-json", str(database), query) or "[]")
            assert printed == expected and expected, query


def test_a_rerun_replaces_the_file_whole_and_leaves_out_a_deleted_input(memory: MemoryServer, cli: InProcessCLI,
                                                                        tmp_path: Path) -> None:
    folder, out = _run(memory, cli, tmp_path)
    database = out / "summaries.sqlite"
    before = database.stat().st_ino
    (folder / "local" / "article-001.md").unlink()
    with reading(database) as old:  # a reader of the old file keeps it, whole, while the run replaces it
        old.execute("BEGIN")
        assert old.execute("SELECT count(*) FROM articles").fetchone() == (3,)
        memory.reset()
        again = cli("run", folder, "-o", out)
        assert again.returncode == 0, again.stderr
        assert memory.chat_requests == []  # nothing new to ask
        assert old.execute("SELECT count(*) FROM actors").fetchone() == (11,)  # 9 + 1 + 1, still the old file
    assert database.stat().st_ino != before  # a new file moved into place, not the old one rewritten
    assert not list((out / ".summarizer" / "tmp").iterdir())  # no temp file left behind
    assert sorted(p.name for p in out.iterdir() if "sqlite" in p.name) == ["summaries.sqlite"]  # no journal

    with reading(database) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        ids = [json.loads(line)["article"]["id"] for line in
               (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()]
        rows = db.execute("SELECT name, article_id FROM articles ORDER BY position").fetchall()
        assert sorted(name for name, _ in rows) == ["local/article-000", "zelensky-north-korea"]
        assert [article_id for _, article_id in rows] == ids  # the results of summaries.jsonl, in its order
        for table in (*TABLES, "warning_addressees", "evidence"):
            gone = db.execute(f"SELECT count(*) FROM {table} WHERE article = 'local/article-001'").fetchone()
            assert gone == (0,), table
        assert db.execute("SELECT articles FROM actor_index WHERE name = 'Jane Doe'").fetchone() == (1,)


def test_a_failed_rebuild_keeps_the_old_file(memory: MemoryServer, cli: InProcessCLI, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    folder, out = _run(memory, cli, tmp_path, marked=1)
    old = (out / "summaries.sqlite").read_bytes()
    write_articles(folder / "local", 1, start=1)

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("summarizer.runs.database.SummaryDatabase.add_actor_index", broken)
    done = cli("run", folder, "-o", out)
    assert done.returncode == 1 and "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert (out / "summaries.sqlite").read_bytes() == old  # the old database, whole
    assert not list((out / ".summarizer" / "tmp").iterdir())
