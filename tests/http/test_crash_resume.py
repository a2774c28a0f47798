"""Crash/resume: `summarizer run` killed with SIGKILL at five seeded moments of one run, then completed.

The final OUT must equal that of an uninterrupted run on the same inputs (timestamps aside); after every kill
OUT holds only whole files, the store passes SQLite's integrity check, and no article that had finished
before a kill is ever requested again.
"""

from __future__ import annotations

import contextlib
import csv
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from loopback import LoopbackServer
from loopback_cli import LoopbackCLI
from runs_lib import cli_env as _env
from runs_lib import markers, respond, result_ids, results_by_id, results_in, write_articles

from summarizer import summarize_folder
from summarizer.article.readers import read_article

SEED = 1405
ARTICLES = 60
KILLS = 5
CONCURRENCY = "4"
TABLES = ("actors", "claims", "predictions", "warnings")
AGGREGATES = {"summaries.jsonl", "failures.jsonl", "index.md", "actors_index.csv", "actors_index.json",
              "summaries.sqlite", "review.html", *(f"{t}.csv" for t in TABLES)}
TIMES = {"started_at", "finished_at", "ended_at"}

STORED_IDS = "SELECT json_extract(summary, '$.article.id') FROM results WHERE status = 'ok'"


def test_five_kills_then_completion_equal_an_uninterrupted_run(loopback: LoopbackServer, cli_in_process: LoopbackCLI,
                                                              tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", ARTICLES)
    marker_of = {read_article(p).id: i for i, p in enumerate(paths)}
    loopback.responder, loopback.latency = respond(), 0.05
    out, rng = tmp_path / "out", random.Random(SEED)
    args = ("run", tmp_path / "in", "-o", out, "--concurrency", CONCURRENCY)
    with contextlib.closing(_PreparedRuns(args, _env(loopback))) as runs:
        for kill in range(KILLS):
            finished = _finished(out)  # results that must never be asked for again
            sent_before = len(loopback.chat_requests)
            # A seeded moment: after 2-8 requests of this run, plus up to 80 ms (mid-request, mid-write, mid-flush).
            requests, extra = rng.randint(2, 8), rng.uniform(0.0, 0.08)
            process = runs.start(prepare_next=kill + 1 < KILLS)
            try:
                deadline = time.monotonic() + 60
                while (len(loopback.chat_requests) - sent_before < requests and time.monotonic() < deadline
                       and process.poll() is None):
                    time.sleep(0.002)
                time.sleep(extra)
                process.send_signal(signal.SIGKILL)
            finally:
                process.wait(10)
            assert process.returncode == -signal.SIGKILL, f"kill {kill + 1}: the run ended before it was killed"
            assert not {marker_of[i] for i in finished} & set(markers(loopback.chat_requests[sent_before:]))
            _assert_whole(out)
    assert 0 < len(_finished(out)) < ARTICLES  # the kills landed while work was done and work was left

    finished, sent_before = _finished(out), len(loopback.chat_requests)
    done = cli_in_process("run", tmp_path / "in", "-o", out, "--concurrency", CONCURRENCY)  # no kill: in this process
    assert done.returncode == 0, done.stderr
    assert not {marker_of[i] for i in finished} & set(markers(loopback.chat_requests[sent_before:]))
    assert sorted(set(markers(loopback.chat_requests))) == list(range(ARTICLES))
    _assert_whole(out)
    assert not list((out / ".summarizer" / "tmp").iterdir())  # the completed run cleared the kills' temp files

    reference = tmp_path / "reference"  # the same run, uninterrupted
    loopback.latency = 0.0  # nothing is killed in it: no need to wait for the server
    report = summarize_folder(tmp_path / "in", reference, base_url=loopback.base_url, api_key="test-key",
                              model="gpt-4o-mini", concurrency=int(CONCURRENCY))
    assert report.all_ok
    assert _outputs(out) == _outputs(reference)
    assert len(_outputs(out)["results"]) == ARTICLES


class _PreparedRuns:
    """`summarizer ARGS` subprocesses, each started only when asked, its interpreter start-up done beforehand.

    A prepared process imports the CLI (~1.5 s) and then waits for a line on stdin before calling `main()`; the
    next run is prepared while the current one works, so no run starts before the previous one was killed,
    and the kill moments (counted in requests) are the same.
    """

    CODE = "import sys; from summarizer.cli import main; sys.stdin.readline(); main()"

    def __init__(self, args: tuple[str | Path, ...], env: dict[str, str]) -> None:
        self.command = [sys.executable, "-c", self.CODE, *map(str, args)]  # sys.argv as `cli_command` gives it
        self.env = env
        self.next: subprocess.Popen[bytes] | None = self._prepare()

    def _prepare(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def start(self, *, prepare_next: bool) -> subprocess.Popen[bytes]:
        """The prepared process, told to run now; the next one is prepared (unless this is the last run)."""
        process, self.next = self.next, None
        assert process is not None and process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died early: the caller sees it exit
            process.stdin.write(b"go\n")
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        if prepare_next:
            self.next = self._prepare()
        return process

    def close(self) -> None:
        """A process prepared but never started (the test failed) is killed."""
        if self.next is not None:
            self.next.kill()
            self.next.wait(10)
            if self.next.stdin is not None:
                self.next.stdin.close()
            self.next = None


def _finished(out: Path) -> set[str]:
    """Article ids with a result file in OUT or a committed result in the store."""
    ids = result_ids(out)
    store = out / ".summarizer" / "store.sqlite"
    if store.exists():
        with contextlib.closing(sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)) as db:
            ids |= {row[0] for row in db.execute(STORED_IDS)}
    return ids


def _assert_whole(out: Path) -> None:
    """Only whole files in OUT, no duplicate lines, and a store SQLite finds intact."""
    for path in out.iterdir():
        if path.is_file():
            assert path.name in AGGREGATES or path.suffix in (".json", ".md"), f"stray file {path.name}"
    for path in out.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # a partial file would not parse
    for path in results_in(out):
        assert path.with_suffix(".md").read_text(encoding="utf-8").endswith("request(s)\n")
    if (out / "summaries.jsonl").exists():
        lines = (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()
        ids = [json.loads(line)["article"]["id"] for line in lines]
        assert len(ids) == len(set(ids))
    for table in TABLES:
        if (out / f"{table}.csv").exists():
            _read_csv(out / f"{table}.csv")
    store = out / ".summarizer" / "store.sqlite"
    with contextlib.closing(sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def _outputs(out: Path) -> dict[str, Any]:
    """Everything a run leaves in OUT, timestamps stripped and row order (completion order) normalised."""
    jsonl = (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()
    index = json.loads((out / "actors_index.json").read_text(encoding="utf-8"))
    for actor in index["actors"]:
        actor["articles"].sort(key=lambda a: a["id"])
    header, *rows = _read_csv(out / "actors_index.csv")
    lists = [header.index(c) for c in ("article_ids", "article_titles")]
    actor_rows = [[_sorted_list(c) if i in lists else c for i, c in enumerate(row)] for row in rows]
    reports = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.md")}
    return {
        "results": {i: _untimed(r) for i, r in results_by_id(out).items()},
        "reports": reports | {"index.md": sorted(reports["index.md"].splitlines())},
        "jsonl": sorted(json.dumps(_untimed(json.loads(line)), sort_keys=True) for line in jsonl),
        "tables": {t: sorted(map(tuple, _read_csv(out / f"{t}.csv"))) for t in TABLES},
        "actors_index": (index, header, sorted(actor_rows)),
        "failures": (out / "failures.jsonl").read_text(encoding="utf-8"),
    }


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _sorted_list(cell: str) -> str:
    return "; ".join(sorted(cell.split("; ")))


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows and all(len(row) == len(rows[0]) for row in rows), path  # a header, then whole rows
    return rows
