"""Output files: atomic replacement, names from article ids only, CSV rows, safe Markdown, the folder lock."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from summarizer.article.model import Article
from summarizer.errors import ConfigurationError
from summarizer.runs.output import OutputFolder
from summarizer.runs.render import csv_rows, markdown_report
from summarizer.schema import ArticleSummary

TEXT = ("Minister Jane Doe spoke in the capital on Monday. The marker is MARKER-{i:03d}. "
        "She said taxes will rise next year. She warned that the deficit could grow if parliament refuses.")


def make_summary(i: int = 1, title: str | None = "Story") -> ArticleSummary:
    """A complete result built from the output schema (what writers consume)."""
    article = Article.from_text(TEXT.format(i=i), title=title)
    sentences = article.sentences

    def evidence(n: int) -> dict[str, Any]:
        s = sentences[n - 1]
        return {"sentences": [{"sentence": n, "start": s.start, "end": s.end, "text": s.text}], "quote": None}

    item = {"actor_id": "A1", "actor": "Jane Doe"}
    now = "2024-05-01T00:00:00Z"
    return ArticleSummary.model_validate({
        "article": {"id": article.id, "title": title, "date": "2024-05-01", "source": None, "path": "a.txt",
                    "sentences": len(sentences)},
        "summary": "A minister spoke about taxes.",
        "actors": [{"id": "A1", "name": "Jane Doe", "kind": "person", "role": "minister",
                    "aliases": ["Doe"]}],
        "claims": [{"id": "C1", **item, "statement": "Jane Doe spoke.", "evidence": evidence(1)}],
        "predictions": [{"id": "P1", **item, "statement": "Taxes will rise.", "evidence": evidence(3),
                         "timeframe_text": "next year",
                         "timeframe": {"start": "2025-01-01", "end": "2025-12-31", "rule": "next year"},
                         "condition": None, "certainty": "certain"}],
        "warnings": [{"id": "W1", **item, "statement": "The deficit could grow.", "evidence": evidence(4),
                      "addressees": ["Parliament"], "consequence": "a bigger deficit",
                      "condition": "if parliament refuses"}],
        "provenance": {"model": "gpt-4o-mini", "backend": "openai-compatible", "mode": "tool_call",
                       "prompt_hash": "0" * 64, "schema_version": "1", "attempts": [],
                       "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                       "started_at": now, "finished_at": now},
    })


TABLES = ("actors", "claims", "predictions", "warnings")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_article_files_are_named_as_given_and_parse(tmp_path: Path) -> None:
    summary = make_summary(title="../../etc/passwd")
    with OutputFolder(tmp_path) as folder:
        folder.write_article("asia/afghan", summary)
        assert folder.has_article("asia/afghan")
    names = sorted(p.name for p in (tmp_path / "asia").iterdir())
    assert names == ["afghan.json", "afghan.md"]
    assert ArticleSummary.model_validate_json((tmp_path / "asia" / names[0]).read_text()) == summary
    for bad in ("../evil", "/etc/passwd", "a/../../b", ".summarizer/store", "", "a/"):
        with pytest.raises(ValueError, match="not an output name"):
            folder.article_files(bad)
    folder.remove_article("asia/afghan")
    assert not (tmp_path / "asia").exists()  # the folder it left empty goes too


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    with OutputFolder(tmp_path) as folder:
        folder.write_text("summaries.jsonl", "old\n")
        with pytest.raises(RuntimeError), folder.replacing("summaries.jsonl") as stream:
            stream.write("half a li")
            raise RuntimeError("killed")
        assert (tmp_path / "summaries.jsonl").read_text() == "old\n"
        assert list(folder.tmp.iterdir()) == []


def test_files_get_the_users_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    with OutputFolder(tmp_path) as folder:
        folder.write_text("index.md", "x")
    assert (tmp_path / "index.md").stat().st_mode & 0o777 == 0o666 & ~umask


def test_csv_tables_have_one_row_per_item_with_article_actor_and_evidence(tmp_path: Path) -> None:
    summaries = [make_summary(i, title=f"Story {i}") for i in range(3)]
    with OutputFolder(tmp_path) as folder:
        folder.write_tables([(f"story-{i}", s) for i, s in enumerate(summaries)])
    tables = {name: read_csv(tmp_path / f"{name}.csv") for name in TABLES}
    assert {name: len(rows) for name, rows in tables.items()} == {
        "actors": 3, "claims": 3, "predictions": 3, "warnings": 3}
    prediction = tables["predictions"][1]
    assert prediction["article_id"] == summaries[1].article.id
    assert (prediction["article_title"], prediction["article_date"]) == ("Story 1", "2024-05-01")
    assert prediction["actor"] == "Jane Doe" and prediction["sentences"] == "3"
    assert prediction["evidence"] == "She said taxes will rise next year."
    assert (prediction["timeframe_start"], prediction["certainty"]) == ("2025-01-01", "certain")
    assert tables["warnings"][0]["addressees"] == "Parliament"
    assert tables["actors"][0]["aliases"] == "Doe"
    index = (tmp_path / "index.md").read_text()
    assert index.count(".md)") == 3 and "(story-2.md)" in index


def test_csv_rows_match_items() -> None:
    rows = csv_rows(make_summary())
    assert [len(rows[t]) for t in ("actors", "claims", "predictions", "warnings")] == [1, 1, 1, 1]


def test_markdown_shows_items_with_actor_and_evidence_and_escapes_markup() -> None:
    report = markdown_report(make_summary(title="<script>alert(1)</script> | *bold*"))
    assert "<script>" not in report and "\\<script\\>" in report and "\\|" in report
    assert "**P1 · Jane Doe**: Taxes will rise." in report
    assert "> \\[3\\] She said taxes will rise next year." in report
    assert "To: Parliament" in report and "When: next year (2025-01-01 – 2025-12-31)" in report


def test_jsonl_has_one_line_per_result(tmp_path: Path) -> None:
    lines = [make_summary(i).model_dump_json() for i in range(4)]
    with OutputFolder(tmp_path) as folder:
        folder.write_jsonl(lines)
    written = (tmp_path / "summaries.jsonl").read_text().splitlines()
    assert len(written) == 4 and all(json.loads(line)["article"]["id"] for line in written)


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with OutputFolder(tmp_path), pytest.raises(ConfigurationError, match="another summarizer run"):
        OutputFolder(tmp_path).open()
    OutputFolder(tmp_path).open().close()  # released when the first run ends


def test_open_clears_temp_files_a_killed_run_left(tmp_path: Path) -> None:
    stale = tmp_path / ".summarizer" / "tmp" / "summaries.jsonl.123.abcd.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("partial")
    with OutputFolder(tmp_path):
        assert not stale.exists()


def test_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(ConfigurationError, match="is a file"):
        OutputFolder(tmp_path / "out").open()


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    from summarizer.runs.render import safe_cell

    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("-1+2") == "'-1+2" and safe_cell("Zelensky said") == "Zelensky said" and safe_cell(3) == 3
