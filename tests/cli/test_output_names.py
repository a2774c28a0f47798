"""`summarizer run` names each result after its input: folders kept, .jsonl lines numbered, clashes resolved;
resume and `summarizer eval` work on the named outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fixtures_lib import ARTICLES, ROOT, answer, by_article
from loopback import Reply
from memory import InProcessCLI, MemoryServer
from runs_lib import restating_answer, results_in

GOLD = ROOT / "fixtures" / "gold"


def test_names_follow_the_inputs_and_resume_and_eval_use_them(memory: MemoryServer, cli: InProcessCLI,
                                                               tmp_path: Path) -> None:
    news = tmp_path / "news"
    (news / "tech").mkdir(parents=True)
    shutil.copy(ARTICLES / "ie9.txt", news / "tech" / "ie9.txt")
    (news / "a.txt").write_text("The mayor said taxes will rise. Critics disagreed.", encoding="utf-8")
    (news / "a.md").write_text("The council met on Monday. It said the bridge will reopen.", encoding="utf-8")
    (news / "index.md").write_text("A story called index. The minister spoke.", encoding="utf-8")
    (news / "feed.jsonl").write_text(
        json.dumps({"text": "First line story. It has two sentences."}) + "\n"
        + json.dumps({"text": "Second line story. Also two sentences."}) + "\n", encoding="utf-8")
    ie9_marker = "Internet Explorer 9"
    assert ie9_marker in (news / "tech" / "ie9.txt").read_text(encoding="utf-8")
    fixture = by_article({ie9_marker: answer("ie9", "extract.recorded")})
    memory.responder = lambda r: fixture(r) if ie9_marker in r.prompt_text else Reply.tool_call(restating_answer(r))
    out = tmp_path / "out"

    done = cli("run", news, "-o", out)
    assert done.returncode == 0, done.stderr
    names = sorted(p.relative_to(out).as_posix() for p in results_in(out))
    assert names == ["a.json", "a.txt.json", "feed-1.json", "feed-2.json", "index.md.json", "tech/ie9.json"]
    assert (out / "tech" / "ie9.md").is_file() and (out / "index.md").read_text().startswith("# Summaries")
    ids = {json.loads(p.read_text())["article"]["id"] for p in results_in(out)}
    assert len(ids) == 6  # the article id stays inside each result

    memory.reset()
    again = cli("run", news, "-o", out)  # resume: nothing to ask, the same names
    assert again.returncode == 0 and memory.chat_requests == []
    assert sorted(p.relative_to(out).as_posix() for p in results_in(out)) == names

    gold = tmp_path / "gold"
    gold.mkdir()
    shutil.copy(GOLD / "ie9.json", gold / "ie9.json")
    scored = cli("eval", gold, out, "--articles", news / "tech", "--markdown", backend=False)
    assert scored.returncode == 0, scored.stderr
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert report["totals"]["run"]["with_output"] == 1 and report["totals"]["actors"]["matched"] > 0
