"""`summarizer run --via batch-api`: the provider's Batch API (OpenAI's: about half the price, a 24 h window).

Each article becomes request lines (`lines.py`), one per chunk, whose body is exactly what the realtime path
sends: the plan's one-call request (model, messages, temperature, max_tokens, tools, tool_choice), measured
against the context first. The ledger in the run's store maps each custom_id back to its result. Lines are
spooled into files under the provider's limits (50,000 lines, 200 MB), uploaded (`purpose=batch`) and made
into batches whose ids are stored at once, so a restarted process resumes polling instead of resubmitting.
Batches are polled with backoff; their output and error files go to `results.py`. Every call to the
provider goes through the transport retry layer, like a chat request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import openai

from summarizer.article.model import Article
from summarizer.errors import ConfigurationError, ContextOverflowError, ProviderError
from summarizer.extract.summarizer import Summarizer
from summarizer.models.retry import async_transport
from summarizer.runs.batch.ledger import CONSUMED, Job, Ledger, LineRef
from summarizer.runs.batch.lines import ENDPOINT, BatchOptions, Pending, RequestLine, plan_lines, read_lines
from summarizer.runs.batch.results import Settler
from summarizer.runs.inputs import InputWalk
from summarizer.runs.limits import RateLimits
from summarizer.runs.report import Failure
from summarizer.runs.run import REJECTED, Run
from summarizer.runs.store import StoreKey

__all__ = ["BatchOptions", "execute"]

TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
POLL_FAILURES = 8  # consecutive polls that fail (after transport retries) before the run stops waiting
T = TypeVar("T")


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

    def __init__(self, batch: Run, summarizer: Summarizer, options: BatchOptions) -> None:
        self.client: Any = summarizer.backend.provider_client()  # raises where there is no Batch API
        summarizer.plan.one_call()  # raises for the multi-step plan: a line carries one request
        self.batch, self.summarizer, self.options = batch, summarizer, options
        s = batch.settings
        limits = RateLimits.of(s.rpm, s.tpm)
        self.settler = Settler(batch, summarizer.plan, "batch-api", options.max_realtime_fallback, limits)
        self.pending: dict[str, Pending] = {}  # custom_id → the article it belongs to
        self.settled: set[str] = set()  # input ids (StoreKey.input_id)
        self.in_flight: set[str] = set()

    def notify(self, message: str) -> None:
        """Tell the user what the batches are doing: a run may wait for hours."""
        if self.options.notify is not None:
            self.options.notify(message)

    async def call(self, what: str, raw: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """One provider call through the transport retry layer; a refused key or URL ends the run."""
        log = self.summarizer.attempt_log()
        try:
            result: T = await async_transport(raw, self.summarizer.policy, log, answers=False)(*args, **kwargs)
        except ProviderError as error:
            if error.status_code in REJECTED:
                raise ConfigurationError(
                    f"the server refused to {what} (HTTP {error.status_code}): {error}. Check the API key and "
                    "--base-url; a server without the Batch API needs --via realtime (or, for vLLM, "
                    "`summarizer batch export` and `vllm run-batch`)") from None
            raise
        return result

    async def execute(self, inputs: InputWalk) -> None:
        """Read, submit, poll, settle and fall back, then write the aggregate files like the realtime run."""
        b = self.batch
        folder, store = b.opened()
        try:
            self.ledger = Ledger(store)
            self.in_flight = {r.custom_id for job in self.ledger.open_jobs() for r in self.ledger.lines_of(job)}
            self.spool = _Spool(folder.tmp, self.options)
            await b.produce(inputs, self.add)
            for path, refs in self.spool.files:
                await self.submit(path, refs)
            waiting = [job for job in self.ledger.open_jobs() if self.pending_of(job)]
            await self.poll(waiting)
            await self.settler.rerun_failed(self.summarizer)
            for pending in list(self.pending.values()):
                self.not_started(pending, "no batch carried this request; run the same command again")
        finally:
            b.closed()

    async def add(self, article: Article, key: StoreKey) -> None:
        """An article the store does not hold: wait for its lines in flight, or spool new ones."""
        try:
            pending, lines = plan_lines(self.summarizer.plan, article, key)
        except ContextOverflowError as error:  # as the realtime path would: recorded, never sent
            self.batch.failed(article, key, error)
            return
        self.pending.update(dict.fromkeys(pending.ids, pending))
        if not all(i in self.in_flight for i in pending.ids):
            self.spool.add(lines)

    def pending_of(self, job: Job) -> list[Pending]:
        """The articles of this run a job carries, in the order they were read."""
        found = {id(p): p for r in self.ledger.lines_of(job) if (p := self.pending.get(r.custom_id))}
        return [p for p in found.values() if p.key.input_id not in self.settled]

    def settle(self, pending: Pending) -> None:
        """Take an article off the waiting list, so it is reported once."""
        self.settled.add(pending.key.input_id)
        for i in pending.ids:
            self.pending.pop(i, None)

    def not_started(self, pending: Pending, message: str) -> None:
        """Not stored: the next run submits it again."""
        if pending.key.input_id not in self.settled:
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


async def execute(run: Run, inputs: InputWalk, summarizer: Summarizer) -> None:
    """The `--via batch-api` route: the same store, validators and outputs as a realtime run."""
    await _Run(run, summarizer, run.settings.batch_api or BatchOptions()).execute(inputs)
