"""How fast OUT/review.html opens with many articles, in Debian's headless chromium (measured, not asserted).

Builds a synthetic OUT of N results (the seed article summarised once through the in-memory backend with its
authored answer, then copied with other ids, titles and dates), writes review.html with `runs/review.py`, and
opens it from file:// in chromium several times. Reported per open, in milliseconds since navigation start:
DOMContentLoaded, "list rendered" (the page's own mark, `window.summarizerReview.ready`: the data parsed and
the first page of the list drawn) and the load event; then the time to open one article (click → its text and
items drawn). Needs `apt-get install -y chromium chromium-driver` and `pip install selenium` (the dev extra).

    python benchmarks/review_page.py [--articles 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "articles" / "zelensky-north-korea.txt"
ANSWER = ROOT / "fixtures" / "responses" / "zelensky-north-korea.extract.json"
RESULTS = ROOT / "benchmarks" / "results" / "review_page.json"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,900")


def seed_summary() -> Any:
    from summarizer import Summarizer
    from summarizer.models.testing import ScriptedBackend

    answer = json.loads(ANSWER.read_text(encoding="utf-8"))["arguments"]
    with Summarizer(backend=ScriptedBackend(script=lambda request: answer)) as summarizer:
        return summarizer.summarize(SEED)


def build(out: Path, n: int) -> dict[str, float]:
    """OUT with n copies of the seed result and its review.html; returns the build's timings (s)."""
    import hashlib

    from summarizer.runs.output import OutputFolder
    from summarizer.runs.review import write_review

    seed = seed_summary()
    results = []
    for i in range(n):
        meta = seed.article.model_copy(update={
            "id": hashlib.sha256(f"copy {i}".encode()).hexdigest(), "title": f"Story {i:04d}: {seed.article.title}",
            "date": dt.date(2024, 1, 1) + dt.timedelta(days=i % 365)})
        results.append((f"story-{i:04d}", seed.model_copy(update={"article": meta})))
    started = time.perf_counter()
    with OutputFolder(out) as folder:
        write_review(folder, results)
    return {"write_s": time.perf_counter() - started, "bytes": (out / "review.html").stat().st_size}


def measure(page: Path, runs: int) -> list[dict[str, float]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    found = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as profile:
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for flag in (*FLAGS, f"--user-data-dir={profile}"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            try:
                driver.get(page.as_uri())
                WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                    "return window.summarizerReview && performance.timing.loadEventEnd > 0"))
                timing = driver.execute_script(
                    "var t = performance.timing, s = t.navigationStart;"
                    "return {dom: t.domContentLoadedEventEnd - s, load: t.loadEventEnd - s,"
                    " ready: window.summarizerReview.ready};")
                entry = driver.find_elements(By.CSS_SELECTOR, ".entry[data-i]")[-1]
                opened = driver.execute_script(
                    "var t0 = performance.now(); arguments[0].click();"
                    "return document.querySelectorAll('.item[data-key]').length ? performance.now() - t0 : -1;", entry)
                found.append({"dom_ms": timing["dom"], "ready_ms": timing["ready"], "load_ms": timing["load"],
                              "open_article_ms": opened})
            finally:
                driver.quit()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        built = build(out, args.articles)
        opens = measure(out / "review.html", args.runs)
    keys = ("dom_ms", "ready_ms", "load_ms", "open_article_ms")
    median = {k: statistics.median(o[k] for o in opens) for k in keys}
    worst = {k: max(o[k] for o in opens) for k in keys}
    print(f"review.html with {args.articles} articles: {built['bytes'] / 1e6:.1f} MB, written in "
          f"{built['write_s']:.2f} s")
    print(f"| {'measure':<40} | {'median':>8} | {'worst':>8} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|")
    labels = {"dom_ms": "DOMContentLoaded (ms from navigation)", "ready_ms": "list rendered (ms from navigation)",
              "load_ms": "load event (ms from navigation)", "open_article_ms": "open one article (ms, click → drawn)"}
    for k in keys:
        print(f"| {labels[k]:<40} | {median[k]:>8.0f} | {worst[k]:>8.0f} |")
    import selenium

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "measured": dt.date.today().isoformat(), "command": "python benchmarks/review_page.py "
        f"--articles {args.articles} --runs {args.runs}", "articles": args.articles, "runs": args.runs,
        "page_bytes": built["bytes"], "write_s": round(built["write_s"], 3),
        "median": median, "worst": worst, "opens": opens,
        "browser": "Debian chromium (headless=new) via selenium " + selenium.__version__,
        "machine": platform.platform(), "python": platform.python_version(),
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
