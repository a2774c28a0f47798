"""Issue 14's bad-input corpus in ONE batch beside good articles, `summarizer run` in process (in-memory server).

More than forty kinds of bad input (`tests/bad_corpus.py`: fixtures/bad/ and the cases made here, in tmp_path,
because git cannot hold them): every good article is written, every bad file has exactly one line in
failures.jsonl that names it and says what is wrong, nothing prints a traceback, the exit code is 1, and a rerun
sends no request at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from bad_corpus import (
    BAD,
    CLEAN_TITLES,
    MADE_SKIPS,
    MADE_SUMMARIES,
    NEW_ERRORS,
    NEW_SUMMARIES,
    OLD_ERRORS,
    OLD_SUMMARIES,
    make_uncommittable,
)
from loopback import Reply
from memory import InProcessCLI, MemoryServer
from runs_lib import restating_answer, results_in, write_articles

from summarizer import Article

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or os.name != "posix",
                                reason="needs POSIX file names, symlinks and named pipes")
GOOD = 4  # ordinary articles beside the corpus


def _text_of(path: Path) -> bytes:
    """A file's bytes; for the SQLite database, its contents as SQL text (the file format itself holds NULs)."""
    if path.suffix != ".sqlite":
        return path.read_bytes()
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        return "\n".join(db.iterdump()).encode("utf-8", "surrogatepass")


def _corpus(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Build the corpus; returns {shown path: error part} and {shown path (":n" for JSONL): article text}."""
    shutil.copytree(BAD, folder, ignore=shutil.ignore_patterns("README.md"))
    made = make_uncommittable(folder)
    write_articles(folder / "good", GOOD)
    errors = {f"{folder}/{name}": part for name, part in {**OLD_ERRORS, **NEW_ERRORS}.items()}
    errors |= {f"{folder}/{shown}": part for shown, part in made.values()}
    texts = {f"{folder}/{name}": text for name, text in {**OLD_SUMMARIES, **NEW_SUMMARIES}.items()}
    texts |= {f"{folder}/{shown}": text for shown, text in MADE_SUMMARIES.values()}
    return errors, texts


def test_every_kind_of_bad_input_fails_alone_in_one_batch_and_a_rerun_sends_nothing(
        memory: MemoryServer, cli: InProcessCLI, tmp_path: Path) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    errors, texts = _corpus(folder)
    assert len(errors) >= 40, "at least forty kinds of bad input"
    memory.responder = lambda request: Reply.tool_call(restating_answer(request))

    done = cli("run", folder, "-o", out, "--retry-wait", "0.01")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr

    # Every bad file: exactly one line in failures.jsonl, naming it, saying what is wrong, in printable text.
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    by_path = {f["path"]: f for f in failures}
    assert len(by_path) == len(failures), "one line per bad file"
    assert set(by_path) == set(errors)
    for path, part in errors.items():
        failure = by_path[path]
        assert failure["stage"] == "input" and failure["reason"] in {"InputError", "InputLineError"}, failure
        assert part in failure["message"] and failure["message"].startswith(f"{path}: "), failure["message"]
        assert failure["message"].isprintable(), failure["message"]

    # Every good article (and every awkward but readable file) is written, its text decoded exactly.
    results = [json.loads(p.read_text(encoding="utf-8")) for p in results_in(out)]
    by_article = {r["article"]["path"]: r for r in results}
    good = {f"{folder}/good/article-{i:03d}.md" for i in range(GOOD)}
    assert set(by_article) == set(texts) | good
    for path, text in texts.items():
        assert by_article[path]["article"]["id"] == Article.from_text(text).id, path
    for name, title in CLEAN_TITLES.items():
        assert by_article[f"{folder}/{name}"]["article"]["title"] == title
    assert len(memory.chat_requests) == len(texts) + GOOD  # nothing that failed to read was sent

    # No raw control character and no undecodable byte reached OUT or the terminal.
    for path in out.rglob("*"):
        if path.is_file() and ".summarizer" not in path.relative_to(out).parts:
            data = _text_of(path)
            assert b"\x1b" not in data and b"\x00" not in data and b"\x07" not in data, path
            data.decode("utf-8")
    assert not {"\x1b", "\x00", "\x07"} & set(done.stdout + done.stderr)
    # The summary counts every failure and lists the first ones by their printable names.
    assert f"failed ({len(errors)}; details in {out / 'failures.jsonl'})" in done.stdout
    listed = [line.strip() for line in done.stdout.splitlines() if ": InputError" in line]
    assert listed and all(line.split(": InputError", 1)[0] in errors for line in listed), listed
    for name, reason in MADE_SKIPS.items():
        assert any(name in line and reason in line for line in done.stdout.splitlines()), name

    # A rerun: the good articles come from the store, the bad files fail again, and nothing is sent.
    memory.reset()
    again = cli("run", folder, "-o", out, "--retry-wait", "0.01")
    assert again.returncode == 1, again.stdout + again.stderr
    assert memory.chat_requests == []
    assert "Traceback" not in again.stdout + again.stderr
    rerun = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(f["path"] for f in rerun) == sorted(errors)


def test_an_unexpected_error_in_a_reader_fails_only_that_file(memory: MemoryServer, cli: InProcessCLI,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net: a bug in a reader becomes that file's error, named and without a traceback."""
    import summarizer.article.readers as readers

    real = readers._article_from_text

    def buggy(text: str, display: str) -> Article:
        if "BUG" in text:
            raise KeyError("a reader bug")
        return real(text, display)

    monkeypatch.setattr(readers, "_article_from_text", buggy)
    folder = tmp_path / "in"
    write_articles(folder, 2)
    (folder / "trigger.txt").write_text("This text makes the reader fail: BUG. It is otherwise fine.\n")
    memory.responder = lambda request: Reply.tool_call(restating_answer(request))
    done = cli("run", folder, "-o", tmp_path / "out")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    failures = [json.loads(x) for x in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert [(f["path"], f["reason"]) for f in failures] == [(str(folder / "trigger.txt"), "InputError")]
    assert "unexpected KeyError: 'a reader bug'" in failures[0]["message"]
    assert len(list(results_in(tmp_path / "out"))) == 2
