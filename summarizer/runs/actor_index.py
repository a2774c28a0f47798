"""One index of actors for a whole run: who appears in which articles, how often they claim, predict, warn.

Actors are grouped across articles by the rules in `actors.py`, joining only on names and on aliases that look
like proper names: a descriptive alias ("the Ukrainian president") names different people in different
articles. Actors that may be one but were kept apart are listed in each other's `possibly_same_as`, for a
person to decide. A batch run writes the index as `actors_index.csv` and `actors_index.json`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from pydantic import BaseModel, Field, ValidationError

from summarizer.errors import ConfigurationError
from summarizer.grounding.names import Mention, fold, group_mentions, unique_aliases
from summarizer.schema import ArticleSummary

__all__ = [
    "INDEX_CSV", "INDEX_JSON", "ActorIndex", "ActorRow", "ArticleMention", "build_actor_index", "filter_rows",
    "load_actor_index", "to_json", "write_csv",
]  # fmt: skip

INDEX_CSV = "actors_index.csv"
INDEX_JSON = "actors_index.json"
INDEX_VERSION = "1"
_ITEMS = ("claims", "predictions", "warnings")
CSV_COLUMNS = ["name", "kinds", "aliases", "articles", "claims", "predictions", "warnings",
               "possibly_same_as", "article_ids", "article_titles"]


class ArticleMention(BaseModel):
    """One article an actor appears in, and what the actor says there."""

    id: str = Field(description="The article's id (sha256 of its text).")
    title: str | None = Field(default=None, description="The article's title, if known.")
    date: dt.date | None = Field(default=None, description="The article's date, if known.")
    claims: int = Field(default=0, description="Claims this actor makes in the article.")
    predictions: int = Field(default=0, description="Predictions this actor makes in the article.")
    warnings: int = Field(default=0, description="Warnings this actor gives in the article.")


class ActorRow(BaseModel):
    """One actor across the run."""

    name: str = Field(description="Canonical name: the fullest name any article uses.")
    kinds: list[str] = Field(description="Every kind the articles gave this actor.")
    aliases: list[str] = Field(description="Every other name seen for this actor.")
    articles: list[ArticleMention] = Field(description="The articles the actor appears in.")
    claims: int = Field(description="Claims over all articles.")
    predictions: int = Field(description="Predictions over all articles.")
    warnings: int = Field(description="Warnings over all articles.")
    possibly_same_as: list[str] = Field(
        default_factory=list, description="Other actors that may be this one; not merged, check by hand.")


class ActorIndex:
    """Collects the actors of summaries one at a time, keeping only names and counts, not whole summaries."""

    def __init__(self) -> None:
        self._mentions: list[Mention] = []
        self._where: list[ArticleMention] = []

    def add(self, summary: ArticleSummary) -> None:
        """Count one article's actors and what each of them says."""
        meta = summary.article
        said = Counter((field, item.actor_id) for field in _ITEMS for item in getattr(summary, field))
        for actor in summary.actors:
            self._mentions.append(Mention(actor.name, tuple(actor.aliases), actor.kind))
            self._where.append(ArticleMention(
                id=meta.id, title=meta.title, date=meta.date, claims=said["claims", actor.id],
                predictions=said["predictions", actor.id], warnings=said["warnings", actor.id]))

    def rows(self) -> list[ActorRow]:
        """One row per actor: most articles first, then most items, then by name."""
        groups = group_mentions(self._mentions, trust_aliases=False)
        rows = [self._row(members, name, [groups.canonical[g] for g in sorted(groups.uncertain[i])])
                for i, (members, name) in enumerate(zip(groups.members, groups.canonical, strict=True))]
        return sorted(rows, key=lambda r: (-len(r.articles), -(r.claims + r.predictions + r.warnings),
                                           fold(r.name)))

    def _row(self, members: list[int], name: str, maybe: list[str]) -> ActorRow:
        names = [n for i in members for n in (self._mentions[i].name, *self._mentions[i].aliases)]
        articles: dict[str, ArticleMention] = {}
        for i in members:
            seen = self._where[i]
            if seen.id in articles:  # two entries of one article that are one actor across the run
                known = articles[seen.id]
                known.claims += seen.claims
                known.predictions += seen.predictions
                known.warnings += seen.warnings
            else:
                articles[seen.id] = seen.model_copy()
        found = list(articles.values())
        kinds = sorted({self._mentions[i].kind for i in members})
        return ActorRow(
            name=name, kinds=kinds, aliases=unique_aliases(names, name), articles=found,
            claims=sum(a.claims for a in found), predictions=sum(a.predictions for a in found),
            warnings=sum(a.warnings for a in found), possibly_same_as=maybe)


def build_actor_index(summaries: Iterable[ArticleSummary]) -> list[ActorRow]:
    """The index rows of a set of summaries."""
    index = ActorIndex()
    for summary in summaries:
        index.add(summary)
    return index.rows()


# --------------------------------------------------------------------------- files


def write_csv(rows: Iterable[ActorRow], stream: IO[str]) -> None:
    """actors_index.csv: one row per actor; lists joined with "; "."""
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r.name, "; ".join(r.kinds), "; ".join(r.aliases), len(r.articles), r.claims,
                         r.predictions, r.warnings, "; ".join(r.possibly_same_as),
                         "; ".join(a.id for a in r.articles), "; ".join(a.title or "" for a in r.articles)])


def to_json(rows: Iterable[ActorRow]) -> str:
    """actors_index.json: `{"version": "1", "actors": [...]}`."""
    actors = [r.model_dump(mode="json") for r in rows]
    return json.dumps({"version": INDEX_VERSION, "actors": actors}, ensure_ascii=False, indent=2) + "\n"


def load_actor_index(out: str | Path) -> list[ActorRow]:
    """The index of an output folder; rebuilt from summaries.jsonl when the folder predates the index."""
    out = Path(out)
    try:
        if (out / INDEX_JSON).is_file():
            data = json.loads((out / INDEX_JSON).read_text(encoding="utf-8"))
            return [ActorRow.model_validate(row) for row in data["actors"]]
        if (out / "summaries.jsonl").is_file():
            lines = (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()
            summaries = (ArticleSummary.model_validate_json(line) for line in lines if line.strip())
            return build_actor_index(summaries)
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as error:
        raise ConfigurationError(f"cannot read the actors index in {out}: {error}") from None
    raise ConfigurationError(f"{out} holds no {INDEX_JSON} or summaries.jsonl: run "
                             f"`summarizer run ... -o {out}` first")


def filter_rows(rows: Iterable[ActorRow], name: str) -> list[ActorRow]:
    """Rows whose name or an alias contains `name`, ignoring case and accents."""
    needle = fold(name).strip()
    return [r for r in rows if any(needle in fold(n) for n in (r.name, *r.aliases))]
