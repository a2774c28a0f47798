"""The README's first screen must not lie: its commands are what CI runs, and its Python example works."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest
from fixtures_lib import ROOT, answer
from loopback import LoopbackServer, Reply

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def test_first_screen_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    first, second = (code.strip() for lang, code in BLOCKS[:2])
    assert "summarizer run fixtures/articles -o out/" in first and 'pip install -e ".[local]"' in first
    assert second.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci.splitlines(), ".ci/run must call the README's test command verbatim"


def test_python_example_runs(loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    example = next(code for lang, code in BLOCKS if lang == "python")
    monkeypatch.setenv("OPENAI_BASE_URL", loopback.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.chdir(ROOT)
    loopback.script(Reply.tool_call(answer("zelensky-north-korea")))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {})
    assert "Lloyd Austin" in out.getvalue() and len(loopback.chat_requests) == 1
    assert os.environ["OPENAI_API_KEY"] not in out.getvalue()
