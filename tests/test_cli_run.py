"""`summarizer run` / `summarizer show` in a subprocess, against the loopback server."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fixtures_lib import SHARED, minimal_answer
from loopback import LoopbackServer, Reply
from test_runner import RESULTS, markers, respond, write_articles

from summarizer.article.readers import read_article

HTML_PAGES = SHARED / "corpus" / "html"
# Script and navigation text of each page that must not reach the model.
PAGE_NOISE = {
    "bbc-1": ["CBeebies", "Get news alerts", "bbcredirection"],
    "cnn": ["Advertise with Us", "Premarkets", "cnnSiteWideCurrDate"],
    "guardian-1": ["Back to home", "SecureDrop", "window.console"],
}


def cli(*args: str | Path, server: LoopbackServer | None = None, stdin: str | None = None,
        env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(*args), input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=_env(server, env))


def _command(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", "from summarizer.cli import main; main()", *map(str, args)]


def _env(server: LoopbackServer | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env["COLUMNS"] = "200"
    if server is not None:
        env |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test-key"}
    return env | (extra or {})


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _results(out: Path) -> dict[str, Any]:
    """Every <id>.json in OUT, parsed (a partial file would fail here)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.glob(RESULTS)}


def _jsonl(out: Path) -> list[str]:
    path = out / "summaries.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines:
        json.loads(line)
    return lines


def test_sixty_articles_eight_at_a_time_then_a_free_rerun(loopback: LoopbackServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 60)
    loopback.responder, loopback.latency = respond(), 0.05
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--concurrency", "8", server=loopback)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    results = _results(out)
    lines = _jsonl(out)
    assert len(results) == 60 and len(lines) == len(set(lines)) == 60
    assert {json.loads(line)["article"]["id"] for line in lines} == set(results)
    for table in ("actors", "claims", "predictions", "warnings"):
        rows = _read_csv(out / f"{table}.csv")
        assert sorted(r["article_id"] for r in rows) == sorted(results), table
        for row in rows:
            assert row["article_title"] == results[row["article_id"]]["article"]["title"]
    assert {r["actor"] for r in _read_csv(out / "claims.csv")} == {"Jane Doe"}
    assert len(list(out.glob("*.md"))) == 61  # one per article and index.md
    assert 2 <= loopback.max_in_flight <= 8
    assert sorted(markers(loopback.chat_requests)) == list(range(60))
    assert "ok" in done.stdout and "60" in done.stdout

    loopback.reset()
    again = cli("run", tmp_path / "in", "-o", out, "--concurrency", "8", server=loopback)
    assert again.returncode == 0, again.stderr
    assert len(loopback.chat_requests) == 0
    assert _jsonl(out) == lines


def test_killed_run_resumes_without_repeating_finished_work(loopback: LoopbackServer, tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", 60)
    marker_of = {read_article(p).id: i for i, p in enumerate(paths)}
    out = tmp_path / "out"
    loopback.responder, loopback.latency = respond(), 0.15
    process = subprocess.Popen(_command("run", tmp_path / "in", "-o", out, "--concurrency", "4"),
                               env=_env(loopback), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(list(out.glob(RESULTS))) < 8 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    finished = set(_results(out))  # every JSON file parses
    assert 8 <= len(finished) < 60
    with sqlite3.connect(out / ".summarizer" / "store.sqlite") as db:
        finished |= {row[0] for row in db.execute("SELECT article_id FROM results WHERE status = 'ok'")}
    lines = _jsonl(out)
    assert len(lines) == len(set(lines))
    outputs = (".json", ".md", ".jsonl", ".csv")
    assert not [p for p in out.iterdir() if p.is_file() and p.suffix not in outputs]  # no temp files

    loopback.reset()
    loopback.latency = 0
    done = cli("run", tmp_path / "in", "-o", out, "--concurrency", "4", server=loopback)
    assert done.returncode == 0, done.stderr
    assert not {marker_of[i] for i in finished} & set(markers(loopback.chat_requests))
    assert len(_results(out)) == 60
    lines = _jsonl(out)
    assert len(lines) == len(set(lines)) == 60


def test_an_always_failing_article_is_isolated(loopback: LoopbackServer, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 5)
    loopback.responder = respond(failing=[3])
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--retry-wait", "0.01", server=loopback)
    assert done.returncode == 1, done.stderr
    failures = [json.loads(x) for x in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert len(failures) == 1 and failures[0]["reason"] == "AttemptsExhaustedError"
    assert failures[0]["path"].endswith("article-003.md") and "http_500" in failures[0]["message"]
    assert {json.loads(x)["article"]["title"] for x in _jsonl(tmp_path / "out")} == {
        "Story 0", "Story 1", "Story 2", "Story 4"}
    assert "article-003.md: AttemptsExhaustedError" in done.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_bad_files_named_on_the_command_line_are_listed_once_and_the_run_goes_on(loopback: LoopbackServer,
                                                                                 tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    os.mkfifo(tmp_path / "pipe.txt")  # no writer: opening it for reading would wait forever
    (tmp_path / "empty.txt").write_text("")
    loopback.responder = respond()
    done = cli("run", tmp_path / "in", tmp_path / "pipe.txt", tmp_path / "empty.txt", "-o", tmp_path / "out",
               server=loopback, timeout=60)
    assert done.returncode == 1, done.stderr
    assert len(_jsonl(tmp_path / "out")) == 1
    listed = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith(str(tmp_path))]
    assert listed == [f"{tmp_path / 'pipe.txt'}: InputError: not a regular file (a named pipe); save the article "
                      "to a file and pass that",
                      f"{tmp_path / 'empty.txt'}: InputError: file is empty"], done.stdout


@pytest.mark.skipif(not HTML_PAGES.is_dir(), reason="needs ../shared/corpus/html")
def test_html_pages_keep_their_title_and_lose_their_chrome(loopback: LoopbackServer, tmp_path: Path) -> None:
    for page in PAGE_NOISE:
        (tmp_path / "in").mkdir(exist_ok=True)
        shutil.copy(HTML_PAGES / page / "source.html", tmp_path / "in" / f"{page}.html")
    loopback.responder = lambda request: Reply.tool_call(minimal_answer())
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", server=loopback)
    assert done.returncode == 0, done.stderr
    results = _results(tmp_path / "out").values()
    titles = {Path(r["article"]["path"]).stem: r["article"]["title"] for r in results}
    for page, noise in PAGE_NOISE.items():
        expected = json.loads((HTML_PAGES / page / "expected-metadata.json").read_text(encoding="utf-8"))
        assert titles[page] == expected["title"]
        prompt = next(r.prompt_text for r in loopback.chat_requests if expected["title"] in r.prompt_text)
        assert not [text for text in noise if text in prompt], page


def test_stdin_article_and_show(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.responder = respond()
    body = write_articles(tmp_path / "in", 1)[0].read_text().split("---\n")[2]
    text = f"---\ntitle: From stdin\n---\n{body}"
    done = cli("run", "-", "-o", tmp_path / "out", server=loopback, stdin=text)
    assert done.returncode == 0, done.stderr
    assert markers(loopback.chat_requests) == [0]
    (result,) = tmp_path.joinpath("out").glob(RESULTS)
    shown = cli("show", result)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "From stdin" in out and "Jane Doe" in out
    assert out.index("Actors") < out.index("Claims") < out.index("Predictions") < out.index("Warnings")
    assert "[3] She said taxes will rise next year." in out and "[4] She warned" in out


def test_usage_errors_exit_2_with_what_to_set(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    no_key = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--model", "gpt-4o")
    assert no_key.returncode == 2 and "OPENAI_API_KEY" in no_key.stderr
    missing = cli("run", tmp_path / "nowhere", "-o", tmp_path / "out")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    not_result = cli("show", tmp_path / "in" / "article-000.md")
    assert not_result.returncode == 2 and "not a summarizer result" in not_result.stderr
    assert not (tmp_path / "out").exists()


def test_rejected_key_exits_2_and_the_key_is_never_shown_or_stored(loopback: LoopbackServer,
                                                                    tmp_path: Path) -> None:
    secret = "sk-proj-DoNotLeakThisKey0123456789"
    write_articles(tmp_path / "in", 3)
    loopback.responder = lambda request: Reply.error(401)
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--api-key", secret, "--concurrency", "1",
               env={"OPENAI_BASE_URL": loopback.base_url})
    assert done.returncode == 2 and "rejected" in done.stderr
    assert loopback.chat_requests[0].api_key == secret and len(loopback.chat_requests) == 1
    assert secret not in done.stdout + done.stderr
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_help_teaches_with_examples_and_exit_codes() -> None:
    done = cli("run", "--help")
    assert done.returncode == 0
    for text in ("summarizer run articles/ -o out/", "--dry-run", "--retry-failed", "Exit codes",
                 "2  usage or configuration error", "stdin"):
        assert text in done.stdout, text


def test_dry_run_needs_no_key_and_writes_nothing(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--dry-run", "--model", "gpt-4o")
    assert done.returncode == 0, done.stderr
    assert "nothing was sent" in done.stdout and "tokens in (estimate)" in done.stdout
    assert not (tmp_path / "out").exists()

