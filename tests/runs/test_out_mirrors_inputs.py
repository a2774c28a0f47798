"""OUT describes exactly this run's inputs: edits, metadata fixes and deletions are reflected on the next run,
and every offset in every result can be checked against the text the result itself carries."""

from __future__ import annotations

import csv
import json
import unicodedata
from pathlib import Path
from typing import Any

from loopback import Reply
from memory import MemoryServer
from runs_lib import prompt_sentences, results_by_id, results_in

from summarizer import Summarizer, summarize_folder
from summarizer.runs.report import BatchReport

BODY = "Minister Jane Doe spoke on Monday. She said taxes will rise next year. Critics disagreed."


def article(title: str, date: str, body: str = BODY) -> str:
    return f"---\ntitle: {title}\ndate: {date}\n---\n{body}\n"


def citing_every_sentence(request: Any) -> Reply:
    """A claim per numbered sentence of the prompt in the article's own voice, each restating its sentence (so
    that faithfulness verification keeps it) and quoting the sentence's first word."""
    claims = [{"actor": "article", "sentences": [n], "statement": text, "quote": text.split()[0]}
              for n, text in prompt_sentences(request).items()]
    return Reply.tool_call({"summary": "A summary.", "actors": [], "claims": claims, "predictions": [],
                            "warnings": []})


def run(memory: MemoryServer, folder: Path, out: Path) -> BatchReport:
    return summarize_folder(folder, out, summarizer=Summarizer(backend=memory.backend()))


def table(out: Path, name: str) -> list[dict[str, str]]:
    with (out / f"{name}.csv").open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_fixed_title_or_date_makes_a_new_result_and_the_same_text_twice_is_two_articles(
        memory: MemoryServer, tmp_path: Path) -> None:
    folder, out = tmp_path / "news", tmp_path / "out"
    folder.mkdir()
    (folder / "tax.md").write_text(article("Taxes", "2024-05-01"), encoding="utf-8")
    (folder / "tax-again.md").write_text(article("Taxes, again", "2024-06-01"), encoding="utf-8")  # same text
    memory.responder = citing_every_sentence
    first = run(memory, folder, out)
    assert (first.ok, len(first.skipped)) == (2, 0) and len(memory.chat_requests) == 2
    assert {r["article"]["title"] for r in results_by_id_all(out)} == {"Taxes", "Taxes, again"}

    memory.reset()
    (folder / "tax.md").write_text(article("Taxes", "2024-05-02"), encoding="utf-8")  # the date fixed
    again = run(memory, folder, out)
    assert (again.ok, again.cached) == (1, 1) and len(memory.chat_requests) == 1
    assert "2024-05-02" in memory.chat_requests[0].prompt_text  # the model saw the new date
    tax = json.loads((out / "tax.json").read_text(encoding="utf-8"))
    assert tax["article"]["date"] == "2024-05-02"
    assert [row["article_date"] for row in table(out, "claims") if row["article_title"] == "Taxes"] == [
        "2024-05-02"] * 3  # no row of the old version is left


def results_by_id_all(out: Path) -> list[dict[str, Any]]:
    """Every result in OUT (two may share an article id: the same text with other metadata)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in results_in(out)]


def test_deleting_and_editing_leaves_out_describing_exactly_the_current_inputs(memory: MemoryServer,
                                                                                 tmp_path: Path) -> None:
    folder, out = tmp_path / "news", tmp_path / "out"
    (folder / "asia").mkdir(parents=True)
    (folder / "a.md").write_text(article("A", "2024-05-01", "Alpha spoke. " + BODY), encoding="utf-8")
    (folder / "b.md").write_text(article("B", "2024-05-01", "Beta spoke. " + BODY), encoding="utf-8")
    (folder / "asia" / "c.md").write_text(article("C", "2024-05-01", "Gamma spoke. " + BODY), encoding="utf-8")
    memory.responder = citing_every_sentence
    assert run(memory, folder, out).ok == 3
    assert sorted(p.relative_to(out).as_posix() for p in results_in(out)) == ["a.json", "asia/c.json", "b.json"]

    (folder / "b.md").unlink()
    (folder / "asia" / "c.md").unlink()
    (folder / "a.md").write_text(article("A", "2024-05-01", "Alpha spoke again. " + BODY), encoding="utf-8")
    memory.reset()
    again = run(memory, folder, out)
    assert (again.ok, again.cached, len(memory.chat_requests)) == (1, 0, 1)
    assert [p.relative_to(out).as_posix() for p in results_in(out)] == ["a.json"]
    assert not (out / "b.md").exists() and not (out / "asia").exists()
    lines = (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["article"]["text"].split(".")[0] for line in lines] == ["Alpha spoke again"]
    assert {row["article_title"] for row in table(out, "claims")} == {"A"}
    assert len(table(out, "claims")) == 4  # the new version's four sentences, nothing of the old ones
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "(a.md)" in index and "b.md" not in index and "c.md" not in index

    (folder / "b.md").write_text(article("B", "2024-05-01", "Beta spoke. " + BODY), encoding="utf-8")
    memory.reset()
    back = run(memory, folder, out)  # an input that comes back is served from the store
    assert (back.ok, back.cached, len(memory.chat_requests)) == (0, 2, 0)
    assert sorted(p.name for p in results_in(out)) == ["a.json", "b.json"]


def test_every_span_is_checked_against_the_text_the_result_carries(memory: MemoryServer, tmp_path: Path) -> None:
    folder, out = tmp_path / "news", tmp_path / "out"
    folder.mkdir()
    nfd = unicodedata.normalize("NFD", "Café owner Zoë Müller said prices will rise. Résumé follows.")
    inputs = {
        "crlf.txt": "Line one is here.\r\nThe mayor said taxes will fall.\r\n\r\nA third line ends it.\r\n",
        "bom.txt": "\ufeffThe council met on Monday. It said the bridge will reopen.",
        "nfd.txt": nfd,
        "emoji.txt": "Fans cheered 🎉🎉 at the final. The coach 👩‍🏫 said they will win again. 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 too.",
        "front.md": "\n\n---\ntitle: Front\ndate: 2024-05-01\n---\n\nThe body starts here. It has two sentences.",
        "inline.txt": "date 2024-11-01 Ukraine's president said the war will end. Nobody agreed.",
    }
    for name, text in inputs.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    memory.responder = citing_every_sentence
    report = run(memory, folder, out)
    assert report.ok == len(inputs) and report.all_ok
    results = results_by_id(out)
    checked = 0
    for result in results.values():
        text = result["article"]["text"]
        assert text and len([i for kind in ("claims", "predictions", "warnings") for i in result[kind]]) >= 2
        for kind in ("claims", "predictions", "warnings"):
            for item in result[kind]:
                spans = [*item["evidence"]["sentences"], *filter(None, [item["evidence"]["quote"]])]
                for span in spans:
                    assert text[span["start"]:span["end"]] == span["text"], (result["article"]["path"], span)
                    checked += 1
    assert checked >= 2 * 2 * len(inputs)
    jsonl = [json.loads(line) for line in (out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(line["article"]["text"] for line in jsonl)  # the aggregate carries the texts too
