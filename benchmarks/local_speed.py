"""Embedded-model speed and quality: our pipeline (a) vs a naive instructor call (b), and batch amortisation.

(a) `Summarizer(model="embedded")`: grammar-constrained steps sharing a cached prefix, sentence citations.
(b) `summarizer.baseline.naive_summarize`: one instructor TOOLS call through llama-cpp-python's own OpenAI-style
    create (schema in the prompt), plain-string schema with copied quotes, no validators, no re-ask.

Goals (issue 4): time(a) <= time(b); every evidence span of (a) checks at its offsets; (a) finds >= 3x as many
correct actors as (b) (correct = matches a gold actor of fixtures/gold); per-article time in a 5-article batch
<= 0.8 x the single-article time (each single run starts from a freshly loaded model, as a one-file CLI run does).

Usage: python benchmarks/local_speed.py [--skip-batch]   (prints a table, writes benchmarks/results/local_speed.json)

`--gold OUT` (issue 13): both pipelines over the 10 gold articles in one process on one loaded model, ours then
the naive baseline, each article timed (seconds per article, median), results written to OUT/ours and
OUT/naive and scored there by `summarizer eval` (same gold, same run); writes benchmarks/results/gold_run.json.
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


def gold_run(out: Path, naive_max_tokens: int = 1500) -> dict[str, Any]:
    """Ours, then the naive baseline, over the gold articles on one loaded model; per-article seconds; scores."""
    import dataclasses
    import statistics

    from summarizer.eval.baseline import run_baseline
    from summarizer.eval.gold import gold_article, load_gold_dir
    from summarizer.eval.metrics import evaluate_dir

    gold_dir = ROOT / "fixtures" / "gold"
    s = _fresh_summarizer()
    seconds: dict[str, float] = {}
    (out / "ours").mkdir(parents=True, exist_ok=True)
    for path, gold in load_gold_dir(gold_dir):
        article = gold_article(gold, path)
        t = time.perf_counter()
        summary = s.summarize(article)
        seconds[gold.article] = round(time.perf_counter() - t, 1)
        (out / "ours" / f"{article.id}.json").write_text(summary.model_dump_json(indent=2), encoding="utf-8")
        print(f"ours {gold.article}: {seconds[gold.article]} s", flush=True)
    s.plan.params = dataclasses.replace(s.plan.params, max_tokens=naive_max_tokens)
    t = time.perf_counter()
    run_baseline(gold_dir, out / "naive", s)
    naive_seconds = round(time.perf_counter() - t, 1)
    ours, naive = (evaluate_dir(gold_dir, out / name, label=name).as_dict()["totals"] for name in ("ours", "naive"))
    return {"date": dt.date.today().isoformat(), "cores": os.cpu_count(),
            "command": f"python benchmarks/local_speed.py --gold {out}",
            "seconds_per_article": seconds, "median_seconds": statistics.median(seconds.values()),
            "naive_total_seconds": naive_seconds, "ours": ours, "naive": naive}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-batch", action="store_true", help="only (a) vs (b) on the seed")
    parser.add_argument("--gold", type=Path, metavar="OUT", help="ours and naive over the gold set, timed and scored")
    args = parser.parse_args()
    if args.gold:
        found = gold_run(args.gold)
        target = ROOT / "benchmarks" / "results" / "gold_run.json"
        target.write_text(json.dumps(found, indent=2, default=str) + "\n", encoding="utf-8")
        print(json.dumps({k: found[k] for k in ("seconds_per_article", "median_seconds", "naive_total_seconds")}))
        print(f"wrote {target.relative_to(ROOT)}; the tables: summarizer eval fixtures/gold {args.gold}/ours "
              f"--markdown, and {args.gold}/naive --baseline naive --markdown")
        return
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
