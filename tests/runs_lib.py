"""Test articles with markers, the answers the fake servers give for them, and the CLI as a subprocess.

Shared by the tests of runs over the in-memory server (`runs/`, `cli/`) and over the loopback server (`http/`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from loopback import LoopbackServer, Reply

from summarizer import RetryPolicy, summarize_folder
from summarizer.runs.report import BatchReport

RESULTS = "*.json"  # OUT/<name>.json (with actors_index.json: use results_in() to get the results only)
FAST = RetryPolicy(transport_retries=2, reasks=1, initial_wait=0.01, max_wait=0.02)
MARKER = re.compile(r"MARKER-(\d+)")
NUMBERED = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
ARTICLE = (
    "---\ntitle: Story {i}\ndate: 2024-05-{day:02d}\n---\n"
    "Minister Jane Doe spoke in the capital on Monday. The marker is MARKER-{i:03d}. "
    "She said taxes will rise next year. She warned that the deficit could grow if parliament refuses.\n"
)
# `answer()` is faithful to both: Jane Doe is the speaker of sentences 3 and 4 ("She said", "She warned"), the
# claim and prediction restate sentence 3, the warning sentence 4 (faithfulness verification, grounding/verify.py).
SHORT = ("Minister Jane Doe spoke. The marker is MARKER-{i:03d}. She said taxes will rise next year. "
         "She warned the deficit could grow.")


def write_articles(folder: Path, n: int, start: int = 0) -> list[Path]:
    """n small distinct articles, each with a unique marker sentence (sentence 2)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"article-{i:03d}.md"
        path.write_text(ARTICLE.format(i=i, day=i % 28 + 1), encoding="utf-8")
        paths.append(path)
    return paths


def answer() -> dict[str, Any]:
    """A small valid extraction with one actor and one item of each kind."""
    return {
        "summary": "A minister spoke about taxes.",
        "actors": [{"id": "A1", "name": "Jane Doe", "kind": "person", "role": "minister", "aliases": []}],
        "claims": [{"actor": "A1", "sentences": [3], "statement": "Taxes will rise next year.", "quote": None}],
        "predictions": [{"actor": "A1", "sentences": [3], "statement": "Taxes will rise.",
                         "timeframe": "next year", "condition": None, "certainty": "certain", "quote": None}],
        "warnings": [{"actor": "A1", "sentences": [4], "statement": "The deficit could grow.",
                      "addressees": [], "consequence": None, "condition": "if parliament refuses",
                      "quote": None}],
    }


def prompt_sentences(request: Any) -> dict[int, str]:
    """The article's sentences as the request numbers them (`[n] text` lines; a sentence's first line only)."""
    user = next(m["content"] for m in request.messages if m["role"] == "user")  # the article, numbered
    found: dict[int, str] = {}
    for m in NUMBERED.finditer(user):
        found.setdefault(int(m.group(1)), m.group(2).strip())
    return found


def restating_answer(request: Any, sentence: int = 1) -> dict[str, Any]:
    """A small faithful extraction for any article: the article's own voice restating one of its sentences in
    that sentence's words (what `grounding/verify.py` accepts whatever the text: no speaker to find, every word
    and number in the cited sentence)."""
    return {
        "summary": "A short neutral summary.",
        "actors": [],
        "claims": [{"actor": "article", "sentences": [sentence], "statement": prompt_sentences(request)[sentence],
                    "quote": None}],
        "predictions": [],
        "warnings": [],
    }


def marker(request: Any) -> int | None:
    found = MARKER.search(request.prompt_text)
    return int(found.group(1)) if found else None


def markers(requests: Iterable[Any]) -> list[int]:
    return [m for m in map(marker, requests) if m is not None]


def respond(failing: Iterable[int] = ()) -> Callable[[Any], Reply]:
    """Answer every article, except those whose marker is in `failing`: always HTTP 500 for them."""
    bad = set(failing)
    return lambda request: Reply.error(500) if marker(request) in bad else Reply.tool_call(answer())


def run(server: LoopbackServer, paths: Any, out: Path, **options: Any) -> BatchReport:
    options.setdefault("model", "gpt-4o-mini")
    return summarize_folder(paths, out, base_url=server.base_url, api_key="test-key", policy=FAST, **options)


def jsonl(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "summaries.jsonl").read_text().splitlines()]



def run_cli(*args: str | Path, server: LoopbackServer | None = None, stdin: str | None = None,
        env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=cli_env(server, env))


def cli_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", "from summarizer.cli import main; main()", *map(str, args)]


def cli_env(server: LoopbackServer | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env["COLUMNS"] = "200"
    if server is not None:
        env |= {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test-key"}
    return env | (extra or {})


def results_in(out: Path) -> Iterator[Path]:
    """Every article result in OUT, whatever its name or subfolder (not the aggregates, not the store)."""
    for path in sorted(out.rglob("*.json")):
        if ".summarizer" in path.relative_to(out).parts:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict) and "provenance" in data and "article" in data:
            yield path


def results_by_id(out: Path) -> dict[str, Any]:
    """Every article result in OUT, by article id."""
    results = (json.loads(p.read_text(encoding="utf-8")) for p in results_in(out))
    return {r["article"]["id"]: r for r in results}


def result_ids(out: Path) -> set[str]:
    """The article ids of every result in OUT."""
    return set(results_by_id(out))


def summary_lines(out: Path) -> list[str]:
    """The lines of OUT/summaries.jsonl, each checked to parse (a partial line would fail here)."""
    path = out / "summaries.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines:
        json.loads(line)
    return lines
