"""`summarizer run --via batch-api`: the provider's Batch API (OpenAI's: about half the price, a 24 h window).

Each article becomes request lines `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}`,
one per chunk, whose body is exactly what the realtime path sends: instructor's request for the one-call plan
(model, messages, temperature, max_tokens, tools, tool_choice), measured against the context first. The
custom_id is a short hash of the store key and chunk; the ledger in the run's store maps it back. Lines are
spooled into files under the provider's limits (50,000 lines, 200 MB), uploaded (`purpose=batch`) and made
into batches whose ids are stored at once, so a restarted process resumes polling instead of resubmitting.
Batches are polled with backoff; their output and error files go to `batch_results`. Every call to the
provider goes through the transport retry layer, like a chat request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import openai
from pydantic import BaseModel

from summarizer.article import Article
from summarizer.batch_ledger import CONSUMED, Job, Ledger, LineRef
from summarizer.batch_results import Pending, Settler, read_lines
from summarizer.client import NO_KEY
from summarizer.errors import ConfigurationError, ContextOverflowError, ProviderError
from summarizer.extract import GenerationParams, Summarizer
from summarizer.progress import Failure
from summarizer.prompting import Step
from summarizer.runner import RateLimits
from summarizer.store import Store, StoreKey
from summarizer.transport import AttemptLog, async_transport
from summarizer.writers import OutputFolder

if TYPE_CHECKING:
    from summarizer.runner import _Batch

__all__ = ["ENDPOINT", "BatchOptions", "RequestLine", "builder", "custom_id", "execute", "plan"]

ENDPOINT = "/v1/chat/completions"
MAX_LINES = 50_000  # the provider's limits per input file
MAX_FILE_BYTES = 200_000_000  # 200 MB, read as decimal megabytes: the smaller of the two readings
TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
REJECTED = (401, 403, 404)
POLL_FAILURES = 8  # consecutive polls that fail (after transport retries) before the run stops waiting
NEVER_SENT = "http://127.0.0.1:9/v1"  # the base URL of a builder: it makes requests, it never sends one
T = TypeVar("T")


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


def one_call(summarizer: Summarizer) -> tuple[Step, type[BaseModel]]:
    """The one-call plan, the only one a batch line can carry; refuse a Summarizer that would need more."""
    if summarizer.backend.kind == "embedded":
        raise ConfigurationError("the Batch API needs an OpenAI-compatible server; the embedded model runs "
                                 "in-process: use --via realtime")
    steps = summarizer._steps()
    if len(steps) != 1:
        raise ConfigurationError("the Batch API sends one request per article (or chunk): turn two_pass off")
    return steps[0]


def builder(model: str, params: GenerationParams) -> Summarizer:
    """A Summarizer that builds and validates requests like the realtime path but never sends one."""
    return Summarizer(model=model, base_url=NEVER_SENT, api_key=NO_KEY, mode="tools", params=params)


def plan(summarizer: Summarizer, article: Article, key: StoreKey) -> tuple[Pending, list[RequestLine]]:
    """The article's chunks and request lines: the exact requests the realtime path would send first."""
    step, model = one_call(summarizer)
    budget = summarizer.budget()
    chunks = summarizer._chunks(article, budget)
    lines = []
    for chunk in chunks:
        body = summarizer._prepared(chunk.article, step, model)
        budget.check(body, AttemptLog())  # never hand over what cannot fit (ContextOverflowError)
        lines.append(RequestLine(LineRef(custom_id(key, chunk.index), key, chunk.index, len(chunks)), body))
    return Pending(article, key, chunks, [line.ref.custom_id for line in lines]), lines


class _Spool:
    """Request lines written to temporary files as they are made, each file under the provider's limits."""

    def __init__(self, folder: Path, options: BatchOptions) -> None:
        self.folder, self.options = folder, options
        self.files: list[tuple[Path, list[LineRef]]] = []
        self.lines = self.bytes = 0

    def add(self, lines: Sequence[RequestLine]) -> None:
        """Append one article's lines; they always share a file, so its chunks share a batch."""
        data = [line.encode() for line in lines]
        size = sum(map(len, data))
        limits = self.options
        if not self.files or self.lines + len(data) > limits.max_lines or self.bytes + size > limits.max_bytes:
            self.files.append((self.folder / f"batch-input-{os.getpid()}-{len(self.files) + 1}.jsonl", []))
            self.lines = self.bytes = 0
        path, refs = self.files[-1]
        with path.open("ab") as stream:
            stream.writelines(data)
        refs.extend(line.ref for line in lines)
        self.lines, self.bytes = self.lines + len(data), self.bytes + size


class _Run:
    """One `--via batch-api` run: submit what is not in flight, poll every batch it waits for, settle."""

    def __init__(self, batch: _Batch, summarizer: Summarizer, options: BatchOptions) -> None:
        one_call(summarizer)
        self.batch, self.summarizer, self.options = batch, summarizer, options
        summarizer._raw_async()  # builds the async client of the realtime path (raises for a sync-only one)
        self.client: Any = summarizer._async
        s = batch.settings
        limits = RateLimits(s.rpm, s.tpm) if (s.rpm or s.tpm) else None
        self.settler = Settler(batch, summarizer, "batch-api", options.max_realtime_fallback, limits)
        self.pending: dict[str, Pending] = {}  # custom_id → the article it belongs to
        self.settled: set[str] = set()  # article ids
        self.in_flight: set[str] = set()

    def notify(self, message: str) -> None:
        """Tell the user what the batches are doing: a run may wait for hours."""
        if self.options.notify is not None:
            self.options.notify(message)

    async def call(self, what: str, raw: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """One provider call through the transport retry layer; a refused key or URL ends the run."""
        log = AttemptLog([self.summarizer.backend.api_key or ""])
        try:
            result: T = await async_transport(raw, self.summarizer.policy, log)(*args, **kwargs)
        except ProviderError as error:
            if error.status_code in REJECTED:
                raise ConfigurationError(
                    f"the server refused to {what} (HTTP {error.status_code}): {error}. Check the API key and "
                    "--base-url; a server without the Batch API needs --via realtime (or, for vLLM, "
                    "`summarizer batch export` and `vllm run-batch`)") from None
            raise
        return result

    async def execute(self, inputs: Sequence[Path | Article]) -> None:
        """Read, submit, poll, settle and fall back, then write the aggregate files like the realtime run."""
        b = self.batch
        b.files = ThreadPoolExecutor(1, thread_name_prefix="summarizer-files")
        with OutputFolder(b.out) as b.folder, Store.in_folder(b.out) as b.store:
            self.ledger = Ledger(b.store.path)
            try:
                self.in_flight = {r.custom_id for job in self.ledger.open_jobs() for r in self.ledger.lines_of(job)}
                self.spool = _Spool(b.folder.tmp, self.options)
                await b.produce(inputs, self.add)
                for path, refs in self.spool.files:
                    await self.submit(path, refs)
                waiting = [job for job in self.ledger.open_jobs() if self.pending_of(job)]
                await self.poll(waiting)
                await self.settler.rerun_failed(self.summarizer)
                for pending in list(self.pending.values()):
                    self.not_started(pending, "no batch carried this request; run the same command again")
            finally:
                try:
                    self.ledger.close()
                    b.flush(final=True)
                finally:
                    b.files.shutdown()

    async def add(self, article: Article, key: StoreKey) -> None:
        """An article the store does not hold: wait for its lines in flight, or spool new ones."""
        try:
            pending, lines = plan(self.summarizer, article, key)
        except ContextOverflowError as error:  # as the realtime path would: recorded, never sent
            self.batch.failed(article, key, error)
            return
        self.pending.update(dict.fromkeys(pending.ids, pending))
        if not all(i in self.in_flight for i in pending.ids):
            self.spool.add(lines)

    def pending_of(self, job: Job) -> list[Pending]:
        """The articles of this run a job carries, in the order they were read."""
        found = {id(p): p for r in self.ledger.lines_of(job) if (p := self.pending.get(r.custom_id))}
        return [p for p in found.values() if p.article.id not in self.settled]

    def settle(self, pending: Pending) -> None:
        """Take an article off the waiting list, so it is reported once."""
        self.settled.add(pending.article.id)
        for i in pending.ids:
            self.pending.pop(i, None)

    def not_started(self, pending: Pending, message: str) -> None:
        """Not stored: the next run submits it again."""
        if pending.article.id not in self.settled:
            self.settle(pending)
            a = pending.article
            self.batch.fail(Failure("not_started", "not_run", message, a.path, a.id, a.title))

    async def submit(self, path: Path, refs: list[LineRef]) -> None:
        """Upload one spooled file and make a batch of it; the ledger knows the file before the batch."""
        try:
            uploaded = await self.call("upload a batch input file", self.client.files.create,
                                       file=(path.name, path.read_bytes(), "application/jsonl"), purpose="batch")
        except ProviderError as error:
            for pending in {id(p): p for r in refs if (p := self.pending.get(r.custom_id))}.values():
                self.not_started(pending, f"the batch input file could not be uploaded: {error}")
            return
        finally:
            path.unlink(missing_ok=True)
        self.ledger.uploaded(uploaded.id, refs)
        await self.ensure_batch(Job(uploaded.id, None, len(refs), "uploaded"), adopt=False)

    async def ensure_batch(self, job: Job, *, adopt: bool) -> bool:
        """Create the job's batch, or adopt the one a killed run created but could not record."""
        try:
            remote: Any = await self.find_batch(job.input_file_id) if adopt else None
            if remote is None:
                remote = await self.call("create a batch", self.client.batches.create, input_file_id=job.input_file_id,
                                         endpoint=ENDPOINT, completion_window="24h",
                                         metadata={"created_by": "summarizer"})
        except ProviderError as error:
            for pending in self.pending_of(job):
                self.not_started(pending, f"the batch could not be created: {error}; run again to retry")
            return False
        self.ledger.created(job.input_file_id, remote.id, remote.status)
        job.batch_id, job.status = remote.id, remote.status
        self.notify(f"batch {remote.id}: {remote.status}, {job.lines} request(s)")
        return True

    async def find_batch(self, input_file_id: str) -> Any:
        """The batch made from this input file, if the provider has one (it lists newest first)."""
        try:
            async for remote in self.client.batches.list(limit=100):
                if remote.input_file_id == input_file_id:
                    return remote
        except openai.OpenAIError as error:  # unknown: creating one now could make a second batch
            raise ProviderError(f"cannot list the batches to find the one made from {input_file_id}: {error}"
                                ) from None
        return None

    async def poll(self, jobs: list[Job]) -> None:
        """Poll every waiting batch with backoff until each has ended, and settle each as it ends."""
        jobs = [job for job in jobs if job.batch_id is not None or await self.ensure_batch(job, adopt=True)]
        wait, failures = self.options.poll_interval, 0
        while jobs:
            for job in list(jobs):
                try:
                    remote = await self.call(f"poll batch {job.batch_id}", self.client.batches.retrieve,
                                             job.batch_id)
                except ProviderError as error:
                    failures += 1
                    if failures >= POLL_FAILURES:
                        for stuck in jobs:
                            for pending in self.pending_of(stuck):
                                self.not_started(pending, f"batch {stuck.batch_id} could not be polled ({error}); "
                                                          "run the same command again to resume waiting for it")
                        return
                    continue
                failures = 0
                if remote.status != job.status:
                    self.ledger.seen(job, remote.status)
                    counts = remote.request_counts
                    done = f" ({counts.completed + counts.failed}/{counts.total})" if counts else ""
                    self.notify(f"batch {remote.id}: {remote.status}{done}")
                if remote.status in TERMINAL:
                    jobs.remove(job)
                    await self.collect(job, remote)
            if jobs:
                await asyncio.sleep(wait)
                wait = min(wait * 1.5, self.options.max_poll_interval)

    async def collect(self, job: Job, remote: Any) -> None:
        """Download an ended batch's output and error files and settle its articles from their lines."""
        lines: dict[str, Any] = {}
        unreadable = 0
        try:
            for file_id in (remote.output_file_id, remote.error_file_id):
                if file_id:
                    content = await self.call(f"download {file_id}", self.client.files.content, file_id)
                    unreadable += read_lines(content.content, lines)
        except ProviderError as error:
            for pending in self.pending_of(job):
                self.not_started(pending, f"the results of batch {remote.id} could not be downloaded ({error}); "
                                          "run the same command again to fetch them")
            return
        if unreadable:
            self.notify(f"batch {remote.id}: {unreadable} output line(s) could not be read")
        if remote.status == "failed":
            errors = remote.errors.data if remote.errors and remote.errors.data else []
            why = "; ".join(f"line {e.line}: {e.message}" if e.line else str(e.message) for e in errors)
            failed = {"code": "batch_failed", "message": f"batch {remote.id} failed: {why or 'no reason given'}"}
            for ref in self.ledger.lines_of(job):
                lines.setdefault(ref.custom_id, {"custom_id": ref.custom_id, "response": None, "error": failed})
        absent = (f"batch {remote.id} ended ({remote.status}) without running this request; run the same command "
                  "again to submit it again")
        for pending in self.pending_of(job):
            self.settle(pending)
            self.settler.take(pending, lines, absent)
        self.ledger.seen(job, CONSUMED)
        self.batch.flush()


async def execute(batch: _Batch, inputs: Sequence[Path | Article], summarizer: Summarizer) -> None:
    """The runner's `--via batch-api` path: the same store, validators and outputs as a realtime run."""
    await _Run(batch, summarizer, batch.settings.batch_api or BatchOptions()).execute(inputs)
