"""Fault soak: 200 articles through the real stack while ~30 % of requests fail in every way a server can fail.

Each request's fate is drawn from a generator seeded with (seed, article marker, request number for that
article), so an article sees the same faults whatever order the concurrent batch sends it in.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, defaultdict
from pathlib import Path

from loopback import LoopbackServer, RecordedRequest, Reply
from runs_lib import answer, marker, results_by_id, write_articles

from summarizer import GenerationParams, RetryPolicy, summarize_folder
from summarizer.article.readers import read_article

SEED = 20240508
ARTICLES = 200
FAULT_RATE = 0.3
TIMEOUT = 1.5  # the client's deadline (generous: a loaded 2-core machine); a timeout fault answers after 2 x this
POLICY = RetryPolicy(transport_retries=3, reasks=1, initial_wait=0.005, max_wait=0.02)
STEPS = 1  # the openai backend makes one call per article ("extract")
CAP = (POLICY.transport_retries + 1) * (POLICY.reasks + 1) * STEPS
WATCHED, WATCHED_WAIT = 7, 0.3  # this article's first request is a 429 asking for 0.3 s
FAULTS = ("429", "429+retry-after", "500", "503", "timeout", "drop", "malformed", "invalid", "length")
INVALID = answer() | {"claims": [{"actor": "A1", "sentences": [99], "statement": "Not in the text.",
                                  "quote": None}]}  # sentence 99 does not exist: fails validation


class FaultyServer:
    """A loopback responder that fails ~30 % of requests with a seeded mix of faults, per article."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[int, list[str]] = defaultdict(list)  # marker -> what each of its requests got
        self.waits: dict[tuple[int, int], float] = {}  # (marker, request number) -> Retry-After sent

    def __call__(self, request: RecordedRequest) -> Reply:
        m = marker(request)
        assert m is not None, "every request carries its article's marker"
        with self.lock:
            n = len(self.sent[m])
            rng = random.Random(f"{SEED}:{m}:{n}")
            fault = rng.choice(FAULTS) if rng.random() < FAULT_RATE else "ok"
            wait = round(rng.uniform(0.05, 0.2), 3)
            if (m, n) == (WATCHED, 0):
                fault, wait = "429+retry-after", WATCHED_WAIT
            self.sent[m].append(fault)
            if fault == "429+retry-after":
                self.waits[m, n] = wait
        return {
            "ok": lambda: Reply.tool_call(answer()),
            "429": lambda: Reply.error(429, kind="requests"),
            "429+retry-after": lambda: Reply.error(429, retry_after=wait),
            "500": lambda: Reply.error(500),
            "503": lambda: Reply.error(503),
            "timeout": lambda: Reply.slow(2 * TIMEOUT, then=Reply.error(503)),  # the client gave up long before
            "drop": lambda: Reply.drop(reset=rng.random() < 0.5),
            "malformed": Reply.malformed,
            "invalid": lambda: Reply.tool_call(INVALID),
            "length": lambda: Reply.length('{"summary": "A minister spoke about'),
        }[fault]()


def test_two_hundred_articles_under_faults_lose_nothing_and_duplicate_nothing(loopback: LoopbackServer,
                                                                                tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "in", ARTICLES)
    id_of = {i: read_article(p).id for i, p in enumerate(paths)}
    faulty = FaultyServer()
    loopback.responder, loopback.latency = faulty, 0.002
    out = tmp_path / "out"
    report = summarize_folder(tmp_path / "in", out, base_url=loopback.base_url, api_key="test-key",
                              model="gpt-4o-mini", policy=POLICY, params=GenerationParams(timeout=TIMEOUT),
                              concurrency=16)
    requests = loopback.chat_requests

    # The soak really soaked: about 30 % of requests failed, with every kind of fault.
    fates = Counter(fate for sent in faulty.sent.values() for fate in sent)
    assert 0.2 <= 1 - fates["ok"] / fates.total() <= 0.4, fates
    assert all(fates[kind] for kind in FAULTS), fates
    assert fates.total() == len(requests) >= ARTICLES

    # Every article ends written or failed with a reason: 0 lost, 0 duplicated.
    results = results_by_id(out)
    lines = [json.loads(line) for line in (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()]
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    jsonl_ids = [line["article"]["id"] for line in lines]
    failed_ids = [f["article_id"] for f in failures]
    assert len(jsonl_ids) == len(set(jsonl_ids)) and set(jsonl_ids) == set(results)
    assert len(failed_ids) == len(set(failed_ids)) and not set(failed_ids) & set(results)
    assert len(results) + len(failures) == ARTICLES and set(results) | set(failed_ids) == set(id_of.values())
    assert (report.ok, report.failed, report.not_started) == (len(results), len(failures), 0)
    assert len(results) > ARTICLES * 0.8  # retries and re-asks rescued most articles
    for failure in failures:
        assert failure["stage"] == "model" and failure["path"], failure
        assert failure["reason"] in {"AttemptsExhaustedError", "ValidationFailedError", "TruncatedOutputError"}
        assert failure["message"] and 1 <= failure["attempts"] == len(failure["records"]) <= CAP, failure
    assert {f["reason"] for f in failures} >= {"TruncatedOutputError"}  # a cut-off answer is never kept

    # No article exceeds the attempt cap, counted by the server and by the client alike.
    per_article = Counter(markers_of(requests))
    assert set(per_article) == set(range(ARTICLES))
    assert max(per_article.values()) <= CAP, per_article.most_common(3)
    marker_of = {article_id: m for m, article_id in id_of.items()}
    for article_id, result in results.items():
        attempts = result["provenance"]["attempts"]
        assert len(attempts) == per_article[marker_of[article_id]] <= CAP
        assert attempts[-1]["outcome"] == "ok" and result["claims"]
    for failure in failures:
        assert failure["attempts"] == per_article[marker_of[failure["article_id"]]]

    # Every token the server billed is counted, failed attempts included.
    assert report.usage.total_tokens == sum(r.usage["total_tokens"] for r in requests if r.usage)

    # Retry-After is honoured: the next request for that article came no sooner than asked.
    arrivals = defaultdict(list)
    for request in requests:
        arrivals[marker(request)].append(request.received_at)
    assert len(faulty.waits) >= 4
    for (m, n), wait in faulty.waits.items():
        if n + 1 < len(arrivals[m]):  # else the 429 was the article's last allowed attempt
            assert arrivals[m][n + 1] - arrivals[m][n] >= wait, (m, n, wait)
    assert arrivals[WATCHED][1] - arrivals[WATCHED][0] >= WATCHED_WAIT


def markers_of(requests: list[RecordedRequest]) -> list[int]:
    return [m for m in map(marker, requests) if m is not None]
