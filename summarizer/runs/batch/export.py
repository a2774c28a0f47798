"""`summarizer batch export` / `batch import`: hand the requests to a self-hosted engine and take its results.

`export` writes the request file `vllm run-batch -i` reads: the very lines `--via batch-api` uploads. Beside
it goes a sidecar, `<requests stem>.summarizer.jsonl`, with what an import needs besides the results: the
model and generation parameters (part of every store key), the prompt hash and schema version (an import
refuses results made from other prompts), and each article with its custom_ids. `import` validates every
result line like a realtime answer (`batch_results`) and writes the same outputs as `summarizer run`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from summarizer.article.model import Article
from summarizer.article.readers import DEFAULT_MAX_BYTES
from summarizer.errors import ConfigurationError, ContextOverflowError, InputError
from summarizer.extract.plan import GenerationParams, Plan
from summarizer.extract.prompts import prompt_hash
from summarizer.extract.summarizer import Summarizer
from summarizer.runs.batch.lines import Pending, plan_lines
from summarizer.runs.batch.results import import_results
from summarizer.runs.inputs import InputWalk, Skipped
from summarizer.runs.names import OutputNames
from summarizer.runs.output import replacing_file
from summarizer.runs.pricing import PriceTable
from summarizer.runs.report import BatchReport, Failure, Reporter, Silent
from summarizer.runs.run import Run, Settings, result_key
from summarizer.schema import SCHEMA_VERSION

__all__ = ["SIDECAR_SUFFIX", "ExportReport", "Exported", "export_requests", "find_sidecar", "import_batch",
           "load_articles", "load_sidecar"]

SIDECAR_SUFFIX = ".summarizer.jsonl"
FORMAT = "summarizer-batch-sidecar/1"


def sidecar_path(requests: Path) -> Path:
    """`requests.jsonl` → `requests.summarizer.jsonl`, next to it."""
    return requests.with_name(requests.name.removesuffix(".jsonl") + SIDECAR_SUFFIX)


@dataclass
class ExportReport:
    """What an export wrote, and what it could not turn into requests."""

    requests: Path
    sidecar: Path
    articles: int = 0
    lines: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Exported:
    """What an import needs besides the results: the plan the requests came from, and the pending articles."""

    plan: Plan
    pending: list[Pending]
    names: list[str]  # each pending article's files in OUT (`runs/names.py`), named as `summarizer run` names them

    @property
    def model(self) -> str:
        return self.plan.model

    @property
    def params(self) -> GenerationParams:
        return self.plan.params


def _articles(paths: Sequence[str | Path], include: Sequence[str], exclude: Sequence[str], max_bytes: int,
              report: ExportReport | None = None) -> Iterator[Article]:
    """Every distinct article under `paths`; unreadable files and duplicates go to the report."""
    walk = InputWalk(list(paths), include=include, exclude=exclude, max_bytes=max_bytes)
    if report is not None:
        report.skipped.extend(walk.skipped)
    for found in walk:
        for item in found:
            if isinstance(item, Article):
                yield item
            elif report is None:
                continue
            elif isinstance(item, InputError):
                report.failures.append(Failure("input", type(item).__name__, str(item), path=item.path))
            else:
                report.skipped.append(item)


def export_requests(paths: Sequence[str | Path], requests: Path, model: str,
                    params: GenerationParams | None = None, *, include: Sequence[str] = (),
                    exclude: Sequence[str] = (), max_bytes: int = DEFAULT_MAX_BYTES) -> ExportReport:
    """Write the request file for `vllm run-batch` (and its sidecar) for every article under `paths`."""
    plan, names = Plan.for_server(model, params), OutputNames(paths)
    report = ExportReport(requests, sidecar_path(requests))
    header = {"format": FORMAT, "model": model, "params": asdict(plan.params), "prompt_hash": prompt_hash(),
              "schema_version": SCHEMA_VERSION, "requests": requests.name}
    with replacing_file(requests) as lines_out, replacing_file(report.sidecar) as sidecar:
        sidecar.write(json.dumps(header) + "\n")
        for article in _articles(paths, include, exclude, max_bytes, report):
            try:
                pending, lines = plan_lines(plan, article, result_key(article, plan))
            except ContextOverflowError as error:
                report.failures.append(Failure("model", error.reason, str(error), article.path, article.id,
                                               article.title))
                continue
            lines_out.writelines(line.text() for line in lines)
            entry = {"custom_ids": list(pending.ids), "name": names.name(article),
                     "article": article.model_dump(mode="json")}
            sidecar.write(json.dumps(entry, ensure_ascii=False) + "\n")
            report.articles, report.lines = report.articles + 1, report.lines + len(lines)
    return report


def find_sidecar(results: Path, requests: Path | None) -> Path:
    """The sidecar of `requests`, else the only one beside the results file."""
    if requests is not None:
        return sidecar_path(requests)
    found = sorted(results.parent.glob(f"*{SIDECAR_SUFFIX}"))
    if len(found) != 1:
        where = "none" if not found else ", ".join(p.name for p in found)
        raise ConfigurationError(
            f"cannot tell which export {results} answers (sidecars beside it: {where}); give --requests "
            "REQUESTS.jsonl (the file given to vllm run-batch -i), or --articles DIR with --model")
    return found[0]


def load_sidecar(path: Path) -> Exported:
    """The export an import joins its results to; refused if the prompts or schema changed since."""
    try:
        with path.open(encoding="utf-8") as stream:
            header = json.loads(stream.readline() or "{}")
            if header.get("format") != FORMAT:
                raise ConfigurationError(f"{path} is not a summarizer export sidecar ({FORMAT})")
            if (header.get("prompt_hash"), header.get("schema_version")) != (prompt_hash(), SCHEMA_VERSION):
                raise ConfigurationError(
                    f"{path} was exported with other prompts or another schema version than this summarizer's; "
                    "export again and rerun the batch")
            plan = Plan.for_server(str(header["model"]), GenerationParams(**header["params"]))
            entries = [json.loads(line) for line in stream if line.strip()]
            pending = [_pending(plan, entry) for entry in entries]
            names = [str(entry["name"]) for entry in entries]
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise ConfigurationError(f"{path} is damaged: {error}") from None
    return Exported(plan, pending, names)


def _pending(plan: Plan, entry: dict[str, Any]) -> Pending:
    """One sidecar entry, re-planned: its custom_ids must come out as exported, or results would not join."""
    article = Article.model_validate(entry["article"])
    pending, _ = plan_lines(plan, article, result_key(article, plan))
    if list(pending.ids) != entry["custom_ids"]:
        raise ValueError(f"article {article.id[:12]} is split differently than when it was exported")
    return pending


def load_articles(paths: Sequence[str | Path], model: str, params: GenerationParams | None = None, *,
                  include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Exported:
    """The export, rebuilt from the article files (`--articles DIR`) instead of the sidecar."""
    plan, pending, names, named = Plan.for_server(model, params), [], [], OutputNames(paths)
    for article in _articles(paths, include, exclude, DEFAULT_MAX_BYTES):
        with contextlib.suppress(ContextOverflowError):  # never exported: there is no line to import
            pending.append(plan_lines(plan, article, result_key(article, plan))[0])
            names.append(named.name(article))
    return Exported(plan, pending, names)


async def import_batch(results: Path, out: Path, exported: Exported, *, fallback: Summarizer | None = None,
                       max_realtime_fallback: int = 0, concurrency: int = 4, prices: PriceTable | None = None,
                       reporter: Reporter | None = None) -> tuple[BatchReport, int]:
    """Validate a results file into OUT like a realtime run; returns the report and the unmatched lines."""
    if max_realtime_fallback > 0 and fallback is None:
        raise ConfigurationError("--max-realtime-fallback needs a backend: --model/--base-url or OPENAI_API_KEY")
    settings = Settings(concurrency=concurrency, retry_failed=True)
    batch = Run(out, exported.plan, settings, prices or PriceTable(), reporter or Silent())
    return await import_results(batch, results, exported.pending, exported.names, fallback, max_realtime_fallback)
