"""Quality against hand-made gold: a prompt or model change is a guess until it is measured.

Matching rules (the gold format and its conventions are in `fixtures/gold/README.md`):
- actors: one of a predicted actor's names (name + aliases) equals one of a gold actor's after `name_key`
  (case-, diacritic- and title-insensitive); each gold actor is matched at most once.
- items: same kind, overlapping evidence sentences, and the same polarity (a negation word in one statement
  and not the other is a reversed meaning, never a match); greedy one-to-one, largest overlap first.
  Attribution is then checked separately with the actor rule.
- timeframes: a matched prediction's resolved `timeframe.end` within ±3 days of the gold `timeframe_end`.
- verification: what the faithfulness checks (`grounding/verify.py`) re-asked and dropped, summed over the
  articles whose result records it (`provenance.verification`; None, e.g. an older result: not counted).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from summarizer.article.model import Article
from summarizer.errors import InputError
from summarizer.eval.gold import (
    KINDS,
    Gold,
    GoldItem,
    Kind,
    failure_records,
    gold_article,
    load_gold_dir,
    outputs_by_article,
)
from summarizer.grounding.assemble import span_problems, spans_of
from summarizer.grounding.names import name_key
from summarizer.grounding.verify import CHECKS
from summarizer.runs.pricing import PriceTable
from summarizer.schema import ARTICLE_VOICE, ArticleSummary

__all__ = [
    "TIMEFRAME_TOLERANCE_DAYS", "ArticleEval", "EvalReport", "Tally", "evaluate_article", "evaluate_dir",
    "names_match", "negated",
]  # fmt: skip

TIMEFRAME_TOLERANCE_DAYS = TOLERANCE = 3
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|none|nobody|nothing|neither|nor)\b|n['’]t\b", re.I)
_VOICE_NAMES = {"(article)", ARTICLE_VOICE, ""}
_TIMEFRAME_KEYS = ("dated", "matched", "correct")
_GROUNDING_KEYS = ("items", "grounded", "spans", "bad")
_ITEM_ONLY = ("attributed", "attribution", "polarity_rejected")
_VERIFICATION_ACTIONS = ("dropped", "reasked")


# --------------------------------------------------------------------------- matching and metrics


def names_match(a: Iterable[str], b: Iterable[str]) -> bool:
    """True when any name of one equals any name of the other after `name_key`."""
    keys = {name_key(x) for x in a} - {""}
    return any(k in keys for k in (name_key(y) for y in b) if k)


def negated(statement: str) -> bool:
    """Whether a statement carries a negation word: a cheap guard against reversed-meaning matches."""
    return _NEGATION.search(statement) is not None


@dataclass(frozen=True)
class _Pred:
    kind: Kind
    sentences: frozenset[int]
    statement: str
    names: tuple[str, ...]
    voice: bool
    timeframe_end: dt.date | None


def _predicted(summary: ArticleSummary) -> list[_Pred]:
    actors = {a.id: (a.name, *a.aliases) for a in summary.actors}
    out = []
    for kind in KINDS:
        for item in getattr(summary, kind):
            voice = item.actor_id is None and item.actor in _VOICE_NAMES
            names = actors.get(item.actor_id or "", ()) or (() if voice else (item.actor,))
            end = getattr(getattr(item, "timeframe", None), "end", None)
            cited = frozenset(s.sentence for s in item.evidence.sentences)
            out.append(_Pred(kind, cited, item.statement, names, voice, end))
    return out


def _attributed(gold: Gold, item: GoldItem, pred: _Pred) -> bool:
    for speaker in item.speakers:
        actor = gold.actor(speaker)
        if (speaker == ARTICLE_VOICE and pred.voice) or (actor and names_match(actor.names, pred.names)):
            return True
    return False


def _match(gold: Gold, items: Sequence[GoldItem], preds: Sequence[_Pred]) -> tuple[dict[int, int], int]:
    """Greedy one-to-one matching (gold index → pred index), and how many gold items polarity kept out."""
    pairs, blocked = [], set()
    for gi, item in enumerate(items):
        wanted = set(item.sentences)
        for pi, pred in enumerate(preds):
            if not wanted & pred.sentences:
                continue
            if negated(item.statement) != negated(pred.statement):
                blocked.add(gi)
                continue
            overlap = len(wanted & pred.sentences) / len(wanted | pred.sentences)
            pairs.append((-overlap, not _attributed(gold, item, pred), gi, pi))
    matched: dict[int, int] = {}
    for _, _, gi, pi in sorted(pairs):
        if gi not in matched and pi not in matched.values():
            matched[gi] = pi
    return matched, len(blocked - matched.keys())


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class Tally:
    """Counts behind precision, recall and attribution accuracy; they add up across articles."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0
    attributed: int = 0
    polarity_rejected: int = 0

    def add(self, other: Tally) -> None:
        for name in asdict(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched, self.predicted)

    @property
    def recall(self) -> float | None:
        return _ratio(self.matched, self.gold)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return None if r is None else (2 * p * r / (p + r) if p and r else 0.0)  # nothing predicted: 0

    @property
    def attribution(self) -> float | None:
        return _ratio(self.attributed, self.matched)

    def as_dict(self, *, items: bool = True) -> dict[str, Any]:
        """The counts and rates; attribution and polarity only mean something for items, not actors."""
        out = {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1,
               "attribution": self.attribution}
        return out if items else {k: v for k, v in out.items() if k not in _ITEM_ONLY}


@dataclass
class ArticleEval:
    """One article's counts, plus what was missed so an annotator or a prompt author can look."""

    article: str
    article_id: str
    output: str | None
    tallies: dict[str, Tally] = field(default_factory=dict)
    timeframe: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TIMEFRAME_KEYS, 0))
    grounding: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_GROUNDING_KEYS, 0))
    run: dict[str, Any] = field(default_factory=dict)
    missed: list[dict[str, Any]] = field(default_factory=list)
    verification: dict[str, dict[str, int]] | None = None  # the result's `provenance.verification`, as recorded


def _check_spans(summary: ArticleSummary, article: Article, counts: dict[str, int]) -> None:
    """Every evidence span must be the article text at its offsets, and sentence spans the cited sentence."""
    for kind in KINDS:
        for item in getattr(summary, kind):
            spans, bad = len(spans_of(item)), len(span_problems(item, article))
            values = (1, bool(item.evidence.sentences) and not bad, spans, bad)
            for key, value in zip(_GROUNDING_KEYS, values, strict=True):
                counts[key] += value


def _run_stats(summary: ArticleSummary) -> dict[str, Any]:
    """Valid at the first attempt means: the first answer of every step (extract, actors, items…) was ok."""
    run, first = summary.provenance, dict[str, str]()
    for record in run.attempts:
        first.setdefault(record.step, record.outcome)
    return {"first_attempt_valid": bool(first) and set(first.values()) == {"ok"}, "model": run.model,
            "attempts": len(run.attempts), **run.usage.model_dump()}


def evaluate_article(gold: Gold, article: Article, summary: ArticleSummary | None, output: str | None = None,
                     ) -> ArticleEval:
    """Score one article's output (None when the run produced none) against its gold."""
    result = ArticleEval(gold.article, gold.article_id, output)
    preds = _predicted(summary) if summary is not None else []
    actors = Tally(gold=len(gold.actors), predicted=len(summary.actors) if summary else 0)
    free = list(summary.actors) if summary else []
    for actor in gold.actors:
        hit = next((a for a in free if names_match(actor.names, (a.name, *a.aliases))), None)
        if hit is not None:
            free.remove(hit)
            actors.matched += 1
        else:
            result.missed.append({"kind": "actor", "name": actor.name})
    result.tallies["actors"] = actors
    everything: list[GoldItem] = []
    for kind in KINDS:
        items, mine = gold.items(kind), [p for p in preds if p.kind == kind]
        everything.extend(items)
        matched, blocked = _match(gold, items, mine)
        right = sum(_attributed(gold, items[g], mine[p]) for g, p in matched.items())
        result.tallies[kind] = Tally(len(items), len(mine), len(matched), right, blocked)
        for gi, item in enumerate(items):
            if gi not in matched:
                result.missed.append({"kind": kind, "sentences": item.sentences, "statement": item.statement})
            end = getattr(item, "timeframe_end", None)
            if end is not None:
                result.timeframe["dated"] += 1
                if gi in matched:
                    result.timeframe["matched"] += 1
                    got = mine[matched[gi]].timeframe_end
                    result.timeframe["correct"] += got is not None and abs((got - end).days) <= TOLERANCE
    hits, blocked_any = _match(gold, everything, preds)
    right = sum(_attributed(gold, everything[g], preds[p]) for g, p in hits.items())
    result.tallies["any_kind"] = Tally(len(everything), len(preds), len(hits), right, blocked_any)
    if summary is not None:
        _check_spans(summary, article, result.grounding)
        result.run = _run_stats(summary)
        recorded = summary.provenance.verification
        if recorded is not None:
            result.verification = {action: dict(recorded.get(action, {})) for action in _VERIFICATION_ACTIONS}
    return result


@dataclass
class EvalReport:
    """Totals over a gold set (micro-averaged: counts are summed, then divided) and the per-article detail."""

    label: str
    articles: list[ArticleEval]
    prices: PriceTable | None = None  # None: the default table of `summarizer.runs.pricing`
    failed_ids: Collection[str] = frozenset()  # article ids OUT_DIR/failures.jsonl lists: tried, and failed

    def total(self, name: str) -> Tally:
        tally = Tally()
        for article in self.articles:
            tally.add(article.tallies[name])
        return tally

    def summed(self, part: Literal["timeframe", "grounding"]) -> dict[str, int]:
        out = dict.fromkeys(_TIMEFRAME_KEYS if part == "timeframe" else _GROUNDING_KEYS, 0)
        for article in self.articles:
            for key, value in getattr(article, part).items():
                out[key] += value
        return out

    def verification(self) -> dict[str, Any]:
        """Items dropped and answers re-asked per faithfulness check, summed over the articles whose result
        records them; `articles` says how many did (results without a record are not counted)."""
        recorded = [a.verification for a in self.articles if a.verification is not None]
        out: dict[str, Any] = {action: dict.fromkeys(CHECKS, 0) for action in _VERIFICATION_ACTIONS}
        for counts in recorded:
            for action in _VERIFICATION_ACTIONS:
                for check, n in counts.get(action, {}).items():
                    out[action][check] = out[action].get(check, 0) + n
        return {**out, "articles": len(recorded)}

    def run(self) -> dict[str, Any]:
        """Run cost per article with output: validity at first attempt, attempts, tokens, cost."""
        runs = [a.run for a in self.articles if a.output is not None]
        n = len(runs)
        tokens = {k: sum(r[k] for r in runs) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        table = self.prices or PriceTable()
        costs = [table.cost(r["model"], r["prompt_tokens"], r["completion_tokens"]) for r in runs]
        cost = None if None in costs else float(sum(c or 0.0 for c in costs))  # None: a model has no price
        missing = [a for a in self.articles if a.output is None]
        failed = [a.article for a in missing if a.article_id in self.failed_ids]
        return {"articles": len(self.articles), "with_output": n, "missing": [a.article for a in missing],
                "failed": failed,  # an article that failed was tried, and its first attempt was not valid
                "first_attempt_valid": _ratio(sum(r["first_attempt_valid"] for r in runs), n + len(failed)),
                "attempts_per_article": _ratio(sum(r["attempts"] for r in runs), n),
                "tokens_per_article": _ratio(tokens["total_tokens"], n), **tokens,
                "cost_usd": cost, "cost_per_article_usd": None if cost is None else _ratio(cost, n)}

    def as_dict(self) -> dict[str, Any]:
        tf, gr = self.summed("timeframe"), self.summed("grounding")

        def tallies(pairs: Iterable[tuple[str, Tally]]) -> dict[str, Any]:
            return {name: tally.as_dict(items=name != "actors") for name, tally in pairs}
        return {
            "label": self.label, "timeframe_tolerance_days": TIMEFRAME_TOLERANCE_DAYS,
            "totals": {
                **tallies((name, self.total(name)) for name in ("actors", *KINDS, "any_kind")),
                "timeframe": {**tf, "accuracy": _ratio(tf["correct"], tf["matched"])},
                "grounding": {**gr, "validity": _ratio(gr["grounded"], gr["items"]),
                              "spans_valid": _ratio(gr["spans"] - gr["bad"], gr["spans"])},
                "run": self.run(),
                "verification": self.verification(),
            },
            "per_article": [{**asdict(a), "tallies": tallies(a.tallies.items())} for a in self.articles],
        }


def evaluate_dir(gold_dir: Path, out_dir: Path, *, articles_dir: Path | None = None, label: str = "ours",
                 prices: PriceTable | None = None) -> EvalReport:
    """Score every gold article against its result in OUT_DIR, found by article id (none: the run produced none)."""
    results = []
    outputs = outputs_by_article(out_dir)
    for path, gold in load_gold_dir(gold_dir):
        article = gold_article(gold, path, articles_dir)
        output = outputs.get(gold.article_id, out_dir / f"{gold.article_id}.json")
        summary = None
        if output.is_file():
            try:
                summary = ArticleSummary.model_validate_json(output.read_bytes())
            except ValidationError as exc:
                raise InputError(f"not an ArticleSummary: {exc}", path=str(output)) from None
        results.append(evaluate_article(gold, article, summary, str(output) if summary else None))
    return EvalReport(label, results, prices, {r["article_id"] for r in failure_records(out_dir)})
