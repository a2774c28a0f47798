"""`summarizer run` as a separate process against the loopback server: the tests that need a real process
(killed with a signal and resumed). Every other command test runs in-process in `tests/cli/`."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from loopback import LoopbackServer
from runs_lib import cli_command as _command
from runs_lib import cli_env as _env
from runs_lib import markers, respond, results_by_id, results_in, summary_lines, write_articles
from runs_lib import run_cli as cli

from summarizer.article.readers import read_article

STORED_IDS = "SELECT json_extract(summary, '$.article.id') FROM results WHERE status = 'ok'"


def test_killed_run_resumes_without_repeating_finished_work(loopback: LoopbackServer, tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", 60)
    marker_of = {read_article(p).id: i for i, p in enumerate(paths)}
    out = tmp_path / "out"
    loopback.responder, loopback.latency = respond(), 0.15
    process = subprocess.Popen(_command("run", tmp_path / "in", "-o", out, "--concurrency", "4"),
                               env=_env(loopback), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(list(results_in(out))) < 8 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    finished = set(results_by_id(out))  # every JSON file parses
    assert 8 <= len(finished) < 60
    with sqlite3.connect(out / ".summarizer" / "store.sqlite") as db:
        finished |= {row[0] for row in db.execute(STORED_IDS)}
    lines = summary_lines(out)
    assert len(lines) == len(set(lines))
    outputs = (".json", ".md", ".jsonl", ".csv")
    assert not [p for p in out.iterdir() if p.is_file() and p.suffix not in outputs]  # no temp files

    loopback.reset()
    loopback.latency = 0
    done = cli("run", tmp_path / "in", "-o", out, "--concurrency", "4", server=loopback)
    assert done.returncode == 0, done.stderr
    assert not {marker_of[i] for i in finished} & set(markers(loopback.chat_requests))
    assert len(results_by_id(out)) == 60
    lines = summary_lines(out)
    assert len(lines) == len(set(lines)) == 60
