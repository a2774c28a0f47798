"""Batch request lines: the plan's requests as JSONL lines with stable ids, and output lines read back.

Each article becomes one line per chunk, `{"custom_id", "method": "POST", "url": "/v1/chat/completions",
"body"}`, whose body is exactly the first request the realtime path sends (the plan's one-call request,
measured against the context first). The custom_id is a short hash of the store key and chunk, so results join
back in any order. Used by `--via batch-api` (`api.py`) and by `batch export` / `import` (`export.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from summarizer.article.model import Article
from summarizer.extract.chunking import Chunk
from summarizer.extract.plan import Plan
from summarizer.models.retry import AttemptLog
from summarizer.runs.batch.ledger import LineRef
from summarizer.runs.store import StoreKey

__all__ = ["ENDPOINT", "BatchOptions", "Pending", "RequestLine", "custom_id", "plan_lines", "read_lines"]

ENDPOINT = "/v1/chat/completions"
MAX_LINES = 50_000  # the provider's limits per input file
MAX_FILE_BYTES = 200_000_000  # 200 MB, read as decimal megabytes: the smaller of the two readings


@dataclass(frozen=True)
class BatchOptions:
    """How a `--via batch-api` run submits, waits, and falls back to the realtime path."""

    max_realtime_fallback: int = 100  # articles whose lines failed that are re-run in realtime
    poll_interval: float = 5.0  # seconds before the second poll; grows by half each round
    max_poll_interval: float = 60.0
    max_lines: int = MAX_LINES
    max_bytes: int = MAX_FILE_BYTES
    notify: Callable[[str], None] | None = None  # batch status changes, for the terminal


def custom_id(key: StoreKey, chunk: int) -> str:
    """A short, stable id for one request line: the store key and chunk hashed (the full key is too long)."""
    return hashlib.sha256("\x1f".join((*key.values(), str(chunk))).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RequestLine:
    """One line of a batch input file, and the result it belongs to."""

    ref: LineRef
    body: dict[str, Any]

    def text(self) -> str:
        """The line as an input file holds it: compact JSON and a newline."""
        line = {"custom_id": self.ref.custom_id, "method": "POST", "url": ENDPOINT, "body": self.body}
        return json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"

    def encode(self) -> bytes:
        """The line as uploaded: UTF-8."""
        return self.text().encode()


@dataclass(frozen=True)
class Pending:
    """An article waiting for its batch lines: one custom_id per chunk."""

    article: Article
    key: StoreKey
    chunks: Sequence[Chunk]
    ids: Sequence[str]


def plan_lines(plan: Plan, article: Article, key: StoreKey) -> tuple[Pending, list[RequestLine]]:
    """The article's chunks and request lines: the exact requests the realtime path would send first."""
    step, model = plan.one_call()
    budget = plan.budget()
    chunks = plan.chunks(article, budget)
    lines = []
    for chunk in chunks:
        body = plan.prepared(chunk.article, step, model)
        budget.check(body, AttemptLog())  # never hand over what cannot fit (ContextOverflowError)
        lines.append(RequestLine(LineRef(custom_id(key, chunk.index), key, chunk.index, len(chunks)), body))
    return Pending(article, key, chunks, [line.ref.custom_id for line in lines]), lines


def read_lines(data: bytes | Iterable[bytes], into: dict[str, Mapping[str, Any]]) -> int:
    """Output lines by custom_id (a later line wins); returns how many lines could not be read."""
    unreadable = 0
    for raw in data.splitlines() if isinstance(data, bytes) else data:
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            unreadable += 1
            continue
        if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
            into[line["custom_id"]] = line
        else:
            unreadable += 1
    return unreadable
