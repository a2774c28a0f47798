"""Batch throughput: how close `summarize_folder` gets to the ideal N·L/C, and its CPU cost per article.

N articles go through the whole batch engine (reading, store, files) against the loopback test server
(tests/loopback.py), which waits L seconds before every answer; with C requests in flight the ideal wall
time is N·L/C. The server runs in a child process, so its CPU time and its threads' share of the GIL do not
count as client overhead; client CPU is this process's CPU time during the run, divided by N.

By default the Summarizer is built and used once before the clock starts (imports, TLS contexts, the
connection pool are a process cost, not a per-article one); `--cold` times all of it. Each setting runs
`--repeat` times and the median run (by wall/ideal) is reported, because a shared machine is noisy.

    .venv/bin/python benchmarks/batch_throughput.py                  # N=200, L=0.2 s, C=16
    .venv/bin/python benchmarks/batch_throughput.py --n 400 --latency 0.1 --concurrency 32 --cold

Goals: wall / ideal <= 1.10 and client CPU <= 5 ms per article. Writes
benchmarks/results/batch_throughput.json and prints the row for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

GOAL_RATIO, GOAL_CPU_MS = 1.10, 5.0
ARTICLE = ("---\ntitle: Story {i}\ndate: 2024-05-01\n---\n"
           "Minister Jane Doe spoke in the capital on Monday. The marker is MARKER-{i:05d}. "
           "She said taxes will rise next year. Opposition leaders criticised the plan.\n")


def _answer(request: Any) -> Any:
    """A small valid extraction: one actor, a claim on the marker sentence, a prediction."""
    from loopback import Reply

    return Reply.tool_call({
        "summary": "An official made an announcement.",
        "actors": [{"id": "A1", "name": "Jane Doe", "kind": "person", "role": "minister", "aliases": []}],
        "claims": [{"actor": "A1", "sentences": [2], "statement": "A marker was announced.", "quote": None}],
        "predictions": [{"actor": "A1", "sentences": [3], "statement": "Taxes will rise.",
                         "timeframe": "next year", "condition": None, "certainty": "certain", "quote": None}],
        "warnings": [],
    })


def _serve(latency: float, conn: Connection) -> None:
    """Child process: serve until told to stop; report requests, peak concurrency and CPU per timed run."""
    from loopback import LoopbackServer

    with LoopbackServer(responder=_answer, latency=latency) as server:
        conn.send(server.base_url)
        while (message := conn.recv()) != "stop":
            if message == "start":
                server.reset()
                cpu = time.process_time()
            elif message == "report":
                conn.send({"requests": len(server.chat_requests), "max_in_flight": server.max_in_flight,
                           "cpu_s": time.process_time() - cpu})


async def _timed(inputs: Path, out: Path, base_url: str, concurrency: int, warm: bool, server: Connection,
                 ) -> tuple[float, float, Any]:
    """Time one `asummarize_folder` call; when `warm`, the Summarizer was built and used before."""
    from summarizer import Article, Summarizer, asummarize_folder
    from summarizer.extract.summarizer import RetryPolicy

    options: dict[str, Any] = {"base_url": base_url, "api_key": "bench-key", "model": "gpt-4o-mini",
                               "policy": RetryPolicy(initial_wait=0.01)}
    async with Summarizer(**options) as summarizer:
        if warm:
            await summarizer.asummarize(Article.from_text("Warm-up. The marker is MARKER-99999. Taxes rise."))
        server.send("start")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = await asummarize_folder(inputs, out, summarizer=summarizer if warm else None,
                                         concurrency=concurrency, **({} if warm else options))
        return time.perf_counter() - wall0, time.process_time() - cpu0, report


def run_once(n: int, latency: float, concurrency: int, base_url: str, server: Connection, *, warm: bool,
             workdir: Path | None) -> dict[str, Any]:
    """One measured batch run into a fresh folder."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        inputs, out = Path(tmp) / "in", Path(tmp) / "out"
        inputs.mkdir()
        for i in range(n):
            (inputs / f"article-{i:05d}.txt").write_text(ARTICLE.format(i=i), encoding="utf-8")
        wall, cpu, report = asyncio.run(_timed(inputs, out, base_url, concurrency, warm, server))
        files = len(list(out.glob("*.json")))
    server.send("report")
    seen = server.recv()
    ideal = n * latency / concurrency
    return {
        "wall_s": round(wall, 3), "ideal_s": round(ideal, 3), "ratio": round(wall / ideal, 3),
        "cpu_s": round(cpu, 3), "cpu_ms_per_article": round(cpu * 1000 / n, 2),
        "server_cpu_ms_per_request": round(seen["cpu_s"] * 1000 / max(1, seen["requests"]), 2),
        "ok": report.ok, "failed": report.failed, "json_files": files, "server_requests": seen["requests"],
        "max_in_flight": seen["max_in_flight"], "load_average_1m": round(os.getloadavg()[0], 2),
    }


def run(n: int, latency: float, concurrency: int, *, repeat: int = 3, warm: bool = True,
        workdir: Path | None = None) -> dict[str, Any]:
    """`repeat` runs against one server; the median run by wall/ideal, with every run kept."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(latency, child), daemon=True)
    server.start()
    try:
        base_url = parent.recv()
        runs = [run_once(n, latency, concurrency, base_url, parent, warm=warm, workdir=workdir)
                for _ in range(repeat)]
        parent.send("stop")
    finally:
        server.join(5)
        if server.is_alive():
            server.kill()
    median = sorted(runs, key=lambda r: r["ratio"])[len(runs) // 2]
    return {
        "date": dt.date.today().isoformat(), "n": n, "latency_s": latency, "concurrency": concurrency,
        "start": "warm" if warm else "cold", **median,
        "ratios": [r["ratio"] for r in runs],
        "cpu_ms_per_article_all": [r["cpu_ms_per_article"] for r in runs],
        "cpu_ms_per_article_median": statistics.median(r["cpu_ms_per_article"] for r in runs),
        "python": platform.python_version(), "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server waits per answer")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also time the Summarizer's setup")
    parser.add_argument("--workdir", type=Path, help="where inputs and outputs go (default: system temp)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "batch_throughput.json")
    args = parser.parse_args()
    r = run(args.n, args.latency, args.concurrency, repeat=args.repeat, warm=not args.cold,
            workdir=args.workdir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    mark = {True: "ok", False: "above goal"}
    print(f"wall {r['wall_s']} s / ideal {r['ideal_s']} s = {r['ratio']} (goal <= {GOAL_RATIO}: "
          f"{mark[r['ratio'] <= GOAL_RATIO]}); runs: {r['ratios']}")
    print(f"client CPU {r['cpu_ms_per_article_median']} ms/article (goal <= {GOAL_CPU_MS}: "
          f"{mark[r['cpu_ms_per_article_median'] <= GOAL_CPU_MS]}); runs: {r['cpu_ms_per_article_all']}")
    print(f"{r['start']} start; ok {r['ok']}, failed {r['failed']}, server requests {r['server_requests']}, "
          f"max in flight {r['max_in_flight']}, server CPU {r['server_cpu_ms_per_request']} ms/request, "
          f"load average {r['load_average_1m']}")
    print()
    print("| date | N | L (ms) | C | wall (s) | ideal (s) | wall/ideal | client CPU/article (ms) "
          "| max in flight |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['date']} | {r['n']} | {r['latency_s'] * 1000:g} | {r['concurrency']} | {r['wall_s']} | "
          f"{r['ideal_s']} | {r['ratio']} | {r['cpu_ms_per_article_median']} | {r['max_in_flight']} |")


if __name__ == "__main__":
    main()
