"""`summarizer run` / `summarizer show` in this process, against the in-memory model server.

The test that kills a run's process and resumes it is in `tests/http/test_cli_processes.py`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from fixtures_lib import SHARED
from loopback import Reply
from memory import InProcessCLI, MemoryServer
from runs_lib import markers, respond, restating_answer, results_by_id, results_in, summary_lines, write_articles

HTML_PAGES = SHARED / "corpus" / "html"
# Script and navigation text of each page that must not reach the model.
PAGE_NOISE = {
    "bbc-1": ["CBeebies", "Get news alerts", "bbcredirection"],
    "cnn": ["Advertise with Us", "Premarkets", "cnnSiteWideCurrDate"],
    "guardian-1": ["Back to home", "SecureDrop", "window.console"],
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_sixty_articles_eight_at_a_time_then_a_free_rerun(memory: MemoryServer, cli: InProcessCLI,
                                                           tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 60)
    memory.responder, memory.latency = respond(), 0.05
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--concurrency", "8")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    results = results_by_id(out)
    lines = summary_lines(out)
    assert len(results) == 60 and len(lines) == len(set(lines)) == 60
    assert {json.loads(line)["article"]["id"] for line in lines} == set(results)
    for table in ("actors", "claims", "predictions", "warnings"):
        rows = _read_csv(out / f"{table}.csv")
        assert sorted(r["article_id"] for r in rows) == sorted(results), table
        for row in rows:
            assert row["article_title"] == results[row["article_id"]]["article"]["title"]
    assert {r["actor"] for r in _read_csv(out / "claims.csv")} == {"Jane Doe"}
    assert len(list(out.glob("*.md"))) == 61  # one per article and index.md
    assert 2 <= memory.max_in_flight <= 8
    assert sorted(markers(memory.chat_requests)) == list(range(60))
    assert "ok" in done.stdout and "60" in done.stdout

    memory.reset()
    again = cli("run", tmp_path / "in", "-o", out, "--concurrency", "8")
    assert again.returncode == 0, again.stderr
    assert len(memory.chat_requests) == 0
    assert summary_lines(out) == lines


def test_an_always_failing_article_is_isolated(memory: MemoryServer, cli: InProcessCLI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 5)
    memory.responder = respond(failing=[3])
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--retry-wait", "0.01")
    assert done.returncode == 1, done.stderr
    failures = [json.loads(x) for x in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert len(failures) == 1 and failures[0]["reason"] == "AttemptsExhaustedError"
    assert failures[0]["path"].endswith("article-003.md") and "http_500" in failures[0]["message"]
    assert {json.loads(x)["article"]["title"] for x in summary_lines(tmp_path / "out")} == {
        "Story 0", "Story 1", "Story 2", "Story 4"}
    assert "article-003.md: AttemptsExhaustedError" in done.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_bad_files_named_on_the_command_line_are_listed_once_and_the_run_goes_on(memory: MemoryServer,
                                                                                 cli: InProcessCLI,
                                                                                 tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    os.mkfifo(tmp_path / "pipe.txt")  # no writer: opening it for reading would wait forever
    (tmp_path / "empty.txt").write_text("")
    memory.responder = respond()
    done = cli("run", tmp_path / "in", tmp_path / "pipe.txt", tmp_path / "empty.txt", "-o", tmp_path / "out")
    assert done.returncode == 1, done.stderr
    assert len(summary_lines(tmp_path / "out")) == 1
    listed = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith(str(tmp_path))]
    assert listed == [f"{tmp_path / 'pipe.txt'}: InputError: not a regular file (a named pipe); save the article "
                      "to a file and pass that",
                      f"{tmp_path / 'empty.txt'}: InputError: file is empty"], done.stdout


@pytest.mark.skipif(not HTML_PAGES.is_dir(), reason="needs ../shared/corpus/html")
def test_html_pages_keep_their_title_and_lose_their_chrome(memory: MemoryServer, cli: InProcessCLI,
                                                           tmp_path: Path) -> None:
    for page in PAGE_NOISE:
        (tmp_path / "in").mkdir(exist_ok=True)
        shutil.copy(HTML_PAGES / page / "source.html", tmp_path / "in" / f"{page}.html")
    memory.responder = lambda request: Reply.tool_call(restating_answer(request))
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    results = results_by_id(tmp_path / "out").values()
    titles = {Path(r["article"]["path"]).stem: r["article"]["title"] for r in results}
    for page, noise in PAGE_NOISE.items():
        expected = json.loads((HTML_PAGES / page / "expected-metadata.json").read_text(encoding="utf-8"))
        assert titles[page] == expected["title"]
        prompt = next(r.prompt_text for r in memory.chat_requests if expected["title"] in r.prompt_text)
        assert not [text for text in noise if text in prompt], page


def test_stdin_article_and_show(memory: MemoryServer, cli: InProcessCLI, tmp_path: Path) -> None:
    memory.responder = respond()
    body = write_articles(tmp_path / "in", 1)[0].read_text().split("---\n")[2]
    text = f"---\ntitle: From stdin\n---\n{body}"
    done = cli("run", "-", "-o", tmp_path / "out", stdin=text)
    assert done.returncode == 0, done.stderr
    assert markers(memory.chat_requests) == [0]
    (result,) = results_in(tmp_path.joinpath("out"))
    shown = cli("show", result, backend=False)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "From stdin" in out and "Jane Doe" in out
    assert out.index("Actors") < out.index("Claims") < out.index("Predictions") < out.index("Warnings")
    assert "[3] She said taxes will rise next year." in out and "[4] She warned" in out


def test_usage_errors_exit_2_with_what_to_set(cli: InProcessCLI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    no_key = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--model", "gpt-4o", backend=False)
    assert no_key.returncode == 2 and "OPENAI_API_KEY" in no_key.stderr
    missing = cli("run", tmp_path / "nowhere", "-o", tmp_path / "out", backend=False)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    not_result = cli("show", tmp_path / "in" / "article-000.md", backend=False)
    assert not_result.returncode == 2 and "not a summarizer result" in not_result.stderr
    assert not (tmp_path / "out").exists()


def test_rejected_key_exits_2_and_the_key_is_never_shown_or_stored(memory: MemoryServer, cli: InProcessCLI,
                                                                    tmp_path: Path) -> None:
    secret = "sk-proj-DoNotLeakThisKey0123456789"
    write_articles(tmp_path / "in", 3)
    memory.responder = lambda request: Reply.error(401)
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--api-key", secret, "--concurrency", "1")
    assert done.returncode == 2 and "rejected" in done.stderr
    assert memory.chat_requests[0].api_key == secret and len(memory.chat_requests) == 1
    assert secret not in done.stdout + done.stderr
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_help_teaches_with_examples_and_exit_codes(cli: InProcessCLI) -> None:
    done = cli("run", "--help", backend=False)
    assert done.returncode == 0
    for text in ("summarizer run articles/ -o out/", "--dry-run", "--retry-failed", "Exit codes",
                 "2  usage or configuration error", "stdin"):
        assert text in done.stdout, text


def test_dry_run_needs_no_key_and_writes_nothing(cli: InProcessCLI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    done = cli("run", tmp_path / "in", "-o", tmp_path / "out", "--dry-run", "--model", "gpt-4o", backend=False)
    assert done.returncode == 0, done.stderr
    assert "nothing was sent" in done.stdout and "tokens in (estimate)" in done.stdout
    assert not (tmp_path / "out").exists()



def test_a_looping_link_named_on_the_command_line_fails_as_that_file(memory: MemoryServer, cli: InProcessCLI,
                                                                     tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    memory.responder = respond()
    done = cli("run", tmp_path / "in", loop, "-o", tmp_path / "out")
    assert done.returncode == 1, done.stderr  # the good article is written; the link is that file's failure
    failures = [json.loads(x) for x in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert [f["path"] for f in failures] == [str(loop)] and "symlink loop" in failures[0]["message"]
    assert len(list(results_in(tmp_path / "out"))) == 1


def test_an_out_folder_that_cannot_be_written_is_a_usage_error(memory: MemoryServer, cli: InProcessCLI,
                                                                tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    memory.responder = respond()
    done = cli("run", tmp_path / "in", "-o", tmp_path / "a-file" / "out")  # no folder can be made below a file
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot write the outputs to" in done.stderr and memory.chat_requests == []
