"""Actor names: one actor however spelled, uncertain matches marked not merged, and a run's actor index."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from loopback import Reply
from memory import InProcessCLI, MemoryRequest, MemoryServer
from runs_lib import FAST

from summarizer import ArticleSummary, Summarizer, summarize_folder
from summarizer.grounding.checks import merge_actor_drafts
from summarizer.grounding.names import Mention, group_mentions, split_title, variant_key
from summarizer.runs.actor_index import build_actor_index, filter_rows, load_actor_index
from summarizer.schema import ActorDraft


def groups(*mentions: Mention, across: bool = True) -> list[list[str]]:
    found = group_mentions(mentions, trust_aliases=not across)
    return [[mentions[i].name for i in members] for members in found.members]


def person(name: str, *aliases: str) -> Mention:
    return Mention(name, aliases, "person")


def test_zelensky_however_written_is_one_person() -> None:
    names = ["President Volodymyr Zelensky", "Zelensky", "Volodymyr Zelenskyy", "Zelenskiy", "V. Zelensky",
             "Ukrainian President Volodymyr Zelensky", "Zélensky"]
    found = group_mentions([person(n) for n in names])
    assert len(found.members) == 1 and found.uncertain == [set()]
    assert variant_key(found.canonical[0]) == "volodymyr zelensky"
    assert variant_key("Zelenskyy") == variant_key("Zelenskiy") == variant_key("Zelensky") == "zelensky"


@pytest.mark.parametrize("across", [True, False], ids=["across articles", "within an article"])
def test_north_and_south_korea_never_merge(across: bool) -> None:
    north = Mention("North Korea", ("Korea", "Pyongyang", "DPRK"), "country")
    south = Mention("South Korea", ("Korea", "Seoul", "the Republic of Korea"), "country")
    found = group_mentions([north, south, Mention("North Korean", (), "country")], trust_aliases=not across)
    assert [north.name] in groups(north, south, across=across) and [south.name] in groups(north, south)
    assert found.group_of[0] != found.group_of[1]
    assert variant_key("North Korea") != variant_key("South Korea")


def test_uncertain_matches_are_marked_not_merged() -> None:
    mentions = [person("Lloyd Austin", "Austin"), person("Lloyd Austen"), person("Joe Biden"),
                person("Hunter Biden"), person("Biden"), person("Jon Smith"), person("John Smith")]
    found = group_mentions(mentions)
    assert len(found.members) == len(mentions)  # nothing merged
    name = {g: found.canonical[g] for g in range(len(found.members))}
    maybe = {name[g]: {name[o] for o in others} for g, others in enumerate(found.uncertain)}
    assert maybe["Lloyd Austin"] == {"Lloyd Austen"} and maybe["Lloyd Austen"] == {"Lloyd Austin"}
    assert maybe["Biden"] == {"Joe Biden", "Hunter Biden"}  # a surname two persons carry
    assert maybe["Joe Biden"] == {"Biden"} and "Hunter Biden" not in maybe["Joe Biden"]
    assert maybe["Jon Smith"] == {"John Smith"}


def test_surname_alone_joins_the_one_person_who_carries_it_and_never_an_organisation() -> None:
    assert groups(person("Lloyd Austin"), person("Austin"), Mention("Austin", (), "other")) == [
        ["Lloyd Austin", "Austin"], ["Austin"]]
    assert groups(person("Gerald Ford"), Mention("Ford", ("Ford Motor Company",), "organization")) == [
        ["Gerald Ford"], ["Ford"]]


def test_descriptive_aliases_join_only_within_an_article() -> None:
    a = person("Volodymyr Zelensky", "the Ukrainian president")
    b = person("Petro Poroshenko", "the Ukrainian president")
    assert len(groups(a, b, across=True)) == 2
    assert len(groups(a, b, across=False)) == 1  # one article's own aliases are trusted


def test_merge_actor_drafts_keeps_the_first_id_and_the_fullest_name() -> None:
    drafts = [ActorDraft(id="A1", name="Zelensky", kind="person", role="president"),
              ActorDraft(id="A2", name="North Korea", kind="country", aliases=["Korea"]),
              ActorDraft(id="A3", name="Volodymyr Zelenskyy", kind="person", aliases=["President Zelensky"]),
              ActorDraft(id="A4", name="South Korea", kind="country", aliases=["Korea"]),
              ActorDraft(id="A5", name="the article", kind="other")]
    merged, remap = merge_actor_drafts(drafts)
    assert [(a.id, a.name) for a in merged] == [("A1", "Volodymyr Zelenskyy"), ("A2", "North Korea"),
                                                ("A4", "South Korea")]
    assert merged[0].aliases == ["Zelensky"] and merged[0].role == "president"
    assert remap == {"A1": "A1", "A2": "A2", "A3": "A1", "A4": "A4"}


# --------------------------------------------------------------------------- a run's actor index

STORIES = {
    1: "President Volodymyr Zelensky spoke in Kyiv on Monday. He said North Korea sent troops. "
       "He warned South Korea to act now. Defense Secretary Lloyd Austin agreed with him.",
    2: "Zelenskyy met reporters on Tuesday. North Korea denied sending troops. "
       "Lloyd Austen said more would come. The talks will resume next week.",
    3: "Zelensky said he was grateful to Seoul. South Korea said it would help. "
       "Joe Biden and Hunter Biden were not there. Biden said he would call.",
}
ANSWERS: dict[int, dict[str, Any]] = {
    1: {"actors": [
        {"id": "A1", "name": "Volodymyr Zelensky", "kind": "person",
         "aliases": ["President Volodymyr Zelensky"]},
        {"id": "A2", "name": "North Korea", "kind": "country", "aliases": ["Pyongyang"]},
        {"id": "A3", "name": "South Korea", "kind": "country", "aliases": []},
        {"id": "A4", "name": "Lloyd Austin", "kind": "person",
         "aliases": ["Defense Secretary Lloyd Austin"]}],
        "claims": [{"actor": "A1", "sentences": [2], "statement": "North Korea sent troops."},
                   {"actor": "A4", "sentences": [4], "statement": "Austin agreed."}],
        "predictions": [],
        "warnings": [{"actor": "A1", "sentences": [3], "statement": "South Korea must act now.",
                      "addressees": ["A3"]}]},
    2: {"actors": [
        {"id": "A1", "name": "Volodymyr Zelenskyy", "kind": "person", "aliases": ["Zelenskyy"]},
        {"id": "A2", "name": "North Korea", "kind": "country", "aliases": ["Korea"]},
        {"id": "A3", "name": "Lloyd Austen", "kind": "person", "aliases": []}],
        "claims": [{"actor": "A2", "sentences": [2], "statement": "North Korea denied sending troops."}],
        "predictions": [{"actor": "A3", "sentences": [3], "statement": "More will come."},
                        {"actor": "article", "sentences": [4], "statement": "Talks resume next week."}],
        "warnings": []},
    3: {"actors": [
        {"id": "A1", "name": "Zelensky", "kind": "person", "aliases": []},
        {"id": "A2", "name": "South Korea", "kind": "country", "aliases": ["Korea", "Seoul"]},
        {"id": "A3", "name": "Joe Biden", "kind": "person", "aliases": []},
        {"id": "A4", "name": "Hunter Biden", "kind": "person", "aliases": []},
        {"id": "A5", "name": "Biden", "kind": "person", "aliases": []}],
        "claims": [{"actor": "A1", "sentences": [1], "statement": "Zelensky is grateful to Seoul."},
                   {"actor": "A2", "sentences": [2], "statement": "South Korea will help."}],
        "predictions": [{"actor": "A5", "sentences": [4], "statement": "Biden will call."}],
        "warnings": []},
}


def answer_story(request: MemoryRequest) -> Reply:
    story = next(i for i, text in STORIES.items() if text.split(".")[0] in request.prompt_text)
    return Reply.tool_call({"summary": f"Story {story}.", **ANSWERS[story]})


@pytest.fixture
def run_out(memory: MemoryServer, tmp_path: Path) -> Path:
    """A small batch run whose articles name the same actors in different ways."""
    (tmp_path / "in").mkdir()
    for i, text in STORIES.items():
        story = f"---\ntitle: Story {i}\n---\n{text}\n"
        (tmp_path / "in" / f"story-{i}.md").write_text(story, encoding="utf-8")
    memory.responder = answer_story
    with Summarizer(backend=memory.backend(model="gpt-4o-mini", api_key="k"), policy=FAST) as summarizer:
        report = summarize_folder(tmp_path / "in", tmp_path / "out", summarizer=summarizer)
    assert report.ok == 3 and report.all_ok
    return tmp_path / "out"


def test_run_writes_one_row_per_real_actor(run_out: Path) -> None:
    with (run_out / "actors_index.csv").open(encoding="utf-8", newline="") as stream:
        rows = {row["name"]: row for row in csv.DictReader(stream)}
    assert sorted(map(variant_key, rows)) == sorted(map(variant_key, [
        "Volodymyr Zelensky", "North Korea", "South Korea", "Lloyd Austin", "Lloyd Austen", "Joe Biden",
        "Hunter Biden", "Biden"]))
    zelensky = next(row for name, row in rows.items() if variant_key(name) == "volodymyr zelensky")
    assert (zelensky["articles"], zelensky["claims"], zelensky["warnings"]) == ("3", "2", "1")
    assert {"Zelenskyy", "Zelensky"} <= set(zelensky["aliases"].split("; "))
    assert zelensky["kinds"] == "person"
    assert (rows["North Korea"]["articles"], rows["South Korea"]["articles"]) == ("2", "2")
    assert rows["North Korea"]["possibly_same_as"] == "South Korea"  # both were called "Korea"
    assert rows["Lloyd Austin"]["possibly_same_as"] == "Lloyd Austen"
    assert set(rows["Biden"]["possibly_same_as"].split("; ")) == {"Joe Biden", "Hunter Biden"}
    assert (rows["Biden"]["predictions"], rows["Lloyd Austen"]["predictions"]) == ("1", "1")
    assert len(rows["Lloyd Austin"]["article_ids"]) == 64

    data = json.loads((run_out / "actors_index.json").read_text(encoding="utf-8"))
    assert data["version"] == "1" and len(data["actors"]) == len(rows)
    lines = (run_out / "summaries.jsonl").read_text(encoding="utf-8").splitlines()
    assert load_actor_index(run_out) == build_actor_index(map(ArticleSummary.model_validate_json, lines))
    stories = [a["title"] for a in data["actors"][0]["articles"]]
    assert data["actors"][0]["name"] == zelensky["name"]
    assert sorted(stories) == ["Story 1", "Story 2", "Story 3"]


def test_index_rebuilds_from_summaries_when_the_files_are_missing(run_out: Path) -> None:
    before = load_actor_index(run_out)
    (run_out / "actors_index.json").unlink()
    assert load_actor_index(run_out) == before
    assert [r.name for r in filter_rows(before, "ZELENSKI")] == []  # a substring, not a fuzzy match
    assert len(filter_rows(before, "zélensk")) == 1 and len(filter_rows(before, "korea")) == 2


def test_cli_lists_the_index_filtered_by_name(cli: InProcessCLI, run_out: Path, tmp_path: Path) -> None:
    done = cli("actors", run_out, "--name", "korea", "--json", backend=False)
    assert done.returncode == 0, done.stderr
    assert sorted(r["name"] for r in json.loads(done.stdout)["actors"]) == ["North Korea", "South Korea"]
    table = cli("actors", run_out, backend=False)
    assert table.returncode == 0, table.stderr
    assert re.search(r"Lloyd Austin .* Lloyd Austen", table.stdout) and "8 actor(s)" in table.stdout
    missing = cli("actors", tmp_path / "nowhere", backend=False)
    assert missing.returncode == 2 and "summarizer run" in missing.stderr


@pytest.mark.parametrize(("name", "expected"), [
    ("Secretary of Defense Lloyd Austin", ("Secretary of Defense", "Lloyd Austin")),
    ("President Volodymyr Zelensky", ("President", "Volodymyr Zelensky")),
    ("Ukrainian President Volodymyr Zelensky", ("Ukrainian President", "Volodymyr Zelensky")),
    ("Lloyd Austin", ("", "Lloyd Austin")),
    ("Pope Francis", ("", "Pope Francis")),  # one word would be left: the title stays part of the name
    ("General Motors", ("", "General Motors")),
    ("North Korea", ("", "North Korea")),
])
def test_split_title(name: str, expected: tuple[str, str]) -> None:
    assert split_title(name) == expected


def test_a_person_named_with_a_title_is_named_without_it_and_the_title_becomes_the_role() -> None:
    drafts = [ActorDraft(id="A1", name="Secretary of Defense Lloyd Austin", kind="person"),
              ActorDraft(id="A2", name="Ukrainian President Volodymyr Zelensky", kind="person", role="head of state"),
              ActorDraft(id="A3", name="The Kyiv Independent", kind="organization")]
    merged, _ = merge_actor_drafts(drafts)
    assert [(a.name, a.role) for a in merged] == [("Lloyd Austin", "Secretary of Defense"),
                                                  ("Volodymyr Zelensky", "head of state"),
                                                  ("The Kyiv Independent", "")]
