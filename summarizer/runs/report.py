"""What a batch run reports: the report itself, each settled article as an `Outcome`, and the `Reporter` that
receives them. The terminal displays (a rich bar, plain lines, the final table) are the CLI's: `cli/display.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from summarizer.errors import Usage
from summarizer.runs.inputs import Skipped

__all__ = ["BatchReport", "Failure", "Outcome", "Reporter", "Silent"]


@dataclass
class Failure:
    """An article (or file) that produced no result, and why."""

    stage: Literal["input", "model", "not_started"]
    reason: str
    message: str
    path: str | None = None
    article_id: str | None = None
    title: str | None = None
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    records: list[dict[str, Any]] = field(default_factory=list)
    stored: bool = False  # failed in an earlier run and not retried (see --retry-failed)

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "reason": self.reason, "message": self.message, "path": self.path,
                "article_id": self.article_id, "title": self.title, "attempts": self.attempts,
                "usage": self.usage.as_dict(), "from_earlier_run": self.stored, "records": self.records}


@dataclass
class BatchReport:
    """What a batch run did; filled in as it goes, so progress displays can read it."""

    out: Path
    model: str
    concurrency: int = 1
    dry_run: bool = False
    ok: int = 0  # summarised by this run
    cached: int = 0  # found in the store: no request made
    failures: list[Failure] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)  # every request of this run, failed ones included
    cost: float | None = 0.0  # estimated USD; None when the model has no price
    wall_seconds: float = 0.0
    estimate: tuple[int, int, int] | None = None  # dry run: (articles to call, prompt, completion tokens)
    estimated_cost: float | None = None
    stopped: str | None = None  # why no further articles were started (budget, rejected credentials)
    rejected: int | None = None  # HTTP status when the server refused the key, region or model

    @property
    def failed(self) -> int:
        return sum(f.stage != "not_started" for f in self.failures)

    @property
    def not_started(self) -> int:
        return sum(f.stage == "not_started" for f in self.failures)

    @property
    def all_ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Outcome:
    """One article settled (or one file skipped), for progress displays."""

    status: Literal["ok", "cached", "failed", "not_started", "skipped"]
    path: str | None
    article_id: str | None = None
    title: str | None = None
    usage: Usage = field(default_factory=Usage)
    message: str | None = None


class Reporter(Protocol):
    """Receives progress; `summarizer.runs.report` has the terminal ones."""

    def start(self, report: BatchReport, total: int) -> None: ...
    def found(self, extra: int) -> None: ...
    def update(self, outcome: Outcome, report: BatchReport) -> None: ...
    def finish(self, report: BatchReport) -> None: ...


class Silent:
    """Reports nothing (the library default)."""

    def start(self, report: BatchReport, total: int) -> None: ...
    def found(self, extra: int) -> None: ...
    def update(self, outcome: Outcome, report: BatchReport) -> None: ...
    def finish(self, report: BatchReport) -> None: ...
