"""Batch runs: many articles through one `Summarizer`, concurrently, within rate limits and a budget.

Results go to a store first and to files second, so a rerun asks the model only for what is not stored under
the same (article, prompt, schema, model, parameters) key. By default a rerun skips stored successes *and*
stored failures; `retry_failed` retries the failures, `force` recomputes everything. Transport retries and
re-asks stay in `Summarizer`: this module adds none.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiolimiter import AsyncLimiter
from pydantic import ValidationError

from summarizer.article import Article
from summarizer.client import DEFAULT_OPENAI_MODEL
from summarizer.errors import ConfigurationError, InputError, ProviderError, Usage
from summarizer.extract import GenerationParams, RetryPolicy, Summarizer
from summarizer.pricing import PriceTable, estimate_article, estimate_request
from summarizer.progress import BatchReport, Failure, Outcome, Reporter, Silent
from summarizer.prompting import prompt_hash
from summarizer.readers import DEFAULT_MAX_BYTES, Skipped, discover, iter_file
from summarizer.schema import SCHEMA_VERSION, ArticleSummary
from summarizer.store import Store, StoredResult, StoreKey, reason_of
from summarizer.writers import OutputFolder

if TYPE_CHECKING:
    from summarizer.batch_api import BatchOptions

__all__ = ["RateLimits", "asummarize_folder", "summarize_folder"]

Inputs = str | Path | Article | Sequence[str | Path | Article]
FLUSH_EVERY = 1.0  # seconds between rewrites of summaries.jsonl / failures.jsonl during a run
REJECTED = (401, 403, 404)  # bad key, region or model: every further request would fail the same way
INLINE_BYTES = 256_000  # smaller text/JSON files are read on the event loop; HTML always goes to a thread
_SLOW_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


class RateLimits:
    """Requests- and tokens-per-minute limits, awaited before every HTTP attempt (retries included)."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        # A one-second bucket for requests: servers often enforce "60/min" as "1/s", so no minute-long burst.
        per_second = max(1.0, (rpm or 0) / 60)
        self._rpm = AsyncLimiter(per_second, 60 * per_second / rpm) if rpm else None
        self._tpm = AsyncLimiter(tpm, 60) if tpm else None

    async def __call__(self, request: Mapping[str, Any]) -> None:
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None:
            await self._tpm.acquire(min(estimate_request(request), self._tpm.max_rate))


@dataclass(frozen=True)
class _Settings:
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    concurrency: int = 4
    force: bool = False
    retry_failed: bool = False
    max_cost: float | None = None
    max_tokens: int | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    dry_run: bool = False
    rpm: float | None = None
    tpm: float | None = None
    via: str = "realtime"  # or "batch-api": the provider's Batch API (batch_api.py)
    batch_api: BatchOptions | None = None


class _Batch:
    """One run over the inputs; all store and file writes happen on the event loop's thread."""

    def __init__(self, out: Path, model: str, params: GenerationParams, settings: _Settings,
                 prices: PriceTable, reporter: Reporter) -> None:
        self.out, self.model, self.params, self.settings = out, model, params, settings
        self.prices, self.reporter = prices, reporter
        self.report = BatchReport(out, model, settings.concurrency, settings.dry_run)
        self.store: Store | None = None
        self.folder: OutputFolder | None = None
        self.seen: dict[str, str] = {}
        self.files: ThreadPoolExecutor | None = None  # one writer thread for article files, keeps their order
        self.writes: list[Future[None]] = []
        self.dirty = False
        self.last_flush, self.flush_every = time.monotonic(), FLUSH_EVERY
        self.planned = [0, 0, 0]

    def key(self, article: Article) -> StoreKey:
        return StoreKey(article.id, prompt_hash(), SCHEMA_VERSION, self.model, self.params.key())

    async def produce(self, inputs: Sequence[Path | Article],
                      todo: Callable[[Article, StoreKey], Awaitable[None]]) -> None:
        """Read each input, settle what the store already holds, and hand the rest to `todo`."""
        for item in inputs:
            if isinstance(item, Article):
                found: list[Article | InputError] = [item]
            else:
                found = await _read(item, self.settings.max_bytes)
                if len(found) != 1:
                    self.reporter.found(len(found) - 1)
            for article in found:
                if isinstance(article, InputError):
                    self.fail(Failure("input", type(article).__name__, str(article), path=article.path))
                elif article.id in self.seen:
                    self.skip(Skipped(Path(article.path or "-"), f"same text as {self.seen[article.id]}"))
                else:
                    self.seen[article.id] = article.path or "-"
                    key = self.key(article)
                    stored = self.store.get(key) if self.store and not self.settings.force else None
                    if stored is None or not self.settled(article, key, stored):
                        await todo(article, key)
                        await asyncio.sleep(0)  # let a free worker send it before the next file is read

    def settled(self, article: Article, key: StoreKey, stored: StoredResult) -> bool:
        """Report a stored result instead of recomputing it; False when it must be computed again."""
        if stored.status == "failed":
            if self.settings.retry_failed:
                return False
            usage = Usage(stored.prompt_tokens, stored.completion_tokens)
            self.fail(Failure("model", stored.reason or "failed", stored.message or "", article.path,
                              article.id, article.title, stored.attempts, usage, stored.records, stored=True))
            return True
        if not self.settings.dry_run and self.folder and self.store and (
                self.store.published_key(article.id) != key or not self.folder.has_article(article.id)):
            try:
                summary = ArticleSummary.model_validate_json(stored.summary or "")
            except ValidationError:
                return False  # unreadable row (edited by hand?): summarise again
            self.store.publish(key)
            self.write_files(summary)
            self.dirty = True
        self.report.cached += 1
        self.reporter.update(Outcome("cached", article.path, article.id, article.title), self.report)
        return True

    async def work(self, queue: asyncio.Queue[tuple[Article, StoreKey] | None], summarizer: Summarizer,
                   limits: RateLimits | None) -> None:
        while (item := await queue.get()) is not None:
            article, key = item
            self.report.stopped = self.report.stopped or self.over_budget()
            if self.report.stopped:
                self.fail(Failure("not_started", "stopped", self.report.stopped, article.path, article.id,
                                  article.title))
                continue
            try:
                summary = await summarizer.asummarize(article, before_request=limits)
            except ConfigurationError:
                raise
            except Exception as error:  # one article's failure never ends the batch; it is recorded
                self.failed(article, key, error)
            else:
                self.done(key, summary)

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
        u, meta = summary.provenance.usage, summary.article
        self.store.put_ok(key, summary.model_dump_json(), prompt_tokens=u.prompt_tokens,
                          completion_tokens=u.completion_tokens, attempts=len(summary.provenance.attempts),
                          title=meta.title, path=meta.path)
        self.write_files(summary)
        usage = Usage(u.prompt_tokens, u.completion_tokens)
        self.spend(usage)
        self.report.ok += 1
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
        self.fail(Failure("model", reason_of(error), str(error), article.path, article.id, article.title,
                          getattr(error, "attempts", 0), usage, getattr(error, "records", [])))

    def write_files(self, summary: ArticleSummary) -> None:
        """Write an article's files on the file thread: the event loop goes on sending requests meanwhile."""
        assert self.folder is not None and self.files is not None
        self.writes.append(self.files.submit(self.folder.write_article, summary))

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
            self.folder.write_jsonl(self.store.published_summaries())
            self.folder.write_failures(f.to_json() for f in self.report.failures)
            self.dirty, self.last_flush = False, time.monotonic()
            # Each rewrite reads every stored result: space them out as OUT grows (at most ~5% of the time).
            self.flush_every = max(FLUSH_EVERY, 20 * (self.last_flush - started))
        if final:
            for write in self.writes:
                write.result()  # every article file is in place (or its error is raised) before the tables
            summaries = self.store.published_summaries()
            self.folder.write_tables(ArticleSummary.model_validate_json(s) for s in summaries)

    async def plan(self, article: Article, key: StoreKey) -> None:
        """Dry run: count the article's estimated tokens instead of summarising it."""
        prompt, completion = estimate_article(article, max_tokens=self.params.max_tokens)
        self.planned = [self.planned[0] + 1, self.planned[1] + prompt, self.planned[2] + completion]

    async def run(self, inputs: Sequence[Path | Article], summarizer: Summarizer | None) -> BatchReport:
        started = time.monotonic()
        self.reporter.start(self.report, len(inputs))
        if self.settings.dry_run:
            self.store = Store.in_folder(self.out, readonly=True) if Store.exists_in(self.out) else None
            try:
                await self.produce(inputs, self.plan)
            finally:
                if self.store is not None:
                    self.store.close()
            n, prompt, completion = self.planned
            self.report.estimate = (n, prompt, completion)
            self.report.estimated_cost = self.prices.cost(self.model, prompt, completion)
        else:
            assert summarizer is not None
            await self.execute(inputs, summarizer)
        self.report.wall_seconds = time.monotonic() - started
        self.reporter.finish(self.report)
        return self.report

    async def execute(self, inputs: Sequence[Path | Article], summarizer: Summarizer) -> None:
        s = self.settings
        if s.via == "batch-api":
            from summarizer.batch_api import execute

            await execute(self, inputs, summarizer)  # the same store and outputs, through the Batch API
            return
        limits = RateLimits(s.rpm, s.tpm) if (s.rpm or s.tpm) else None
        self.files = ThreadPoolExecutor(1, thread_name_prefix="summarizer-files")
        with OutputFolder(self.out) as self.folder, Store.in_folder(self.out) as self.store:
            queue: asyncio.Queue[tuple[Article, StoreKey] | None] = asyncio.Queue(maxsize=2 * s.concurrency)
            try:
                async with asyncio.TaskGroup() as tasks:
                    for _ in range(s.concurrency):
                        tasks.create_task(self.work(queue, summarizer, limits))
                    await self.produce(inputs, lambda article, key: queue.put((article, key)))
                    for _ in range(s.concurrency):
                        await queue.put(None)
            except ExceptionGroup as group:  # workers only let ConfigurationError out: unwrap it for callers
                raise group.exceptions[0] from None
            finally:
                try:
                    self.flush(final=True)
                finally:
                    self.files.shutdown()


async def _read(path: Path, max_bytes: int) -> list[Article | InputError]:
    """Small text files inline (a thread hop costs more than reading them); HTML and big files in a thread."""
    try:
        inline = path.suffix.lower() not in _SLOW_SUFFIXES and path.stat().st_size <= INLINE_BYTES
    except OSError:
        inline = True  # reading it reports the problem
    if inline:
        return list(iter_file(path, max_bytes=max_bytes))
    return await asyncio.to_thread(lambda: list(iter_file(path, max_bytes=max_bytes)))


def _inputs(paths: Inputs, out: Path, settings: _Settings, report: BatchReport) -> list[Path | Article]:
    """Articles given directly, then the files found under the paths (never those inside OUT)."""
    items = [paths] if isinstance(paths, str | Path | Article) else list(paths)
    articles: list[Path | Article] = [a for a in items if isinstance(a, Article)]
    paths_only = [p for p in items if not isinstance(p, Article)]
    files, skipped = discover(paths_only, settings.include, settings.exclude)
    inside = out.resolve()
    folders: dict[Path, bool] = {}  # resolve each folder once, not each file

    def in_out(path: Path) -> bool:
        if path.parent not in folders:
            folders[path.parent] = path.parent.resolve().is_relative_to(inside)
        return folders[path.parent]

    kept_files = [f for f in files if not in_out(f)]
    kept_skips = [s for s in skipped if not in_out(s.path)]
    if len(kept_files) < len(files) or len(kept_skips) < len(skipped):
        kept_skips.append(Skipped(out, "the output folder: never read as input"))
    report.skipped.extend(kept_skips)
    return [*articles, *kept_files]


async def asummarize_folder(
    paths: Inputs, out: str | Path, *, summarizer: Summarizer | None = None, model: str | None = None,
    base_url: str | None = None, api_key: str | None = None, mode: str | None = None,
    policy: RetryPolicy | None = None, params: GenerationParams | None = None, include: Sequence[str] = (),
    exclude: Sequence[str] = (), concurrency: int | None = None, rpm: float | None = None,
    tpm: float | None = None, force: bool = False, retry_failed: bool = False, max_cost: float | None = None,
    max_tokens: int | None = None, dry_run: bool = False, prices: PriceTable | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES, reporter: Reporter | None = None, via: str = "realtime",
    batch_api: BatchOptions | None = None,
) -> BatchReport:
    """Summarise every article under `paths` into the folder `out`; see the module docstring for reruns.

    Pass a `Summarizer` (you close it) or the options to build one (model, base_url, api_key, mode, policy,
    params; closed here). `concurrency` defaults to 4, or 1 for the embedded model. A dry run estimates
    tokens and cost, calls nothing, writes nothing, and needs no backend. `via="batch-api"` hands the requests
    to the provider's Batch API (`batch_api`, options in `batch_api=BatchOptions(...)`).
    """
    out = Path(out)
    prices = prices or PriceTable()
    owned = None
    if summarizer is None:
        try:
            summarizer = owned = Summarizer(model=model, base_url=base_url, api_key=api_key, mode=mode,
                                            policy=policy, params=params)
        except ConfigurationError:
            if not dry_run:
                raise
    if summarizer is not None:
        model_name, params = summarizer.backend.model, summarizer.params
        embedded = summarizer.backend.kind == "embedded"
    else:  # dry run without a usable backend: estimate for the model that would be asked
        model_name = model or os.environ.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL
        params, embedded = params or GenerationParams(), False
    try:
        settings = _Settings(include, exclude, concurrency or (1 if embedded else 4), force, retry_failed,
                             max_cost, max_tokens, max_bytes, dry_run, rpm, tpm, via, batch_api)
        _check(settings, prices, model_name)
        batch = _Batch(out, model_name, params, settings, prices, reporter or Silent())
        return await batch.run(_inputs(paths, out, settings, batch.report), summarizer)
    finally:
        if owned is not None:
            await owned.aclose()


def _check(settings: _Settings, prices: PriceTable, model: str) -> None:
    """Refuse settings that cannot work before anything is read or sent."""
    if settings.concurrency < 1:
        raise ConfigurationError("--concurrency must be at least 1")
    if settings.via not in ("realtime", "batch-api"):
        raise ConfigurationError(f"--via must be realtime or batch-api, not {settings.via!r}")
    for name, value in (("--rpm", settings.rpm), ("--tpm", settings.tpm), ("--max-cost", settings.max_cost),
                        ("--max-tokens", settings.max_tokens)):
        if value is not None and value <= 0:
            raise ConfigurationError(f"{name} must be greater than 0")
    if settings.max_cost is not None and prices.price(model) is None:
        raise ConfigurationError(
            f"--max-cost needs a price for model {model!r}; give one with --prices FILE.json "
            '({"' + model + '": {"input": USD per 1M tokens, "output": USD per 1M tokens}})')


def summarize_folder(paths: Inputs, out: str | Path, **options: Any) -> BatchReport:
    """The blocking twin of `asummarize_folder` (same options); not for use inside a running event loop."""
    return asyncio.run(asummarize_folder(paths, out, **options))
