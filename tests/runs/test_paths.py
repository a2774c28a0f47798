"""Output paths come from input names only, made safe, never from titles, URLs or other untrusted fields.

Hostile titles point inside tmp_path (never at /etc: tests may run as root), so that a bug would show up as a
stray file next to OUT rather than damage the machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from loopback import Reply
from memory import MemoryServer
from runs_lib import restating_answer

from summarizer import Article, Summarizer, summarize_folder
from summarizer.runs.output import OutputFolder
from summarizer.runs.store import STORE_DIR

NAME_FILE = re.compile(r"\A(\d|more-\d)\.(json|md)\Z")  # 0.json … 4.json, more-1 … more-4 (.jsonl lines)
AGGREGATES = {"summaries.jsonl", "failures.jsonl", "index.md", "actors.csv", "claims.csv", "predictions.csv",
              "warnings.csv", "actors_index.csv", "actors_index.json", "summaries.sqlite",
              "review.html"}


def hostile(tmp_path: Path) -> list[dict[str, str]]:
    """Articles whose title, url and other fields look like paths, each with a distinct text."""
    target = tmp_path / "outside"
    fields = [
        {"title": "../../outside/passwd", "url": "../../outside/shadow"},
        {"title": f"{target}/absolute.json", "url": f"file://{target}/absolute.md"},
        {"title": "a/b/c", "source": "/", "byline": "../../../../outside/byline"},
        {"title": "..\\..\\outside\\windows.json", "url": "C:\\outside\\x.json"},
        {"title": "summaries.jsonl", "url": "index.md"},  # the names of OUT's own files
        {"title": ".summarizer/store.sqlite", "url": "./.summarizer/lock"},
        {"title": "[click](javascript:alert(1)) | col | ](x.md)", "url": "https://example.org/[x](y)"},
        {"title": "Same title"},
        {"title": "Same title"},  # a different article with the same title: its own file
    ]
    return [{**f, "text": f"Article number {i} says something. The council met on day {i}."}
            for i, f in enumerate(fields)]


def snapshot(root: Path, skip: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_relative_to(skip)}


def test_file_names_come_from_input_names_only(memory: MemoryServer, tmp_path: Path) -> None:
    articles = hostile(tmp_path)
    folder, out = tmp_path / "in", tmp_path / "work" / "out"
    folder.mkdir()
    for i, article in enumerate(articles[:5]):
        (folder / f"{i}.json").write_text(json.dumps(article), encoding="utf-8")
    (folder / "more.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles[5:]), encoding="utf-8")
    (folder / "copy.json").write_text(json.dumps(articles[0]), encoding="utf-8")  # the same article again
    before = snapshot(tmp_path, out)
    memory.responder = lambda request: Reply.tool_call(restating_answer(request))

    report = summarize_folder(folder, out, summarizer=Summarizer(backend=memory.backend(model="gpt-4o-mini")))

    assert report.all_ok and report.ok == len(articles)
    assert [s.reason for s in report.skipped] == [f"same text as {folder / '0.json'} (and the same title and date)"]
    assert snapshot(tmp_path, out) == before and not (tmp_path / "outside").exists()  # nothing outside OUT
    ids = {Article.from_text(a["text"]).id for a in articles}
    names = {"0", "1", "2", "3", "4", "more-1", "more-2", "more-3", "more-4"}
    per_article = [p for p in out.iterdir() if p.name not in AGGREGATES and p.name != STORE_DIR]
    assert all(NAME_FILE.match(p.name) and p.is_file() and not p.is_symlink() for p in per_article), per_article
    assert {p.stem for p in per_article} == names and len(per_article) == 2 * len(ids)
    held = {json.loads((out / f"{n}.json").read_text(encoding="utf-8"))["article"]["id"] for n in names}
    assert held == ids  # each file holds one article, each article has its file
    titles = {json.loads(line)["article"]["title"] for line in (out / "summaries.jsonl").read_text().splitlines()}
    assert titles == {a["title"] for a in articles}  # the titles themselves are kept, verbatim
    assert {p.name for p in (out / STORE_DIR).iterdir()} <= {"store.sqlite", "store.sqlite-wal",
                                                             "store.sqlite-shm", "lock", "tmp"}
    links = re.findall(r"(?<!\\)\]\(([^)]*)\)", (out / "index.md").read_text(encoding="utf-8"))
    assert sorted(links) == sorted(f"{n}.md" for n in names)  # a title cannot add or redirect a link


@pytest.mark.parametrize("bad", ["../" + "a" * 64, "/" + "a" * 63, "a" * 63 + "/", "a/../../b", ".summarizer/lock", ""])
def test_only_a_safe_name_names_a_file(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not an output name"):
        OutputFolder(tmp_path).article_files(bad)
