"""The gold format: hand-made annotations of what a careful reader finds in an article (`fixtures/gold/`).

A gold file is tied to the exact text it was annotated on by `article_id`; its conventions are in
`fixtures/gold/README.md`. Also here: the failures a run recorded in its `failures.jsonl`, which an evaluation
counts as tried and failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from summarizer.article.model import Article
from summarizer.article.readers import read_article
from summarizer.errors import InputError
from summarizer.schema import ARTICLE_VOICE, ActorKind

__all__ = [
    "KINDS", "Gold", "GoldActor", "GoldItem", "GoldPrediction", "Kind", "failure_records", "gold_article",
    "load_gold", "load_gold_dir", "load_gold_file", "outputs_by_article",
]  # fmt: skip

Kind = Literal["claims", "predictions", "warnings"]
_ARTICLE_ID = re.compile(r"\A[0-9a-f]{64}\Z")
KINDS: tuple[Kind, ...] = ("claims", "predictions", "warnings")


class _GoldModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class GoldActor(_GoldModel):
    """An actor a careful reader finds in the article, with every name the text uses for it."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    kind: ActorKind

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]


class GoldItem(_GoldModel):
    """A claim, prediction or warning: who said it, where (sentence numbers), and what."""

    actor: str | list[str]
    sentences: list[int] = Field(min_length=1)
    statement: str

    @property
    def speakers(self) -> list[str]:
        return [self.actor] if isinstance(self.actor, str) else list(self.actor)


class GoldPrediction(GoldItem):
    """A prediction; `timeframe_end` is the latest date a reader takes the timeframe to mean."""

    timeframe_end: dt.date | None = None


class Gold(_GoldModel):
    """One article's gold annotation, tied to the exact text by `article_id`."""

    article: str
    article_id: str
    origin: str = Field(alias="_origin")
    actors: list[GoldActor]
    claims: list[GoldItem] = Field(default_factory=list)
    predictions: list[GoldPrediction] = Field(default_factory=list)
    warnings: list[GoldItem] = Field(default_factory=list)
    # The exact text the sentence numbers count in (a review export carries it: `runs/review.py`); when given,
    # the article is built from it instead of read from the articles folder, and checked against `article_id`.
    text: str | None = None

    @model_validator(mode="after")
    def _speakers_known(self) -> Gold:
        known = {a.name for a in self.actors} | {ARTICLE_VOICE}
        for kind in KINDS:
            for i, item in enumerate(self.items(kind)):
                if unknown := [s for s in item.speakers if s not in known]:
                    raise ValueError(f"{kind}[{i}].actor {unknown} is not a gold actor or {ARTICLE_VOICE!r}")
        return self

    def items(self, kind: Kind) -> Sequence[GoldItem]:
        return getattr(self, kind)  # type: ignore[no-any-return]

    def actor(self, name: str) -> GoldActor | None:
        return next((a for a in self.actors if a.name == name), None)


def load_gold(path: Path) -> Gold:
    """Read one gold file; a malformed file is an InputError naming the problem."""
    try:
        return Gold.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise InputError(f"not a readable gold annotation: {exc}", path=str(path)) from None


def load_gold_dir(gold_dir: Path) -> list[tuple[Path, Gold]]:
    """Every `*.json` gold file of a folder, in name order; or the annotations of one file (a review export
    from review.html: a JSON array of gold annotations, or a single one)."""
    if gold_dir.is_file():
        return load_gold_file(gold_dir)
    if not (paths := sorted(gold_dir.glob("*.json"))):
        raise InputError("holds no gold *.json files", path=str(gold_dir))
    return [(path, load_gold(path)) for path in paths]


def gold_article(gold: Gold, gold_path: Path, articles_dir: Path | None = None) -> Article:
    """The article a gold file annotates, checked by id: built from the gold's own `text` when it carries one
    (a review export), else read from `articles_dir` (default: the gold folder's sibling `articles/`)."""
    if gold.text is not None:
        article = Article.from_text(gold.text, path=gold.article)
        if article.id != gold.article_id:
            raise InputError(f"the text given for {gold.article} is not the text this gold was annotated on "
                             "(article_id differs)", path=str(gold_path))
    else:
        folder = articles_dir if articles_dir is not None else gold_path.parent.parent / "articles"
        article = read_article(folder / gold.article)
    if article.id != gold.article_id:
        raise InputError(f"{gold.article} is not the text this gold was annotated on (article_id differs); "
                         "re-annotate or restore the article", path=str(gold_path))
    n = len(article.sentences)
    for kind in KINDS:
        for i, item in enumerate(gold.items(kind)):
            if any(not 1 <= s <= n for s in item.sentences):
                raise InputError(f"{kind}[{i}] cites {item.sentences}; the article has sentences 1-{n}",
                                 path=str(gold_path))
    return article


def load_gold_file(path: Path) -> list[tuple[Path, Gold]]:
    """The annotations of one file: a JSON array of gold annotations (review.html's export) or one annotation."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable gold file: {exc}", path=str(path)) from None
    entries = data if isinstance(data, list) else [data]
    if not entries:
        raise InputError("holds no gold annotations (export verdicts from review.html first)", path=str(path))
    found = []
    for i, entry in enumerate(entries, start=1):
        try:
            found.append((path, Gold.model_validate(entry)))
        except ValidationError as exc:
            raise InputError(f"annotation {i} is not a readable gold annotation: {exc}", path=str(path)) from None
    return found


def failure_records(out_dir: Path) -> list[dict[str, Any]]:
    """The records of OUT_DIR/failures.jsonl that name an article id (`summarizer run` and the baseline both
    write one); unreadable lines are skipped."""
    records: list[dict[str, Any]] = []
    path = out_dir / "failures.jsonl"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and isinstance(record.get("article_id"), str):
                    records.append(record)
    return records


def outputs_by_article(out_dir: Path) -> dict[str, Path]:
    """The result file of each article id in a run's folder, whatever the files are called: `<article id>.json`
    (the baseline's names) first, then any result that says which article it is (`summarizer run` names its
    files after their inputs). Other files are passed over; the first file of an id, in path order, wins."""
    if not out_dir.is_dir():
        return {}
    found = {path.stem: path for path in sorted(out_dir.glob("*.json")) if _ARTICLE_ID.match(path.stem)}
    for path in sorted(out_dir.rglob("*.json")):
        if path.stem in found or any(part.startswith(".") for part in path.relative_to(out_dir).parts):
            continue  # named by id already, or the run's own store and temp files
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        article = data.get("article") if isinstance(data, dict) else None
        if isinstance(article, dict) and isinstance(article.get("id"), str) and "provenance" in data:
            found.setdefault(article["id"], path)
    return found
