"""`summarize_folder()`: every article under some paths into an output folder, by the route asked for.

The route is realtime (`realtime.py`: requests sent now, concurrently) or the provider's Batch API
(`batch/api.py`); a dry run sends nothing and estimates tokens and cost. Whichever it is, the same store,
validators and output files are used (`run.py`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from summarizer.article.model import Article
from summarizer.article.readers import DEFAULT_MAX_BYTES
from summarizer.errors import ConfigurationError
from summarizer.extract.plan import GenerationParams, Plan
from summarizer.extract.summarizer import Summarizer
from summarizer.models.resolve import DEFAULT_OPENAI_MODEL
from summarizer.models.retry import RetryPolicy
from summarizer.runs import realtime
from summarizer.runs.batch import api as provider_batches
from summarizer.runs.batch.lines import BatchOptions
from summarizer.runs.inputs import InputWalk
from summarizer.runs.names import OutputNames
from summarizer.runs.pricing import PriceTable
from summarizer.runs.report import BatchReport, Reporter, Silent
from summarizer.runs.run import Run, Settings

__all__ = ["asummarize_folder", "summarize_folder"]

Inputs = str | Path | Article | Sequence[str | Path | Article]


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
    """Summarise every article under `paths` into the folder `out`; see `run.py` for reruns.

    Pass a `Summarizer` (you close it) or the options to build one (model, base_url, api_key, mode, policy,
    params; closed here). `concurrency` defaults to 4, or 1 for a small (embedded) model. A dry run estimates
    tokens and cost, calls nothing, writes nothing, and needs no backend. `via="batch-api"` hands the requests
    to the provider's Batch API (options in `batch_api=BatchOptions(...)`).
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
        plan, default_concurrency = summarizer.plan, summarizer.backend.capabilities.default_concurrency
    else:  # dry run without a usable backend: estimate for the model that would be asked
        plan = Plan.for_server(model or os.environ.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL, params)
        default_concurrency = 4
    try:
        settings = Settings(tuple(include), tuple(exclude), concurrency or default_concurrency, force,
                            retry_failed, max_cost, max_tokens, max_bytes, dry_run, rpm, tpm, via, batch_api)
        _check(settings, prices, plan.model)
        roots = [paths] if isinstance(paths, str | Path | Article) else list(paths)
        run = Run(out, plan, settings, prices, reporter or Silent(), OutputNames(roots))
        walk = InputWalk(paths, include=settings.include, exclude=settings.exclude, max_bytes=max_bytes, out=out)
        run.report.skipped.extend(walk.skipped)
        started = time.monotonic()
        run.reporter.start(run.report, len(walk.items))
        if settings.dry_run:
            await run.dry_run(walk)
        else:
            assert summarizer is not None
            route = provider_batches.execute if settings.via == "batch-api" else realtime.execute
            await route(run, walk, summarizer)
        run.report.wall_seconds = time.monotonic() - started
        run.reporter.finish(run.report)
        return run.report
    finally:
        if owned is not None:
            await owned.aclose()


def _check(settings: Settings, prices: PriceTable, model: str) -> None:
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
