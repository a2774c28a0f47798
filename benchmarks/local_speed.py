"""Embedded-model speed and quality: our pipeline (a) vs a naive instructor call (b), and batch amortisation.

(a) `Summarizer(model="embedded")`: grammar-constrained steps sharing a cached prefix, sentence citations.
(b) `summarizer.baseline.naive_summarize`: one instructor TOOLS call through llama-cpp-python's own OpenAI-style
    create (schema in the prompt), plain-string schema with copied quotes, no validators, no re-ask.

Goals (issue 4): time(a) <= time(b); every evidence span of (a) checks at its offsets; (a) finds >= 3x as many
correct actors as (b) (correct = matches a gold actor of fixtures/gold); per-article time in a 5-article batch
<= 0.8 x the single-article time (each single run starts from a freshly loaded model, as a one-file CLI run does).

Usage: python benchmarks/local_speed.py [--skip-batch]   (prints a table, writes benchmarks/results/local_speed.json)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "fixtures" / "articles"
SEED = ARTICLES / "zelensky-north-korea.txt"
BATCH = ["zelensky-north-korea.txt", "ie9.txt", "hackers.txt", "taxes.txt", "warming.txt"]


def _fresh_summarizer() -> Any:
    """A Summarizer on a newly loaded model (no prompt cache), like a new CLI process; loaded before timing."""
    from summarizer import Summarizer
    from summarizer.models.embedded.llama import EmbeddedBackend, LocalModel
    from summarizer.models.embedded.weights import ensure_model
    from summarizer.models.resolve import resolve_backend

    model = LocalModel(ensure_model())
    model.prepare(4096)  # load outside the timed region for both (a) and (b)
    return Summarizer(backend=EmbeddedBackend(resolve_backend(model="embedded"), model))


def _gold_actor_hits(names: list[list[str]], gold_path: Path) -> int:
    from summarizer.eval.gold import load_gold
    from summarizer.eval.metrics import names_match

    gold = load_gold(gold_path)
    hits, used = 0, set()
    for aliases in names:
        for i, g in enumerate(gold.actors):
            if i not in used and names_match([*aliases], [g.name, *g.aliases]):
                used.add(i)
                hits += 1
                break
    return hits


def _measure(summary: Any, article: Any, seconds: float) -> dict[str, Any]:
    from summarizer.grounding.assemble import verify_summary

    items = [*summary.claims, *summary.predictions, *summary.warnings]
    spans = [s for i in items for s in i.evidence.sentences]
    quotes = [i.evidence.quote for i in items if i.evidence.quote is not None]
    return {
        "seconds": round(seconds, 1),
        "prompt_tokens": summary.provenance.usage.prompt_tokens,
        "generated_tokens": summary.provenance.usage.completion_tokens,
        "calls": len(summary.provenance.attempts),
        "actors": len(summary.actors),
        "correct_actors": _gold_actor_hits([[a.name, *a.aliases] for a in summary.actors],
                                           ROOT / "fixtures" / "gold" / "zelensky-north-korea.json"),
        "items": len(items),
        "items_with_evidence": sum(1 for i in items if i.evidence.sentences),
        "evidence_spans": len(spans) + len(quotes),
        "spans_checked_ok": len(spans) + len(quotes) - len(verify_summary(summary, article)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-batch", action="store_true", help="only (a) vs (b) on the seed")
    args = parser.parse_args()
    from summarizer.article.readers import read_article
    from summarizer.eval.baseline import naive_summarize

    seed = read_article(SEED)
    results: dict[str, Any] = {"date": dt.date.today().isoformat(), "cores": os.cpu_count(),
                               "command": "python benchmarks/local_speed.py"}
    s = _fresh_summarizer()
    t = time.perf_counter()
    naive = naive_summarize(seed, s)
    results["b_naive"] = _measure(naive, seed, time.perf_counter() - t)
    print("(b) naive:", results["b_naive"], flush=True)
    s = _fresh_summarizer()
    t = time.perf_counter()
    ours = s.summarize(seed)
    results["a_ours"] = _measure(ours, seed, time.perf_counter() - t)
    print("(a) ours: ", results["a_ours"], flush=True)

    if not args.skip_batch:
        singles = []
        for name in BATCH:
            article = read_article(ARTICLES / name)
            t = time.perf_counter()
            _fresh_summarizer().summarize(article)  # includes the model load, as a one-file run does
            singles.append(time.perf_counter() - t)
            print(f"single {name}: {singles[-1]:.1f}s", flush=True)
        s = _fresh_summarizer()
        t = time.perf_counter()
        for name in BATCH:
            s.summarize(read_article(ARTICLES / name))
        batch_total = time.perf_counter() - t
        results["batch"] = {
            "articles": BATCH, "single_seconds": [round(x, 1) for x in singles],
            "single_mean": round(sum(singles) / len(singles), 1), "batch_total": round(batch_total, 1),
            "batch_per_article": round(batch_total / len(BATCH), 1),
            "ratio": round(batch_total / sum(singles), 3),
        }

    a, b = results["a_ours"], results["b_naive"]
    rows = [
        ("time (s)", a["seconds"], b["seconds"]),
        ("prompt tokens", a["prompt_tokens"], b["prompt_tokens"]),
        ("generated tokens", a["generated_tokens"], b["generated_tokens"]),
        ("model calls", a["calls"], b["calls"]),
        ("actors (correct vs gold)", f'{a["actors"]} ({a["correct_actors"]})',
         f'{b["actors"]} ({b["correct_actors"]})'),
        ("items (with evidence)", f'{a["items"]} ({a["items_with_evidence"]})',
         f'{b["items"]} ({b["items_with_evidence"]})'),
        ("evidence spans verbatim at offsets", f'{a["spans_checked_ok"]}/{a["evidence_spans"]}',
         f'{b["spans_checked_ok"]}/{b["evidence_spans"]}'),
    ]
    print("\n| seed article | (a) ours | (b) naive |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    if "batch" in results:
        bt = results["batch"]
        print(f"\nbatch of {len(BATCH)}: {bt['batch_per_article']} s/article vs single mean {bt['single_mean']} s "
              f"-> ratio {bt['ratio']} (goal <= 0.8)")
    goals = {
        "time_a_le_b": a["seconds"] <= b["seconds"],
        "all_spans_verbatim": a["spans_checked_ok"] == a["evidence_spans"],
        "actors_3x": a["correct_actors"] >= 3 * max(1, b["correct_actors"]),
    }
    if "batch" in results:
        goals["batch_ratio_le_0_8"] = results["batch"]["ratio"] <= 0.8
    results["goals"] = goals
    print("goals:", goals)
    out = ROOT / "benchmarks" / "results" / "local_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
