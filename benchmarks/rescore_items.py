"""Re-derive the sentence-first items of a run from its actors with the current rules, and score them on gold.

The sentence-first plan asks the model only for the actors and the summary; the items follow from the article
and the actors by rules (`grounding/candidates.py`, `grounding/verify.py`). So a change to those rules can be
measured on a run's stored actors without a model call:

    python benchmarks/rescore_items.py OUT            # OUT: a `summarizer run` (or `local_speed.py --gold`) output
    python benchmarks/rescore_items.py --gold-actors  # the ceiling: the rules given the gold set's own actors

It prints precision, recall and attribution per kind and for any kind (the matching of `summarizer eval`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path, help="a run's output folder (results found by article id)")
    parser.add_argument("--gold-actors", action="store_true", help="use the gold set's actors instead")
    args = parser.parse_args()
    if args.out is None and not args.gold_actors:
        parser.error("give a run's output folder or --gold-actors")

    from summarizer.eval.gold import gold_article, load_gold_dir, outputs_by_article
    from summarizer.eval.metrics import EvalReport, evaluate_article
    from summarizer.grounding.answers import Extraction
    from summarizer.grounding.assemble import build_summary
    from summarizer.grounding.candidates import find_candidates, items_from_candidates, with_sources
    from summarizer.grounding.verify import Verifier, verify_draft
    from summarizer.schema import ActorDraft, Provenance, UsageTotals

    outputs = outputs_by_article(args.out) if args.out else {}
    now = dt.datetime.now(dt.UTC)
    provenance = Provenance(model="rules", backend="rescore", mode="none", prompt_hash="", schema_version="2",
                            attempts=[], usage=UsageTotals(), started_at=now, finished_at=now)
    scored = []
    for path, gold in load_gold_dir(ROOT / "fixtures" / "gold"):
        article = gold_article(gold, path)
        if args.gold_actors:
            actors = [ActorDraft(id=f"G{i}", name=a.name, kind=a.kind, aliases=a.aliases)
                      for i, a in enumerate(gold.actors, 1)]
        elif gold.article_id in outputs:
            found = json.loads(outputs[gold.article_id].read_text(encoding="utf-8"))["actors"]
            actors = with_sources(article, [ActorDraft(id=a["id"], name=a["name"], kind=a["kind"],
                                                       aliases=a["aliases"]) for a in found])
        else:
            scored.append(evaluate_article(gold, article, None))
            continue
        items = items_from_candidates(article, find_candidates(article, actors))
        draft = Extraction.model_construct(summary="", actors=actors, claims=items.claims,
                                           predictions=items.predictions, warnings=items.warnings)
        verify_draft(article, draft, Verifier(), actors)
        summary = build_summary(article, "", draft.actors, draft, provenance)
        scored.append(evaluate_article(gold, article, summary))
    totals = EvalReport("rescore", scored).as_dict()["totals"]
    for name in ("claims", "predictions", "warnings", "any_kind"):
        t = totals[name]
        print(f"{name:12} precision {t['precision'] or 0:6.1%} ({t['matched']}/{t['predicted']})  "
              f"recall {t['recall'] or 0:6.1%} ({t['matched']}/{t['gold']})  attribution {t['attribution'] or 0:6.1%}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
