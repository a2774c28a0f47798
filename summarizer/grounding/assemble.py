"""Assembly: a validated draft becomes the user-facing `ArticleSummary`, its evidence taken from the article.

The model cited sentence numbers; here the verbatim text and character offsets of those sentences (and of an
exact quote) are filled in from the article itself, so `article.text[start:end] == span.text` holds for every
span. `span_problems` checks that promise on any result, ours or a baseline's.
"""

from __future__ import annotations

from collections.abc import Sequence

from summarizer.article.model import Article
from summarizer.grounding.answers import Extraction
from summarizer.grounding.checks import find_verbatim, quote_span
from summarizer.grounding.timeframes import resolve_timeframe
from summarizer.schema import (
    ARTICLE_VOICE,
    ActorDraft,
    ArticleMeta,
    ArticleSummary,
    Claim,
    Evidence,
    ItemDraft,
    Prediction,
    Provenance,
    SentenceSpan,
    Span,
    Warning,
)
from summarizer.schema import Actor as ActorOut

__all__ = ["build_summary", "evidence_for", "quote_evidence", "span_problems", "verify_summary"]


def evidence_for(article: Article, item: ItemDraft) -> Evidence:
    """Fill in the verbatim text and offsets of the cited sentences (and the quote, if any)."""
    spans = []
    for n in item.sentences:
        s = article.sentence(n)
        spans.append(SentenceSpan(sentence=n, start=s.start, end=s.end, text=article.text[s.start:s.end]))
    quote = None
    if item.quote:
        found = quote_span(article, item)
        if found is not None:
            quote = Span(start=found[0], end=found[1], text=article.text[found[0]:found[1]])
    return Evidence(sentences=spans, quote=quote, re_anchored_from=item._model_cited)


def build_summary(
    article: Article,
    summary: str,
    actors: Sequence[ActorDraft],
    items: Extraction,
    provenance: Provenance,
) -> ArticleSummary:
    """Assemble the user-facing summary from validated drafts."""
    names = {a.id: a.name for a in actors}

    def who(item: ItemDraft) -> tuple[str | None, str]:
        actor_id = None if item.actor == ARTICLE_VOICE else item.actor
        return actor_id, names.get(actor_id or "", "(article)")

    claims, predictions, warnings = [], [], []
    for i, c in enumerate(items.claims, 1):
        aid, name = who(c)
        claims.append(Claim(id=f"C{i}", actor_id=aid, actor=name, statement=c.statement.strip(),
                            evidence=evidence_for(article, c)))
    for i, p in enumerate(items.predictions, 1):
        aid, name = who(p)
        predictions.append(Prediction(
            id=f"P{i}", actor_id=aid, actor=name, statement=p.statement.strip(),
            evidence=evidence_for(article, p), timeframe_text=p.timeframe,
            timeframe=resolve_timeframe(p.timeframe, article.date), condition=p.condition,
            certainty=p.certainty,
        ))
    for i, w in enumerate(items.warnings, 1):
        aid, name = who(w)
        addressees = [names.get(a, a) for a in w.addressees]
        warnings.append(Warning(
            id=f"W{i}", actor_id=aid, actor=name, statement=w.statement.strip(),
            evidence=evidence_for(article, w), addressees=addressees, consequence=w.consequence,
            condition=w.condition,
        ))
    return ArticleSummary(
        article=ArticleMeta(id=article.id, title=article.title, date=article.date, source=article.source,
                            path=article.path, sentences=len(article.sentences), text=article.text),
        summary=summary.strip(),
        actors=[ActorOut(id=a.id, name=a.name.strip(), kind=a.kind, role=a.role.strip(), aliases=a.aliases)
                for a in actors],
        claims=claims,
        predictions=predictions,
        warnings=warnings,
        provenance=provenance,
    )


def quote_evidence(article: Article, quote: str) -> Evidence:
    """The sentences a verbatim quote covers; no evidence at all when the quote is not in the article.

    For answers that copy quotes instead of citing sentence numbers (the naive baseline): the quote is looked
    up exactly, up to whitespace and quote characters, as the validators compare quotes.
    """
    found = find_verbatim(article.text, quote)
    if found is None:
        return Evidence(sentences=[])
    start, end = found
    sentences = [SentenceSpan(sentence=s.n, start=s.start, end=s.end, text=s.text)
                 for s in article.sentences if s.start < end and s.end > start]
    return Evidence(sentences=sentences, quote=Span(start=start, end=end, text=article.text[start:end]))


def spans_of(item: Claim | Prediction | Warning) -> list[Span]:
    """Every span an item's evidence holds: its sentences, then its quote."""
    return [*item.evidence.sentences, *([item.evidence.quote] if item.evidence.quote else [])]


def span_problems(item: Claim | Prediction | Warning, article: Article) -> list[str]:
    """Spans of `item` that are not the article text at their offsets, or not the sentence they name."""
    bad = []
    for span in spans_of(item):
        ok = 0 <= span.start <= span.end and article.text[span.start:span.end] == span.text
        number = getattr(span, "sentence", None)
        if number is not None:
            cited = article.sentences[number - 1] if 1 <= number <= len(article.sentences) else None
            ok = ok and cited is not None and (cited.start, cited.end) == (span.start, span.end)
        if not ok:
            bad.append(f"{item.id}: [{span.start}:{span.end}] != {span.text[:40]!r}")
    return bad


def verify_summary(summary: ArticleSummary, article: Article) -> list[str]:
    """Every span must equal the article text at its offsets; returns the mismatches (empty when sound)."""
    items: list[Claim | Prediction | Warning] = [*summary.claims, *summary.predictions, *summary.warnings]
    return [problem for item in items for problem in span_problems(item, article)]
