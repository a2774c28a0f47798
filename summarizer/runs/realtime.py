"""The realtime route: a pool of workers sends each article's requests now, within rate limits and a budget.

Transport retries and re-asks stay in the `Summarizer`: this module adds none. One article's failure never
ends the run; it is recorded with its reason. Only a `ConfigurationError` (the settings cannot work for any
article) ends it.
"""

from __future__ import annotations

import asyncio

from summarizer.article.model import Article
from summarizer.errors import ConfigurationError
from summarizer.extract.summarizer import Summarizer
from summarizer.runs.inputs import InputWalk
from summarizer.runs.limits import RateLimits
from summarizer.runs.report import Failure
from summarizer.runs.run import Run
from summarizer.runs.store import StoreKey

__all__ = ["execute"]

Queue = asyncio.Queue[tuple[Article, StoreKey] | None]


async def _work(run: Run, queue: Queue, summarizer: Summarizer, limits: RateLimits | None) -> None:
    """One worker: summarise queued articles until told to stop."""
    while (item := await queue.get()) is not None:
        article, key = item
        run.report.stopped = run.report.stopped or run.over_budget()
        if run.report.stopped:
            run.fail(Failure("not_started", "stopped", run.report.stopped, article.path, article.id, article.title))
            continue
        try:
            summary = await summarizer.asummarize(article, before_request=limits)
        except ConfigurationError:
            raise
        except Exception as error:  # one article's failure never ends the batch; it is recorded
            run.failed(article, key, error)
        else:
            run.done(key, summary)


async def execute(run: Run, inputs: InputWalk, summarizer: Summarizer) -> None:
    """Read the inputs and feed the workers; OUT's aggregate files are rewritten at the end, whatever happens."""
    s = run.settings
    limits = RateLimits.of(s.rpm, s.tpm)
    run.opened()
    try:
        queue: Queue = asyncio.Queue(maxsize=2 * s.concurrency)
        try:
            async with asyncio.TaskGroup() as tasks:
                for _ in range(s.concurrency):
                    tasks.create_task(_work(run, queue, summarizer, limits))
                await run.produce(inputs, lambda article, key: queue.put((article, key)))
                for _ in range(s.concurrency):
                    await queue.put(None)
        except ExceptionGroup as group:  # workers only let ConfigurationError out: unwrap it for callers
            raise group.exceptions[0] from None
    finally:
        run.closed()
