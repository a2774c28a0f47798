"""The naive baseline: what a user writes in 20 lines of instructor, run on the same backend for comparison.

One prompt with the plain article text (no sentence numbers), a schema of plain strings with quotes copied by
the model, one instructor call in the backend's mode, no validators and no re-ask. Every improvement of the
real pipeline is reported as a margin over this.

Its quotes are then looked up in the article, exactly up to whitespace and quote characters (the comparison
our own validator applies, nothing fuzzier); the sentences a found quote covers become the item's evidence,
and an item whose quote is not in the article gets no evidence and counts as ungrounded. Predicted timeframes
go through our rule-based resolver too, so the timeframe row compares extraction, not date arithmetic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import instructor
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, Field

from summarizer.article.model import Article
from summarizer.errors import ProviderError
from summarizer.eval.gold import Gold, failure_records, gold_article, load_gold_dir, outputs_by_article
from summarizer.extract.summarizer import Summarizer
from summarizer.grounding.assemble import quote_evidence
from summarizer.grounding.names import name_key
from summarizer.grounding.timeframes import resolve_timeframe
from summarizer.models.retry import final_error, sync_transport
from summarizer.runs.output import replacing_file
from summarizer.schema import (
    SCHEMA_VERSION,
    Actor,
    ArticleMeta,
    ArticleSummary,
    Claim,
    Prediction,
    Provenance,
    UsageTotals,
    Warning,
)

__all__ = [
    "NAIVE_PROMPT_HASH", "BaselineRun", "NaiveItem", "NaivePrediction", "NaiveSummary", "missing_outputs",
    "naive_summarize", "run_baseline",
]  # fmt: skip

SYSTEM = "You summarize news articles as structured data."
INSTRUCTION = (
    "List the actors (people, organizations, countries, groups) named in this article, and the claims, "
    "predictions and warnings it reports. For each item give the speaker, the statement in one sentence, and "
    "a quote copied exactly from the article."
)
NAIVE_PROMPT_HASH = hashlib.sha256(f"{SYSTEM}\n{INSTRUCTION}".encode()).hexdigest()
_VOICE = {"", "article", "the article", "narrator", "author", "reporter"}  # the article's own voice


class NaiveItem(BaseModel):
    """One claim or warning, as plain strings."""

    speaker: str = Field(description="Who said it.")
    statement: str = Field(description="What was said, in one sentence.")
    quote: str = Field(description="The exact words from the article.")


class NaivePrediction(NaiveItem):
    """One prediction, as plain strings."""

    timeframe: str | None = Field(default=None, description="When it is expected to happen, or null.")


class NaiveSummary(BaseModel):
    """The whole answer: a summary, actor names, and the items."""

    summary: str = Field(description="A short summary of the article.")
    actors: list[str] = Field(description="Names of the actors.")
    claims: list[NaiveItem] = Field(description="Claims made in the article.")
    predictions: list[NaivePrediction] = Field(description="Predictions made in the article.")
    warnings: list[NaiveItem] = Field(description="Warnings made in the article.")


def _messages(article: Article) -> list[dict[str, str]]:
    date = article.date.isoformat() if article.date else None
    user = "\n\n".join(x for x in (INSTRUCTION, article.title, date, article.text) if x)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _to_summary(article: Article, draft: NaiveSummary, provenance: Provenance) -> ArticleSummary:
    """The naive answer in the output schema, with no merging, repair or filtering beyond locating quotes."""
    actors = [Actor(id=f"A{i}", name=name.strip(), kind="other", role="", aliases=[])
              for i, name in enumerate((n for n in draft.actors if n.strip()), start=1)]
    by_key = {name_key(a.name): a for a in reversed(actors)}

    def common(prefix: str, i: int, item: NaiveItem) -> dict[str, Any]:
        """Id, speaker (an actor by name if the model listed one, else the name as given) and evidence."""
        actor = by_key.get(name_key(item.speaker))
        voice = item.speaker.strip().lower() in _VOICE
        return {"id": f"{prefix}{i}", "actor_id": None if voice or not actor else actor.id,
                "actor": "(article)" if voice else actor.name if actor else item.speaker.strip(),
                "statement": item.statement, "evidence": quote_evidence(article, item.quote)}

    claims = [Claim(**common("C", i, c)) for i, c in enumerate(draft.claims, start=1)]
    predictions = [Prediction(**common("P", i, p), timeframe_text=p.timeframe, condition=None,
                              timeframe=resolve_timeframe(p.timeframe, article.date), certainty="likely")
                   for i, p in enumerate(draft.predictions, start=1)]
    warnings = [Warning(**common("W", i, w), addressees=[], consequence=None, condition=None)
                for i, w in enumerate(draft.warnings, start=1)]
    meta = ArticleMeta(id=article.id, title=article.title, date=article.date, source=article.source,
                       path=article.path, sentences=len(article.sentences), text=article.text)
    return ArticleSummary(article=meta, summary=draft.summary, actors=actors, claims=claims,
                          predictions=predictions, warnings=warnings, provenance=provenance)


def naive_summarize(article: Article, summarizer: Summarizer) -> ArticleSummary:
    """One instructor call with the naive prompt and schema through `summarizer`'s backend; no re-ask.

    Transport failures still go through the same tenacity layer (a flaky server says nothing about quality),
    and every attempt is recorded, so tokens and attempts compare like for like. An answer that does not parse
    raises `ValidationFailedError` after that single attempt.
    """
    log = summarizer.attempt_log()
    log.step = "naive"
    started = dt.datetime.now(dt.UTC)
    backend = summarizer.backend.info
    create = instructor.patch(create=sync_transport(summarizer.backend.plain_create(), summarizer.policy, log),
                              mode=backend.mode)
    try:
        draft = create(response_model=NaiveSummary, max_retries=0, hooks=log.hooks(),
                       messages=_messages(article), model=backend.model,
                       temperature=summarizer.params.temperature, max_tokens=summarizer.params.max_tokens)
    except (InstructorRetryException, IncompleteOutputException, ProviderError) as exc:
        raise final_error(exc, log) from None
    provenance = Provenance(
        model=backend.model, backend=backend.label, mode=backend.mode.value, prompt_hash=NAIVE_PROMPT_HASH,
        schema_version=SCHEMA_VERSION, attempts=log.records, usage=UsageTotals(**log.usage.as_dict()),
        started_at=started, finished_at=dt.datetime.now(dt.UTC),
    )
    return _to_summary(article, draft, provenance)


@dataclass
class BaselineRun:
    """What `run_baseline` wrote and which articles failed (with the reason)."""

    written: list[Path] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)


def missing_outputs(gold_dir: Path, out_dir: Path, articles_dir: Path | None = None) -> int:
    """How many gold articles have neither an output in `out_dir` nor a recorded failure."""
    return len(_todo(gold_dir, out_dir, articles_dir))


def _todo(gold_dir: Path, out_dir: Path, articles_dir: Path | None) -> list[tuple[Gold, Article]]:
    failed = {r["article_id"] for r in failure_records(out_dir)}
    done = outputs_by_article(out_dir)
    todo = []
    for path, gold in load_gold_dir(gold_dir):
        article = gold_article(gold, path, articles_dir)
        if article.id not in failed and article.id not in done:
            todo.append((gold, article))
    return todo


def run_baseline(gold_dir: Path, out_dir: Path, summarizer: Summarizer, *, articles_dir: Path | None = None,
                 ) -> BaselineRun:
    """Summarise every gold article naively into `OUT_DIR/<article_id>.json`; failures to failures.jsonl.

    Resumable: an article with an output or a recorded failure is not run again (a failure is the baseline's
    result for that article; delete failures.jsonl to retry). Every file is written whole.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    earlier = failure_records(out_dir)
    run = BaselineRun()
    for gold, article in _todo(gold_dir, out_dir, articles_dir):
        target = out_dir / f"{article.id}.json"
        try:
            summary = naive_summarize(article, summarizer)
        except ProviderError as exc:
            run.failed.append({"article": gold.article, "article_id": article.id, "reason": exc.reason,
                               "error": str(exc)[:500]})
            continue
        with replacing_file(target) as stream:
            stream.write(summary.model_dump_json(indent=2))
        run.written.append(target)
    with replacing_file(out_dir / "failures.jsonl") as stream:
        stream.writelines(json.dumps(f, ensure_ascii=False) + "\n" for f in [*earlier, *run.failed])
    return run
