"""`OUT/summaries.sqlite`: the run's results as tables with keys, for Datasette, DuckDB, pandas or a BI tool.

It holds exactly what `summaries.jsonl` and the CSV tables hold (this run's results, in the same order), plus
the run-wide actor index, and is rebuilt whole at the end of every run: written to a new file in
`OUT/.summarizer/tmp/` and moved into place with `os.replace`, so a reader sees the old database or the new one.

Tables (dates are ISO `YYYY-MM-DD` text, times ISO 8601 UTC text, lists JSON arrays):

- `articles`: one row per result, keyed by its output `name` (`OUT/<name>.json`, `runs/names.py`).
- `actors`, `claims`, `predictions`, `warnings`: keyed by (`article`, `id`), `article` referencing
  `articles.name`; an item's (`article`, `actor_id`) references `actors` (null for the article's own voice).
- `warning_addressees`: one row per addressee of a warning, with the article's actor it names, if any.
- `evidence`: one row per cited sentence (`kind` 'sentence') or quote (`kind` 'quote') of an item, with its
  code-point offsets into `articles.text` (`substr(text, start_offset + 1, end_offset - start_offset)`).
- `actor_index`: the run-wide actor index (`actors_index.csv`), `id` its 1-based rank; `actors.index_id`
  says which index row an article's actor was counted in.
- `items` (a view): claims, predictions and warnings in one list, for joins with `evidence`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from summarizer.grounding.names import name_key
from summarizer.runs.actor_index import ActorRow
from summarizer.schema import Actor, ArticleSummary, Claim, Evidence, Prediction, Warning

__all__ = ["DATABASE", "DATABASE_VERSION", "SCHEMA", "SummaryDatabase", "building_database"]

DATABASE = "summaries.sqlite"
DATABASE_VERSION = 1  # PRAGMA user_version: raised whenever a table or column changes

SCHEMA = """
CREATE TABLE articles (
    name              TEXT PRIMARY KEY,            -- output name: OUT/<name>.json and .md
    position          INTEGER NOT NULL UNIQUE,     -- line number in summaries.jsonl (1-based)
    article_id        TEXT NOT NULL,               -- sha256 of the normalised text
    title             TEXT,
    date              TEXT,                        -- YYYY-MM-DD
    source            TEXT,
    path              TEXT,                        -- the input file
    sentences         INTEGER NOT NULL,            -- how many sentences the article was split into
    summary           TEXT NOT NULL,
    model             TEXT NOT NULL,
    backend           TEXT NOT NULL,
    prompt_hash       TEXT NOT NULL,
    schema_version    TEXT NOT NULL,
    chunks            INTEGER NOT NULL,
    requests          INTEGER NOT NULL,            -- HTTP requests made, failed ones included
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    started_at        TEXT NOT NULL,
    finished_at       TEXT NOT NULL,
    text              TEXT                         -- the text every offset counts in (code points)
);
CREATE INDEX articles_article_id ON articles (article_id);
CREATE INDEX articles_date ON articles (date);

CREATE TABLE actor_index (
    id               INTEGER PRIMARY KEY,          -- rank in actors_index.csv (1-based)
    name             TEXT NOT NULL,                -- the fullest name any article uses
    kinds            TEXT NOT NULL,                -- JSON array
    aliases          TEXT NOT NULL,                -- JSON array
    articles         INTEGER NOT NULL,
    claims           INTEGER NOT NULL,
    predictions      INTEGER NOT NULL,
    warnings         INTEGER NOT NULL,
    possibly_same_as TEXT NOT NULL                 -- JSON array of actor_index names, not merged
);
CREATE INDEX actor_index_name ON actor_index (name);

CREATE TABLE actors (
    article  TEXT NOT NULL REFERENCES articles (name),
    id       TEXT NOT NULL,                        -- A1, A2, … within the article
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('person', 'organization', 'country', 'group', 'other')),
    role     TEXT NOT NULL,
    aliases  TEXT NOT NULL,                        -- JSON array
    index_id INTEGER REFERENCES actor_index (id),  -- the run-wide actor it was counted in
    PRIMARY KEY (article, id)
);
CREATE INDEX actors_index_id ON actors (index_id);
CREATE INDEX actors_name ON actors (name);

CREATE TABLE claims (
    article          TEXT NOT NULL REFERENCES articles (name),
    id               TEXT NOT NULL,                -- C1, C2, …
    actor_id         TEXT,                         -- null: the article's own voice
    actor            TEXT NOT NULL,
    statement        TEXT NOT NULL,
    re_anchored_from TEXT,                         -- JSON array: the sentences the model cited, if replaced
    PRIMARY KEY (article, id),
    FOREIGN KEY (article, actor_id) REFERENCES actors (article, id)
);
CREATE INDEX claims_actor ON claims (article, actor_id);

CREATE TABLE predictions (
    article          TEXT NOT NULL REFERENCES articles (name),
    id               TEXT NOT NULL,                -- P1, P2, …
    actor_id         TEXT,
    actor            TEXT NOT NULL,
    statement        TEXT NOT NULL,
    re_anchored_from TEXT,
    timeframe_text   TEXT,                         -- as written ("in the coming days")
    timeframe_start  TEXT,                         -- YYYY-MM-DD, resolved against the article's date
    timeframe_end    TEXT,                         -- YYYY-MM-DD
    timeframe_rule   TEXT,                         -- how it was resolved
    condition        TEXT,
    certainty        TEXT NOT NULL CHECK (certainty IN ('certain', 'likely', 'possible', 'uncertain')),
    PRIMARY KEY (article, id),
    FOREIGN KEY (article, actor_id) REFERENCES actors (article, id)
);
CREATE INDEX predictions_actor ON predictions (article, actor_id);
CREATE INDEX predictions_timeframe ON predictions (timeframe_end, timeframe_start);

CREATE TABLE warnings (
    article          TEXT NOT NULL REFERENCES articles (name),
    id               TEXT NOT NULL,                -- W1, W2, …
    actor_id         TEXT,
    actor            TEXT NOT NULL,
    statement        TEXT NOT NULL,
    re_anchored_from TEXT,
    addressees       TEXT NOT NULL,                -- JSON array of names (one row each in warning_addressees)
    consequence      TEXT,
    condition        TEXT,
    PRIMARY KEY (article, id),
    FOREIGN KEY (article, actor_id) REFERENCES actors (article, id)
);
CREATE INDEX warnings_actor ON warnings (article, actor_id);

CREATE TABLE warning_addressees (
    article   TEXT NOT NULL,
    warning   TEXT NOT NULL,
    position  INTEGER NOT NULL,                    -- 1-based, in the warning's order
    addressee TEXT NOT NULL,                       -- the name as given
    actor_id  TEXT,                                -- the article's actor of that name, if any
    PRIMARY KEY (article, warning, position),
    FOREIGN KEY (article, warning) REFERENCES warnings (article, id),
    FOREIGN KEY (article, actor_id) REFERENCES actors (article, id)
);
CREATE INDEX warning_addressees_actor ON warning_addressees (article, actor_id);
CREATE INDEX warning_addressees_addressee ON warning_addressees (addressee);

CREATE TABLE evidence (
    article      TEXT NOT NULL REFERENCES articles (name),
    item         TEXT NOT NULL,                    -- the id of a claim (C…), prediction (P…) or warning (W…)
    kind         TEXT NOT NULL CHECK (kind IN ('sentence', 'quote')),
    position     INTEGER NOT NULL,                 -- 1-based among the item's spans of this kind
    sentence     INTEGER,                          -- the sentence number (for a quote: the sentence it starts in)
    start_offset INTEGER NOT NULL,                 -- code points into articles.text
    end_offset   INTEGER NOT NULL,                 -- exclusive
    text         TEXT NOT NULL,                    -- verbatim
    PRIMARY KEY (article, item, kind, position)
);

CREATE VIEW items (article, id, type, actor_id, actor, statement) AS
    SELECT article, id, 'claim', actor_id, actor, statement FROM claims
    UNION ALL SELECT article, id, 'prediction', actor_id, actor, statement FROM predictions
    UNION ALL SELECT article, id, 'warning', actor_id, actor, statement FROM warnings;
"""


def _json(values: Sequence[object] | None) -> str | None:
    return None if values is None else json.dumps(list(values), ensure_ascii=False)


class SummaryDatabase:
    """Fills a new, empty database: one `add` per result in order, then `add_actor_index` once."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.position = 0
        # (article id, name key) → the actors of that name, to link them to the actor index at the end.
        self._actors: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version = {DATABASE_VERSION}")

    def add(self, name: str, summary: ArticleSummary) -> None:
        """One result and everything in it, under its output name."""
        meta, prov = summary.article, summary.provenance
        self.position += 1
        self.db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, self.position, meta.id, meta.title, meta.date.isoformat() if meta.date else None, meta.source,
             meta.path, meta.sentences, summary.summary, prov.model, prov.backend, prov.prompt_hash,
             prov.schema_version, prov.chunks, len(prov.attempts), prov.usage.prompt_tokens,
             prov.usage.completion_tokens, prov.started_at.isoformat(), prov.finished_at.isoformat(), meta.text))
        self.db.executemany("INSERT INTO actors VALUES (?, ?, ?, ?, ?, ?, NULL)", [
            (name, a.id, a.name, a.kind, a.role, _json(a.aliases)) for a in summary.actors])
        for actor in summary.actors:
            self._actors[meta.id, name_key(actor.name)].append((name, actor.id))
        self.db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?)", [
            (name, *self._item(c)) for c in summary.claims])
        self.db.executemany("INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (name, *self._item(p), p.timeframe_text,
             p.timeframe.start.isoformat() if p.timeframe else None,
             p.timeframe.end.isoformat() if p.timeframe else None,
             p.timeframe.rule if p.timeframe else None, p.condition, p.certainty) for p in summary.predictions])
        self.db.executemany("INSERT INTO warnings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (name, *self._item(w), _json(w.addressees), w.consequence, w.condition) for w in summary.warnings])
        self.db.executemany("INSERT INTO warning_addressees VALUES (?, ?, ?, ?, ?)", [
            (name, w.id, i, addressee, _actor_named(summary.actors, addressee))
            for w in summary.warnings for i, addressee in enumerate(w.addressees, 1)])
        items: list[Claim | Prediction | Warning] = [*summary.claims, *summary.predictions, *summary.warnings]
        self.db.executemany("INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (name, it.id, *span) for it in items for span in _spans(it.evidence)])

    @staticmethod
    def _item(it: Claim | Prediction | Warning) -> tuple[str, str | None, str, str, str | None]:
        return it.id, it.actor_id, it.actor, it.statement, _json(it.evidence.re_anchored_from)

    def add_actor_index(self, rows: Sequence[ActorRow]) -> None:
        """The run-wide actor index, and which index row each article's actor was counted in."""
        self.db.executemany("INSERT INTO actor_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (i, r.name, _json(r.kinds), _json(r.aliases), len(r.articles), r.claims, r.predictions, r.warnings,
             _json(r.possibly_same_as)) for i, r in enumerate(rows, 1)])
        # An index row groups actors by name across articles: an article's actor is in the row that lists the
        # article and carries the actor's name (as its name or an alias); left null if that is not one row.
        found: dict[tuple[str, str], set[int]] = defaultdict(set)
        canonical: dict[tuple[str, str], set[int]] = defaultdict(set)
        for i, r in enumerate(rows, 1):
            keys = {name_key(n) for n in (r.name, *r.aliases)}
            for mention in r.articles:
                for key in keys:
                    found[mention.id, key].add(i)
                canonical[mention.id, name_key(r.name)].add(i)
        links = []
        for where, actors in self._actors.items():
            rows_found = found.get(where, set())
            if len(rows_found) > 1:
                rows_found = rows_found & canonical.get(where, set())
            if len(rows_found) == 1:
                links += [(next(iter(rows_found)), article, actor) for article, actor in actors]
        self.db.executemany("UPDATE actors SET index_id = ? WHERE article = ? AND id = ?", links)


def _actor_named(actors: Sequence[Actor], addressee: str) -> str | None:
    """The id of the article's actor an addressee names (by its name, else by one alias), or None."""
    key = name_key(addressee)
    for candidates in ([a for a in actors if name_key(a.name) == key],
                       [a for a in actors if any(name_key(alias) == key for alias in a.aliases)]):
        if len(candidates) == 1:
            return candidates[0].id
        if candidates:
            return None
    return None


def _spans(evidence: Evidence) -> Iterator[tuple[str, int, int | None, int, int, str]]:
    """(kind, position, sentence, start, end, text) for each cited sentence, then the quote."""
    for i, s in enumerate(evidence.sentences, 1):
        yield "sentence", i, s.sentence, s.start, s.end, s.text
    if (q := evidence.quote) is not None:
        sentence = next((s.sentence for s in evidence.sentences if s.start <= q.start < s.end), None)
        yield "quote", 1, sentence, q.start, q.end, q.text


@contextlib.contextmanager
def building_database(path: Path, tmp_dir: Path) -> Iterator[SummaryDatabase]:
    """A new database that becomes `path` only when the block finishes without error.

    It is built in `tmp_dir` (on the same filesystem as `path`, so the final `os.replace` is atomic) with no
    journal (a half-built file is only ever a temp file, removed here or by the next run) and removed if the
    block fails.
    """
    tmp = tmp_dir / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            database = SummaryDatabase(db)  # the tables, then their rows in one transaction
            db.execute("BEGIN")
            yield database
            db.execute("COMMIT")
        finally:
            db.close()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
