"""`batch import` names its outputs as `summarizer run` does: after the inputs the export read."""

from __future__ import annotations

import json
from pathlib import Path

from loopback import LoopbackServer
from loopback_cli import LoopbackCLI
from runs_lib import respond, results_in, run, write_articles

from summarizer.runs.batch.export import export_requests


def test_imported_results_get_the_names_a_realtime_run_gives(loopback: LoopbackServer, cli_in_process: LoopbackCLI,
                                                              tmp_path: Path) -> None:
    news = tmp_path / "news"
    write_articles(news / "asia", 2)
    write_articles(news, 1, start=5)
    (news / "feed.jsonl").write_text(json.dumps({"text": "Minister Jane Doe spoke. The marker is MARKER-009. "
                                                         "Taxes will rise. Debt grows."}) + "\n", encoding="utf-8")
    requests = tmp_path / "batch" / "requests.jsonl"
    requests.parent.mkdir()
    report = export_requests([news], requests, "gpt-4o-mini")
    assert not report.failures and report.articles == 4
    loopback.responder = respond()
    lines = [json.loads(line) for line in requests.read_text(encoding="utf-8").splitlines()]
    done, failed = loopback.answer_batch(lines)
    (requests.parent / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [*done, *failed]))

    imported = cli_in_process("batch", "import", requests.parent / "results.jsonl", "-o", tmp_path / "out",
                              server=False)
    assert imported.returncode == 0, imported.stderr
    assert run(loopback, news, tmp_path / "realtime").ok == 4
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in results_in(tmp_path / "out"))
    assert names == ["article-005.json", "asia/article-000.json", "asia/article-001.json", "feed-1.json"]
    assert names == sorted(p.relative_to(tmp_path / "realtime").as_posix() for p in results_in(tmp_path / "realtime"))
