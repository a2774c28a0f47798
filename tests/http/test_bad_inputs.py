"""The bad-input corpus (fixtures/bad/, see its README) through `summarizer run` in a subprocess.

Every file gets either a correct summary or a per-file error that says what is wrong; the batch goes on and
exits 1. The 20 MB file, the symlink loops, the dangling link and the unreadable file are made here, in
tmp_path, rather than committed.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bad_corpus import NEW_ERRORS, NEW_SUMMARIES, OLD_ERRORS
from fixtures_lib import ROOT, minimal_answer
from loopback import LoopbackServer, RecordedRequest, Reply
from runs_lib import cli_env as _env
from runs_lib import results_in

from summarizer import Article

BAD = ROOT / "fixtures" / "bad"
LATIN_1 = ("Der Gemeinderat von Zürich hat am Montag die Gebühren für Straßencafés erhöht. Die Bürgermeisterin "
           "sagte, die Maßnahme sei nötig. Café-Besitzer äußerten scharfe Kritik und kündigten Widerstand an.")
UTF_16 = ("Le conseil municipal de Genève a voté lundi une hausse des tarifs. La maire a déclaré que la décision "
          "était « nécessaire ». Les commerçants ont protesté.")
TEMPLATE = ("The notice on the town hall door read {{ 7*7 }} in large letters. Below it someone had written "
            "{% for item in items %}{{ item }}{% endfor %} by hand. The clerk said {# this is not a comment #} was a "
            "printing error and {{ config.__class__ }} would be removed.")
NON_ASCII_NAME = "Bericht über Zürich – Nr. 2 (Entwurf).txt"

# file -> the per-file error it must get (a part of the message that says what is wrong)
ERRORS = {
    **OLD_ERRORS,  # the committed files of fixtures/bad/ before issue 14 (tests/bad_corpus.py)
    "huge.txt": "file is 20.0 MB; the limit is 5 MB (--max-bytes)",
    "symlink-loop.txt": "cannot read file: Too many levels of symbolic links",
    "dangling-link.txt": "file not found",
    "unreadable.txt": "permission denied: the file cannot be read",
    **NEW_ERRORS,  # issue 14: impossible dates, long numbers, lone surrogates, wrong encodings… (tests/bad_corpus.py)
}
# file (":line" for JSONL) -> the article text it must yield, decoded exactly
SUMMARIES = {
    "latin-1.txt": LATIN_1,
    "utf-16-bom.txt": UTF_16,
    NON_ASCII_NAME: "Die Stadt Zürich plant eine neue Tramlinie. Der Bau soll 2026 beginnen.",
    "template-syntax.md": TEMPLATE,
    "one-broken-line.jsonl:1": "The mayor opened the new bridge on Friday. Traffic will flow from Monday.",
    "one-broken-line.jsonl:3": "The library will close for repairs in June. Readers can use the branch office.",
    **NEW_SUMMARIES,  # issue 14: good lines beside bad ones, a lying meta charset, UTF-16 without BOM, …
}
# Run as root, a process ignores file permissions; this wrapper drops the two capabilities that allow it
# (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from its bounding set before starting the CLI, so chmod 000 stops
# it as it stops any user. Exit 77 when that is not possible (root without CAP_SETPCAP).
UNPRIVILEGED = """
import ctypes, os, sys
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            sys.exit(77)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""
CANNOT_DROP = 77


def _faithful_minimal_answer(request: RecordedRequest) -> Reply:
    """`minimal_answer()` made faithful to whichever article was sent: the article's own voice restating its first
    sentence (a statement whose words the sentence does not hold fails the support check and is re-asked)."""
    first = re.search(r"^Sentences:\n\[1\] (.+)$", request.prompt_text, re.M)
    arguments = minimal_answer()
    if first is not None:
        arguments["claims"][0]["statement"] = first.group(1)
    return Reply.tool_call(arguments)


def _unprivileged(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", UNPRIVILEGED, "-c", "from summarizer.cli import main; main()", *map(str, args)]


@functools.cache
def _can_make_unreadable() -> bool:
    """False only as root without CAP_SETPCAP, where no chmod can stop the CLI from reading a file."""
    probe = subprocess.run([sys.executable, "-c", UNPRIVILEGED, "-c", "pass"], timeout=30, check=False)
    return probe.returncode != CANNOT_DROP


def _corpus(folder: Path) -> Path:
    """fixtures/bad/ (without its README) plus the cases made at test time."""
    shutil.copytree(BAD, folder, ignore=shutil.ignore_patterns("README.md"))
    with (folder / "huge.txt").open("wb") as stream:  # 20 MB of plain sentences
        stream.write(b"The council met again and talked for a long time. " * 400_000)
    (folder / "symlink-loop.txt").symlink_to("symlink-loop.txt")  # a link to itself: ELOOP on open
    (folder / "nested").mkdir()
    (folder / "nested" / "back-up").symlink_to("..", target_is_directory=True)  # a folder loop
    (folder / "dangling-link.txt").symlink_to("no-such-article.txt")
    if _can_make_unreadable():
        (folder / "unreadable.txt").write_text("The council met on Monday. It approved the budget.\n")
        (folder / "unreadable.txt").chmod(0)
    return folder


def test_every_bad_input_gets_a_summary_or_an_error_that_says_what_is_wrong(loopback: LoopbackServer,
                                                                             tmp_path: Path) -> None:
    folder, out = _corpus(tmp_path / "bad"), tmp_path / "out"
    loopback.responder = _faithful_minimal_answer
    done = subprocess.run(_unprivileged("run", folder, "-o", out, "--retry-wait", "0.01"), capture_output=True,
                          text=True, timeout=120, env=_env(loopback))
    assert done.returncode == 1, done.stderr  # some files failed; the batch went on
    expected_errors = ERRORS if _can_make_unreadable() else {k: v for k, v in ERRORS.items()
                                                             if k != "unreadable.txt"}

    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    errors = {Path(f["path"]).name: f for f in failures}
    assert len(errors) == len(failures), "one failure per file"
    assert set(errors) == set(expected_errors)
    for name, expected in expected_errors.items():
        failure = errors[name]
        assert failure["stage"] == "input" and expected in failure["message"], (name, failure["message"])
        assert failure["reason"] in {"InputError", "InputLineError"}

    results = [json.loads(p.read_text(encoding="utf-8")) for p in results_in(out)]
    summarised = {Path(r["article"]["path"]).name: r for r in results}
    assert set(summarised) == set(SUMMARIES)
    prompts = [request.prompt_text for request in loopback.chat_requests]
    assert len(prompts) == len(SUMMARIES)  # nothing that failed to read was sent
    for name, text in SUMMARIES.items():
        result, article = summarised[name], Article.from_text(text)
        assert result["article"]["id"] == article.id, name  # the id is the hash of the exact text
        assert sum(article.numbered() in prompt for prompt in prompts) == 1, name  # sent once, verbatim
        cited = result["claims"][0]["evidence"]["sentences"][0]
        assert (cited["sentence"], cited["text"]) == (1, article.sentences[0].text), name
    assert summarised["template-syntax.md"]["article"]["title"] == "Council notice {{ title }}"
    assert not [p for p in prompts if "49" in p]  # {{ 7*7 }} was never rendered

    # The folder loop is reported too (skipped, with its reason), and the output names every failed file: the
    # summary (stdout) lists the first 20 by name and counts the rest, each file's progress line (stderr) names it.
    assert "symlink loop" in done.stdout
    for name in expected_errors:
        assert name in done.stdout + done.stderr, name
    assert len(list(results_in(out))) == len(SUMMARIES)


def test_corpus_readme_describes_every_committed_case() -> None:
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    committed = {p.name for p in BAD.iterdir()} - {"README.md"}
    made_here = {"huge.txt", "symlink-loop.txt", "dangling-link.txt", "unreadable.txt"}
    assert committed == (set(ERRORS) | {k for k in SUMMARIES if ":" not in k}) - made_here
    for name in (*committed, *made_here):
        assert f"`{name}`" in readme, name
    assert "authored" in readme and "root" in readme


def test_the_unreadable_case_is_exercised(tmp_path: Path) -> None:
    """chmod 000 stops the CLI's process (root included); a skip says so when the corpus run had to leave it out."""
    if not _can_make_unreadable():
        pytest.skip("running as root without CAP_SETPCAP: chmod 000 cannot stop the CLI from reading a file, "
                    "so the unreadable-file case was left out of the corpus run")
    secret = tmp_path / "unreadable.txt"
    secret.write_text("text")
    secret.chmod(0)
    done = subprocess.run([sys.executable, "-c", UNPRIVILEGED, "-c", f"open({str(secret)!r}).read()"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "PermissionError" in done.stderr, done.stderr
