"""Output names: after the input, folder structure kept, safe, unique, and the same on every run."""

from __future__ import annotations

from pathlib import Path

from summarizer import Article
from summarizer.runs.names import OutputNames


def named(path: str, title: str | None = None) -> Article:
    return Article.from_text(f"Text of {path}.", path=path, title=title)


def test_files_keep_their_place_below_the_folder_given() -> None:
    names = OutputNames(["news", "extra/one.txt"])
    assert names.name(named("news/afghan.txt")) == "afghan"
    assert names.name(named("news/asia/kabul.md")) == "asia/kabul"
    assert names.name(named("extra/one.txt")) == "one"  # a file given by itself
    assert names.name(named("news/feed.jsonl:3")) == "feed-3"  # a .jsonl line, numbered
    assert names.name(named("news/afghan.txt")) == "afghan"  # the same input, the same name


def test_clashes_keep_the_suffix_then_count_and_own_files_are_never_shadowed() -> None:
    names = OutputNames(["news"])
    assert [names.name(named(p)) for p in ("news/a.txt", "news/a.md", "news/A.html", "news/index.md",
                                           "news/summaries.txt", "news/a.md.txt")] == [
        "a", "a.md", "A.html", "index.md", "summaries.txt", "a.md.txt"]
    three = OutputNames(["one", "two", "three"])
    assert [three.name(named(f"{root}/x.txt")) for root in ("one", "two", "three")] == ["x", "x.txt", "x.txt-2"]


def test_unsafe_characters_and_articles_without_a_file() -> None:
    names = OutputNames(["in"])
    assert names.name(named("in/../../etc/passwd")) == "etc/passwd"  # no way up, whatever the path says
    assert names.name(named("in/.hidden/x y$%.txt")) == "hidden/x y__"
    assert names.name(named("in/caf\\xe9\x1b[2J.txt")) == "caf_xe9_x1b_2J"  # escapes and control characters
    assert names.name(Article.from_text("Some text.", path="-")) == "stdin"
    direct = Article.from_text("Other text.", title="Budget: 2025/26")
    assert names.name(direct) == "Budget_ 2025_26"
    assert all(part and not part.startswith(".") for name in names.by_input.values() for part in name.split("/"))
    assert Path(names.name(named("in/" + "x" * 300 + ".txt"))).name == "x" * 100
