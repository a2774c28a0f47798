"""One run over many articles into an output folder: what every way of running shares.

Results go to a store first and to files second, so a rerun asks the model only for what is not stored under
the same (article, prompt, schema, model, parameters) key. By default a rerun skips stored successes *and*
stored failures; `retry_failed` retries the failures, `force` recomputes everything. The realtime workers
(`realtime.py`), the provider's Batch API (`batch/api.py`) and `batch import` (`batch/results.py`) all settle
their articles through a `Run`; all store and file writes happen on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from summarizer.article.model import Article
from summarizer.article.readers import DEFAULT_MAX_BYTES
from summarizer.errors import InputError, ProviderError, Usage
from summarizer.extract.plan import Plan
from summarizer.extract.prompts import prompt_hash
from summarizer.runs.inputs import InputWalk, Skipped
from summarizer.runs.names import OutputNames
from summarizer.runs.output import OutputFolder
from summarizer.runs.pricing import PriceTable, estimate_article
from summarizer.runs.report import BatchReport, Failure, Outcome, Reporter
from summarizer.runs.review import write_review
from summarizer.runs.store import Store, StoredResult, StoreKey, reason_of
from summarizer.schema import SCHEMA_VERSION, ArticleSummary

if TYPE_CHECKING:
    from summarizer.runs.batch.lines import BatchOptions

__all__ = ["REJECTED", "Run", "Settings", "input_id", "result_key"]

FLUSH_EVERY = 1.0  # seconds between rewrites of summaries.jsonl / failures.jsonl during a run
REJECTED = (401, 403, 404)  # bad key, region or model: every further request would fail the same way
TIMED_OUT_IN_A_ROW = 3  # articles whose every attempt ran out of its deadline: the server is down or hung


def input_id(article: Article) -> str:
    """What the model is shown of an article: its text (the article id), its title and its date.

    Two inputs with the same text but another title or date are two inputs; fixing a date in front matter makes
    a new result (timeframes are resolved against the date).
    """
    shown = "\x1f".join((article.id, article.title or "", article.date.isoformat() if article.date else ""))
    return hashlib.sha256(shown.encode("utf-8", "surrogatepass")).hexdigest()


def result_key(article: Article, plan: Plan) -> StoreKey:
    """The key a result is stored under: change any part and the article is summarised again."""
    return StoreKey(input_id(article), prompt_hash(), SCHEMA_VERSION, plan.model, plan.params.key())


@dataclass(frozen=True)
class Settings:
    """How a run goes: which inputs, how many at once, what it may spend, and by which route."""

    include: tuple[str, ...] | list[str] = ()
    exclude: tuple[str, ...] | list[str] = ()
    concurrency: int = 4
    force: bool = False
    retry_failed: bool = False
    max_cost: float | None = None
    max_tokens: int | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    dry_run: bool = False
    rpm: float | None = None
    tpm: float | None = None
    via: str = "realtime"  # or "batch-api": the provider's Batch API (batch/api.py)
    batch_api: BatchOptions | None = None


class Run:
    """One run over the inputs into `out`: reads them once, settles each article, keeps OUT consistent."""

    def __init__(self, out: Path, plan: Plan, settings: Settings, prices: PriceTable, reporter: Reporter,
                 names: OutputNames | None = None) -> None:
        self.out, self.plan, self.settings = out, plan, settings
        self.names = names or OutputNames()
        self.entries: dict[str, StoreKey] = {}  # this run's inputs, in reading order: name → the result's key
        self.name_of: dict[StoreKey, str] = {}
        self.walked = False  # every input was read: OUT may then drop the files of inputs that are gone
        self.timed_out = 0  # articles in a row that failed on deadlines only
        self.model = plan.model
        self.prices, self.reporter = prices, reporter
        self.report = BatchReport(out, plan.model, settings.concurrency, settings.dry_run)
        self.store: Store | None = None
        self.folder: OutputFolder | None = None
        self.files: ThreadPoolExecutor | None = None  # one writer thread for article files, keeps their order
        self.writes: list[Future[None]] = []
        self.dirty = False
        self.last_flush, self.flush_every = time.monotonic(), FLUSH_EVERY
        self.planned = [0, 0, 0]

    def admit(self, article: Article, name: str | None = None) -> StoreKey:
        """Count `article` among this run's inputs (named after its input unless `name` is given)."""
        key = result_key(article, self.plan)
        name = name or self.names.name(article)
        self.entries[name], self.name_of[key] = key, name
        return key

    async def produce(self, inputs: InputWalk, todo: Callable[[Article, StoreKey], Awaitable[None]]) -> None:
        """Read each input, settle what the store already holds, and hand the rest to `todo`."""
        async for found in inputs:
            if len(found) != 1:
                self.reporter.found(len(found) - 1)
            for article in found:
                if isinstance(article, InputError):
                    self.fail(Failure("input", type(article).__name__, str(article), path=article.path))
                elif isinstance(article, Skipped):
                    self.skip(article)
                else:
                    key = self.admit(article)
                    stored = self.store.get(key) if self.store and not self.settings.force else None
                    if stored is None or not self.settled(article, key, stored):
                        await todo(article, key)
                        await asyncio.sleep(0)  # let a free worker send it before the next file is read
        self.walked = True

    def settled(self, article: Article, key: StoreKey, stored: StoredResult) -> bool:
        """Report a stored result instead of recomputing it; False when it must be computed again."""
        if stored.status == "failed":
            if self.settings.retry_failed:
                return False
            usage = Usage(stored.prompt_tokens, stored.completion_tokens)
            self.fail(Failure("model", stored.reason or "failed", stored.message or "", article.path,
                              article.id, article.title, stored.attempts, usage, stored.records, stored=True))
            return True
        name = self.name_of[key]
        if not self.settings.dry_run and self.folder and self.store and (
                self.store.published_key(name) != key or not self.folder.has_article(name)):
            try:
                summary = ArticleSummary.model_validate_json(stored.summary or "")
            except ValidationError:
                return False  # unreadable row (edited by hand?): summarise again
            self.store.publish(name, key)
            self.write_files(name, summary)
            self.dirty = True
        self.report.cached += 1
        self.reporter.update(Outcome("cached", article.path, article.id, article.title), self.report)
        return True

    def over_budget(self) -> str | None:
        spent, s = self.report.usage.total_tokens, self.settings
        if s.max_tokens is not None and spent >= s.max_tokens:
            return f"token budget reached: {spent:,} of --max-tokens {s.max_tokens:,} spent"
        if s.max_cost is not None and (self.report.cost or 0.0) >= s.max_cost:
            return f"cost budget reached: ${self.report.cost:.4f} of --max-cost ${s.max_cost:g} (estimated)"
        return None

    def spend(self, usage: Usage) -> None:
        self.report.usage.add(usage)
        u = self.report.usage
        self.report.cost = self.prices.cost(self.model, u.prompt_tokens, u.completion_tokens)

    def done(self, key: StoreKey, summary: ArticleSummary) -> None:
        assert self.store is not None and self.folder is not None
        u, meta, name = summary.provenance.usage, summary.article, self.name_of[key]
        self.store.put_ok(key, summary.model_dump_json(), prompt_tokens=u.prompt_tokens,
                          completion_tokens=u.completion_tokens, attempts=len(summary.provenance.attempts),
                          title=meta.title, path=meta.path, name=name)
        self.write_files(name, summary)
        usage = Usage(u.prompt_tokens, u.completion_tokens)
        self.spend(usage)
        self.report.ok += 1
        self.timed_out = 0
        self.dirty = True
        self.reporter.update(Outcome("ok", meta.path, meta.id, meta.title, usage), self.report)
        self.flush()

    def failed(self, article: Article, key: StoreKey, error: Exception) -> None:
        usage = error.usage if isinstance(error, ProviderError) else Usage()
        self.spend(usage)
        status = error.status_code if isinstance(error, ProviderError) else None
        if status in REJECTED:  # not stored: once the settings are fixed, the next run retries it
            self.report.rejected = status
            self.report.stopped = self.report.stopped or (
                f"the server rejected the request (HTTP {status}); check the API key, --base-url and --model")
        elif isinstance(error, ProviderError) and self.store is not None:
            self.store.put_failed(key, error, title=article.title, path=article.path)
        records = getattr(error, "records", [])
        only_timeouts = bool(records) and all(r.get("outcome") == "timeout" for r in records)
        self.timed_out = self.timed_out + 1 if only_timeouts else 0
        if self.timed_out >= TIMED_OUT_IN_A_ROW:  # a hung server would cost every article its deadlines
            self.report.stopped = self.report.stopped or (
                f"{self.timed_out} articles in a row got no answer within their deadlines; is the server up? "
                "Once it is, run the same command with --retry-failed")
        self.fail(Failure("model", reason_of(error), str(error), article.path, article.id, article.title,
                          getattr(error, "attempts", 0), usage, getattr(error, "records", [])))

    def write_files(self, name: str, summary: ArticleSummary) -> None:
        """Write an article's files on the file thread: the event loop goes on sending requests meanwhile."""
        assert self.folder is not None and self.files is not None
        self.writes.append(self.files.submit(self.folder.write_article, name, summary))

    def fail(self, failure: Failure) -> None:
        self.report.failures.append(failure)
        self.dirty = True
        stopped = failure.stage == "not_started"
        status: Literal["failed", "not_started"] = "not_started" if stopped else "failed"
        self.reporter.update(Outcome(status, failure.path, failure.article_id, failure.title, failure.usage,
                                     failure.message), self.report)

    def skip(self, skipped: Skipped) -> None:
        self.report.skipped.append(skipped)
        self.reporter.update(Outcome("skipped", str(skipped.path), message=skipped.reason), self.report)

    def flush(self, *, final: bool = False) -> None:
        """Rewrite the aggregate files from the store: every second while running, all of them at the end."""
        if self.folder is None or self.store is None:
            return
        started = time.monotonic()
        if final or (self.dirty and started - self.last_flush >= self.flush_every):
            self.folder.write_jsonl(summary for _, summary in self.published())
            self.folder.write_failures(f.to_json() for f in self.report.failures)
            self.dirty, self.last_flush = False, time.monotonic()
            # Each rewrite reads every stored result: space them out as OUT grows (at most ~5% of the time).
            self.flush_every = max(FLUSH_EVERY, 20 * (self.last_flush - started))
        if final:
            for write in self.writes:
                write.result()  # every article file is in place (or its error is raised) before the tables
            self.folder.write_tables((name, ArticleSummary.model_validate_json(s)) for name, s in self.published())
            if self.walked:
                self.drop_gone()
            write_review(self.folder, self.published())  # OUT/review.html (runs/review.py)

    def published(self) -> Iterator[tuple[str, str]]:
        """This run's finished results as (name, JSON), in the order their inputs were read."""
        assert self.store is not None
        for name, key in list(self.entries.items()):
            if (summary := self.store.summary(key)) is not None:
                yield name, summary

    def drop_gone(self) -> None:
        """OUT describes this run's inputs only: files of inputs that are gone, or whose new version has no
        result, are removed (their results stay in the store, so an input that comes back costs nothing)."""
        assert self.folder is not None and self.store is not None
        gone = [name for name in self.store.published_names()
                if self.entries.get(name) != self.store.published_key(name)]
        for name in gone:
            self.folder.remove_article(name)
        self.store.unpublish(gone)

    def opened(self) -> tuple[OutputFolder, Store]:
        """Open OUT and its store for writing, and the file thread; close both with `closed()`."""
        folder = OutputFolder(self.out).open()
        try:
            self.store = Store.in_folder(self.out)
        except BaseException:
            folder.close()
            raise
        self.folder, self.files = folder, ThreadPoolExecutor(1, thread_name_prefix="summarizer-files")
        return self.folder, self.store

    def closed(self) -> None:
        """Write the aggregate files, then close the store, OUT and the file thread (whatever fails)."""
        try:
            self.flush(final=True)
        finally:
            try:
                if self.store is not None:
                    self.store.close()
                if self.folder is not None:
                    self.folder.close()
            finally:
                if self.files is not None:
                    self.files.shutdown()

    async def estimate(self, article: Article, key: StoreKey) -> None:
        """Dry run: count the article's estimated tokens instead of summarising it."""
        prompt, completion = estimate_article(self.plan, article)
        self.planned = [self.planned[0] + 1, self.planned[1] + prompt, self.planned[2] + completion]

    async def dry_run(self, inputs: InputWalk) -> None:
        """Estimate tokens and cost of what a run would send; read the store, write nothing."""
        self.store = Store.in_folder(self.out, readonly=True) if Store.exists_in(self.out) else None
        try:
            await self.produce(inputs, self.estimate)
        finally:
            if self.store is not None:
                self.store.close()
        n, prompt, completion = self.planned
        self.report.estimate = (n, prompt, completion)
        self.report.estimated_cost = self.prices.cost(self.model, prompt, completion)
