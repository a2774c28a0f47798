"""What a result looks like to a reader: the Markdown report, the index, and the CSV rows of a summary.

Article text, titles and names are untrusted: Markdown special characters are escaped, and a CSV cell that
would run as a spreadsheet formula is neutralised.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping

from summarizer.schema import ArticleSummary, Claim, Prediction, Warning

__all__ = ["COLUMNS", "csv_rows", "index_row", "markdown_index", "markdown_report", "safe_cell"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_BASE = ["article_id", "article_title", "article_date"]
_ITEM = [*_BASE, "item_id", "actor_id", "actor", "statement", "sentences", "evidence", "quote"]
COLUMNS: Mapping[str, list[str]] = {
    "actors": [*_BASE, "actor_id", "name", "kind", "role", "aliases"],
    "claims": _ITEM,
    "predictions": [*_ITEM, "timeframe_text", "timeframe_start", "timeframe_end", "condition", "certainty"],
    "warnings": [*_ITEM, "addressees", "consequence", "condition"],
}


# --------------------------------------------------------------------------- CSV


def safe_cell(value: object) -> object:
    """Article text is untrusted: a cell starting with = + - @ would run as a spreadsheet formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(summary: ArticleSummary) -> dict[str, list[list[str]]]:
    """One row per actor and per item, with the article's id, title and date and the evidence text."""
    meta = summary.article
    base = [meta.id, meta.title or "", meta.date.isoformat() if meta.date else ""]

    def item(it: Claim | Prediction | Warning) -> list[str]:
        ev = it.evidence
        return [*base, it.id, it.actor_id or "", it.actor, it.statement,
                ";".join(str(s.sentence) for s in ev.sentences), " ".join(s.text for s in ev.sentences),
                ev.quote.text if ev.quote else ""]

    return {
        "actors": [[*base, a.id, a.name, a.kind, a.role, "; ".join(a.aliases)] for a in summary.actors],
        "claims": [item(c) for c in summary.claims],
        "predictions": [[*item(p), p.timeframe_text or "",
                         p.timeframe.start.isoformat() if p.timeframe else "",
                         p.timeframe.end.isoformat() if p.timeframe else "", p.condition or "", p.certainty]
                        for p in summary.predictions],
        "warnings": [[*item(w), "; ".join(w.addressees), w.consequence or "", w.condition or ""]
                     for w in summary.warnings],
    }


# --------------------------------------------------------------------------- Markdown


def _md(text: str | None) -> str:
    """Text from articles and models, safe inside Markdown (no markup, no raw HTML, one line)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def _evidence(it: Claim | Prediction | Warning) -> list[str]:
    lines = [f"> \\[{s.sentence}\\] {_md(s.text)}  " for s in it.evidence.sentences]
    if it.evidence.quote:
        lines.append(f"> Quote: “{_md(it.evidence.quote.text)}”")
    if it.evidence.re_anchored_from:
        cited = ", ".join(f"[{n}]" for n in it.evidence.re_anchored_from)
        lines.append(f"> *The model cited {_md(cited)}; the statement copies the sentence shown, so it is cited "
                     "instead.*")
    return lines


def _details(pairs: Iterable[tuple[str, str | None]]) -> list[str]:
    shown = [f"{label}: {_md(value)}" for label, value in pairs if value]
    return [" · ".join(shown) + "  "] if shown else []


def markdown_report(summary: ArticleSummary) -> str:
    """A readable report of one result: summary, actors, then each item with its actor and evidence."""
    meta, prov = summary.article, summary.provenance
    header = [meta.date.isoformat() if meta.date else None, meta.source, meta.path, f"id {meta.id[:12]}"]
    out = [f"# {_md(meta.title) or 'Untitled article'}", "", " · ".join(_md(h) for h in header if h), "",
           "## Summary", "", _md(summary.summary), ""]
    out += [f"## Actors ({len(summary.actors)})", ""]
    if summary.actors:
        out += ["| Actor | Kind | Role | Also called |", "|---|---|---|---|"]
        out += [f"| {_md(a.name)} | {a.kind} | {_md(a.role)} | {_md(', '.join(a.aliases))} |"
                for a in summary.actors]
        out.append("")
    sections: list[tuple[str, list[Claim] | list[Prediction] | list[Warning]]] = [
        ("Claims", summary.claims), ("Predictions", summary.predictions), ("Warnings", summary.warnings)]
    for title, items in sections:
        out += [f"## {title} ({len(items)})", ""]
        for it in items:
            out.append(f"**{it.id} · {_md(it.actor)}**: {_md(it.statement)}  ")
            if isinstance(it, Prediction):
                when = it.timeframe_text
                if when and it.timeframe:
                    when = f"{when} ({it.timeframe.start} – {it.timeframe.end})"
                out += _details([("When", when), ("Certainty", it.certainty), ("If", it.condition)])
            elif isinstance(it, Warning):
                out += _details([("To", ", ".join(it.addressees)), ("Consequence", it.consequence),
                                 ("If", it.condition)])
            out += [*_evidence(it), ""]
    usage = prov.usage
    out += ["---", "", f"Model {_md(prov.model)} ({prov.backend}) · prompt {prov.prompt_hash[:12]} · "
            f"{usage.prompt_tokens} tokens in, {usage.completion_tokens} out · "
            f"{len(prov.attempts)} request(s)", ""]
    return "\n".join(out)


def index_row(name: str, summary: ArticleSummary) -> list[str]:
    """One article's line of index.md, linking to its report `<name>.md`."""
    meta = summary.article
    link = urllib.parse.quote(f"{name}.md")
    return [f"[{_md(meta.title) or _md(name)}]({link})", meta.date.isoformat() if meta.date else "",
            *(str(len(x)) for x in (summary.actors, summary.claims, summary.predictions, summary.warnings))]


def markdown_index(rows: list[list[str]]) -> str:
    """index.md: one line per article with links to its report."""
    out = [f"# Summaries ({len(rows)} articles)", "",
           "| Article | Date | Actors | Claims | Predictions | Warnings |", "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"
