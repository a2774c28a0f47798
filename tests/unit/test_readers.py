"""Readers: every input format, encoding and failure becomes an Article or an InputError naming the file."""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import os
import sys
from pathlib import Path

import pytest

from summarizer.article.model import Article
from summarizer.article.readers import InputLineError, iter_file, read_article, read_articles
from summarizer.errors import InputError
from summarizer.runs.inputs import Skipped, discover

FIXTURES = Path(__file__).parents[2] / "fixtures" / "articles"
SEED = FIXTURES / "zelensky-north-korea.txt"
WIKINEWS = sorted(p for p in FIXTURES.glob("*.txt") if p != SEED)
SHARED = Path(__file__).parents[3] / "shared"
HTML_PAGES = SHARED / "corpus" / "html"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not checked out next to the repo")

BODY = "Kyiv accused Moscow of escalation. Officials said more troops were coming."


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only_error(path: Path, **kwargs: int) -> InputError:
    """The single InputError iter_file yields for a file that cannot be read at all."""
    results = list(iter_file(path, **kwargs))
    assert len(results) == 1 and isinstance(results[0], InputError), results
    assert str(path) in str(results[0])
    assert results[0].path == str(path)
    return results[0]


# --- plain text, front matter, inline date header ---------------------------------------------------


def test_seed_inline_date_header_becomes_metadata() -> None:
    assert SEED.read_bytes().startswith(b" date 2024-11-01 Ukrainian President")
    article = read_article(SEED)
    assert article.date == datetime.date(2024, 11, 1)
    assert "date 2024" not in article.text
    assert article.text.startswith("Ukrainian President Volodymyr Zelensky on Thursday")
    assert article.sentences[0].text.startswith("Ukrainian President")
    assert article.title is None
    assert article.path == str(SEED)
    assert len(article.sentences) == 37
    for sentence in article.sentences:
        assert article.text[sentence.start : sentence.end] == sentence.text


@pytest.mark.parametrize(
    "header",
    [
        "date 2024-11-01 ",
        "\ufeff  Date: 2024-11-01 ",
        "DATE=2024-11-01\n\n",
        "date:2024-11-01\n",
        "date 2024-11-1 ",
    ],
)
def test_inline_date_header_variants(tmp_path: Path, header: str) -> None:
    article = read_article(write(tmp_path, "a.txt", header + BODY))
    assert article.date == datetime.date(2024, 11, 1)
    assert article.text == BODY


def test_invalid_inline_date_is_refused(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "a.txt", "date 2024-13-45 " + BODY))
    assert "2024-13-45" in str(error) and "YYYY-MM-DD" in str(error)


def test_text_without_header_is_kept_whole(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, "a.txt", "Update: " + BODY))
    assert article.text == "Update: " + BODY
    assert article.date is None


@pytest.mark.parametrize("path", WIKINEWS, ids=lambda p: p.name)
def test_wikinews_front_matter(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    article = read_article(path)
    front = raw.split("---\n")[1]
    title = next(line[len("title: ") :] for line in front.splitlines() if line.startswith("title: "))
    assert article.title == title
    assert article.source is not None and article.source.startswith("https://en.wikinews.org/wiki/")
    assert f"date: {article.date}" in front
    assert article.text.startswith(title + "\n")  # the body keeps its repeated title line
    assert "license:" not in article.text and not article.text.startswith("---")


def test_wikinews_body_keeps_its_date_line() -> None:
    article = read_article(FIXTURES / "afghan.txt")
    assert article.date == datetime.date(2017, 7, 18)
    assert article.sentences[1].text == "Friday, July 21, 2017"


def test_front_matter_keys(tmp_path: Path) -> None:
    front = "---\nTitle: Headline\ndate: '2024-02-03T10:00:00Z'\nurl: https://example.org/a\n"
    front += "author: [Ann Lee, Bo Chan, ann lee]\nlicense: CC0\ntags: [x]\n---\n"
    article = read_article(write(tmp_path, "a.md", front + BODY))
    assert article.title == "Headline"
    assert article.date == datetime.date(2024, 2, 3)
    assert article.source == "https://example.org/a"
    assert article.byline == "Ann Lee, Bo Chan"
    assert article.text == BODY


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("---\ntitle: T\n  - nested: [x\n---\n", "front matter is not valid YAML (line 3)"),
        ("---\n- a list\n---\n", "front matter must be YAML keys"),
        ("---\ndate: yesterday\n---\n", "front matter date 'yesterday' is not a date"),
        ("---\ntitle: {a: 1}\n---\n", "front matter field 'title' must be text"),
    ],
)
def test_bad_front_matter(tmp_path: Path, front: str, message: str) -> None:
    assert message in str(only_error(write(tmp_path, "a.md", front + BODY)))


def test_front_matter_that_is_not_quite_yaml_is_read_literally(tmp_path: Path) -> None:
    front = (
        "---\ntitle: Reports: 'streamlined' asylum process\ndate: 2023-02-23\nsource: 'https://e.org'\n---\n"
    )
    article = read_article(write(tmp_path, "a.md", front + BODY))
    assert article.title == "Reports: 'streamlined' asylum process"
    assert article.date == datetime.date(2023, 2, 23)
    assert article.source == "https://e.org"


def test_unclosed_fence_is_body_text(tmp_path: Path) -> None:
    assert read_article(write(tmp_path, "a.md", "---\n" + BODY)).text == "---\n" + BODY


def test_front_matter_without_body(tmp_path: Path) -> None:
    assert "article is empty" in str(only_error(write(tmp_path, "a.md", "---\ntitle: T\n---\n\n")))


# --- JSON and JSONL ---------------------------------------------------------------------------------


def test_json_object(tmp_path: Path) -> None:
    data = {"text": BODY, "title": "T", "date": "2024-11-01", "url": "https://e.org", "byline": "Ann"}
    article = read_article(write(tmp_path, "a.json", json.dumps(data)))
    assert (article.text, article.title, article.date, article.source, article.byline) == (
        BODY,
        "T",
        datetime.date(2024, 11, 1),
        "https://e.org",
        "Ann",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"title": "T"}', 'has no "text" field'),
        ('{"text": 5}', '"text" field must be a string'),
        ('{"text": "  "}', '"text" field is empty'),
        (
            '{"text": "x",}',
            "invalid JSON: Expecting property name enclosed in double quotes at line 1 column",
        ),
        ('{\n"text": "x"\n', "invalid JSON: Expecting ',' delimiter at line 3 column 1"),
        ('[{"text": "x"}]', "found an array; put one article per line in a .jsonl file"),
        ('"just text"', "found a string"),
        ('{"text": "x", "date": "soon"}', "JSON date 'soon' is not a date"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_json(tmp_path: Path, content: str, message: str) -> None:
    assert message in str(only_error(write(tmp_path, "a.json", content)))


def test_jsonl_yields_good_articles_and_line_errors(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "First article. It is short."}),
        '{"text": "broken',
        json.dumps({"text": "Second article.", "author": "Bo"}),
        "",
        json.dumps({"title": "no text"}),
    ]
    path = write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n")
    results = list(iter_file(path))
    assert [type(r).__name__ for r in results] == ["Article", "InputLineError", "Article", "InputLineError"]
    first, broken, second, missing = results
    assert isinstance(first, Article) and first.path == f"{path}:1"
    assert isinstance(second, Article) and second.byline == "Bo" and second.path == f"{path}:3"
    assert isinstance(broken, InputLineError) and broken.line == 2 and broken.path == str(path)
    assert str(broken).startswith(f"{path}: line 2: invalid JSON line: Unterminated string")
    assert isinstance(missing, InputLineError) and missing.line == 5
    assert 'has no "text" field' in str(missing)
    with pytest.raises(InputLineError, match="line 2"):
        read_articles(path)
    with pytest.raises(InputError, match="holds 2 articles"):
        read_article(write(tmp_path, "two.jsonl", lines[0] + "\n" + lines[2]))


def test_read_articles_reads_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "b.ndjson", '{"text": "One."}\r\n{"text": "Two."}\r\n')
    assert [a.text for a in read_articles(path)] == ["One.", "Two."]


# --- encodings, sizes, unreadable files --------------------------------------------------------------

FRENCH = "Le café de la Place Saint-Michel à Zürich a rouvert. « Ça coûte très cher », déclare le patron."


def test_latin1_is_decoded(tmp_path: Path) -> None:
    text = " ".join([FRENCH] * 3)
    assert read_article(write(tmp_path, "a.txt", text.encode("latin-1"))).text == text


def test_cp1252_smart_quotes_are_decoded(tmp_path: Path) -> None:
    text = "“It’s over,” she said — and left. The café stayed open for a long time after that."
    assert read_article(write(tmp_path, "a.txt", text.encode("cp1252"))).text == text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_byte_order_marks_are_honoured(tmp_path: Path, encoding: str) -> None:
    raw = ("\ufeff" if encoding == "utf-16-be" else "") + "date 2024-11-01 " + FRENCH
    article = read_article(write(tmp_path, "a.txt", raw.encode(encoding)))
    assert article.text == FRENCH and article.date == datetime.date(2024, 11, 1)


def test_binary_is_refused(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    assert "binary file" in str(only_error(write(tmp_path, "image.txt", png)))


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    assert "file is empty" in str(only_error(write(tmp_path, "a.txt", content)))


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as stream:
        stream.truncate(20_000_000)
    error = only_error(path)
    assert str(error) == f"{path}: file is 20.0 MB; the limit is 5 MB (--max-bytes)"
    small = write(tmp_path, "a.txt", BODY)
    assert str(only_error(small, max_bytes=10)).endswith(
        f"file is {len(BODY)} bytes; the limit is 10 bytes (--max-bytes)"
    )
    assert read_article(small, max_bytes=len(BODY)).text == BODY


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "file not found" in str(only_error(tmp_path / "nope.txt"))
    assert "is a folder" in str(only_error(tmp_path))
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    assert "file not found" in str(only_error(tmp_path / "dangling.txt"))


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", BODY)
    path.chmod(0)
    assert "permission denied" in str(only_error(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(only_error, pipe)
        try:
            error = future.result(timeout=10)
        finally:
            if not future.done():  # the read blocked: give it a writer so the thread (and the test) can end
                pipe.write_bytes(b"")
    assert "not a regular file (a named pipe)" in str(error)


def test_read_article_raises_what_iter_file_yields(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as caught:
        read_article(tmp_path / "nope.txt")
    assert caught.value.path == str(tmp_path / "nope.txt")


# --- HTML ---------------------------------------------------------------------------------------------

PAGES = {
    "bbc-1": ["CBeebies", "Get news alerts", "Entertainment & Arts", "_sf_startpt", "bbcredirection"],
    "cnn": ["Advertise with Us", "Fear & Greed", "Premarkets", "cnnSiteWideCurrDate", "_vrq_automate"],
    "guardian-1": ["Back to home", "SecureDrop", "Complaints & corrections", "window.console", "@context"],
}


@needs_shared
@pytest.mark.parametrize("page", sorted(PAGES))
def test_html_page_main_text_and_title(page: str) -> None:
    expected = json.loads((HTML_PAGES / page / "expected-metadata.json").read_text(encoding="utf-8"))
    article = read_article(HTML_PAGES / page / "source.html")
    assert article.title == expected["title"]
    if expected.get("publishedTime"):
        assert article.date == datetime.date.fromisoformat(expected["publishedTime"][:10])
    if page != "bbc-1":
        assert article.byline == expected["byline"]
    assert len(article.sentences) > 15
    for absent in PAGES[page]:
        assert absent not in article.text, absent
    assert "function(" not in article.text and "<" not in article.text


def test_html_without_article_text(tmp_path: Path) -> None:
    page = "<html><head><title>x</title><script>var a = 1;</script></head><body><nav><ul>"
    page += '<li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav></body></html>'
    assert "no article text found in HTML" in str(only_error(write(tmp_path, "a.html", page)))


def test_html_declared_charset(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>{i}. {FRENCH}</p>" for i in range(5))
    page = '<html><head><meta charset="iso-8859-1"><title>Un café à Zürich</title>'
    page += f'<script>var t = "tracker";</script></head><body><article>{paragraphs}</article></body></html>'
    article = read_article(write(tmp_path, "a.htm", page.encode("latin-1")))
    assert article.title == "Un café à Zürich"
    assert FRENCH in article.text and "tracker" not in article.text


def test_html_without_trafilatura(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # what a missing package looks like to import
    error = only_error(write(tmp_path, "a.html", f"<p>{BODY}</p>"))
    assert "pip install trafilatura" in str(error)


# --- discover -----------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in [
        "b.txt", "a.md", "c.json", "d.jsonl", "e.html", "f.pdf", "noext", ".hidden.txt", ".git/x.txt",
        "README.md", "sub/z.txt", "sub/deeper/y.htm", "sub/drafts/w.txt", "sub/A.TXT",
    ]:  # fmt: skip
        write(tmp_path, name, BODY)
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    (tmp_path / "sub" / "alias.txt").symlink_to(tmp_path / "b.txt")
    return tmp_path


def rel(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_discover_walks_sorted_and_records_skips(tree: Path) -> None:
    files, skipped = discover([tree])
    assert rel(tree, files) == [
        "a.md", "b.txt", "c.json", "d.jsonl", "e.html",
        "sub/A.TXT", "sub/deeper/y.htm", "sub/drafts/w.txt", "sub/z.txt",
    ]  # fmt: skip
    reasons = {s.path.relative_to(tree).as_posix(): s.reason for s in skipped}
    assert reasons == {
        ".git": "hidden",
        ".hidden.txt": "hidden",
        "README.md": "a README/LICENSE-style file, not an article",
        "f.pdf": "unsupported file type '.pdf'",
        "noext": "unsupported file type without a suffix",
        "sub/alias.txt": "already listed through another path",
        "sub/loop": "symlink loop: links back to a folder above it",
    }
    assert all(isinstance(s, Skipped) for s in skipped)


def test_discover_include_exclude(tree: Path) -> None:
    files, skipped = discover([tree], include=["**/*.txt", "*.md"], exclude=["sub/drafts", "b.*"])
    assert rel(tree, files) == ["a.md", "sub/alias.txt", "sub/z.txt"]  # the link's own name is matched
    reasons = {s.path.relative_to(tree).as_posix(): s.reason for s in skipped}
    assert reasons["sub/drafts"] == "excluded by 'sub/drafts'"
    assert reasons["b.txt"] == "excluded by 'b.*'"
    assert reasons["c.json"] == "matches no include pattern"
    assert reasons["sub/A.TXT"] == "matches no include pattern"  # globs are case-sensitive


def test_discover_keeps_named_files_and_missing_ones(tree: Path) -> None:
    named = [tree / "f.pdf", tree / "missing.txt", tree / "sub" / "deeper", tree / "sub" / "deeper" / "y.htm"]
    files, skipped = discover(named)
    assert rel(tree, files) == ["f.pdf", "missing.txt", "sub/deeper/y.htm"]
    assert skipped == [Skipped(tree / "sub" / "deeper" / "y.htm", "already listed through another path")]
    assert "file not found" in str(only_error(tree / "missing.txt"))


def test_discover_fixtures_reads_every_article() -> None:
    files, skipped = discover([FIXTURES])
    assert [s.path.name for s in skipped] == ["README.md"]
    assert len(files) == 13
    for path in files:
        assert all(isinstance(result, Article) for result in iter_file(path))


@needs_shared
def test_fixtures_are_byte_exact_copies_of_shared() -> None:
    corpus = SHARED / "corpus"
    assert SEED.read_bytes() == (corpus / "seed" / SEED.name).read_bytes()
    for path in WIKINEWS:
        assert path.read_bytes() == (corpus / "wikinews" / path.name).read_bytes()


# --- issue 14: no input crashes a batch -------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2024-02-30", "front matter date '2024-02-30' is impossible: February 2024 has 29 days, not 30"),
        ("2023-02-29", "February 2023 has 28 days, not 29"),
        ("2024-13-01", "there is no month 13 (if it is day-first, write 2024-01-13)"),
        ("2024-31-01", "there is no month 31 (if it is day-first, write 2024-01-31)"),
        ("2024-31-31", "there is no month 31; write it as YYYY-MM-DD"),
        ("0000-01-01", "there is no year 0 (years start at 1)"),
        ("2024-04-00", "April 2024 has 30 days, not 0"),
        ("2024-01-01T10:00:00+99:00", "+99:00 is not a UTC offset (offsets run from -12:00 to +14:00)"),
        ("2024-01-01 10:00-24:00", "-24:00 is not a UTC offset"),
        ("2024-01-01T25:00", "25:00 is not a time of day"),
        ("2024-01-01T10:61:00Z", "10:61:00Z is not a time of day"),
    ],
)
def test_impossible_front_matter_dates_are_the_files_error(tmp_path: Path, date: str, message: str) -> None:
    error = only_error(write(tmp_path, "a.md", f"---\ntitle: T\ndate: {date}\n---\n{BODY}"))
    assert message in str(error) and "write it as YYYY-MM-DD" in str(error)


@pytest.mark.parametrize(
    ("date", "expected"),
    [("2024-02-29", datetime.date(2024, 2, 29)), ("2024-3-5", datetime.date(2024, 3, 5)),
     ("2024-03-01T23:30:00+14:00", datetime.date(2024, 3, 1)), ("2024-03-01T00:30:00-12:00", datetime.date(2024, 3, 1)),
     ("2024-03-01 10:00Z", datetime.date(2024, 3, 1)), ("'2024-03-01'", datetime.date(2024, 3, 1))],
)
def test_possible_dates_still_read_as_before(tmp_path: Path, date: str, expected: datetime.date) -> None:
    assert read_article(write(tmp_path, "a.md", f"---\ndate: {date}\n---\n{BODY}")).date == expected


def test_impossible_dates_in_json_and_inline_headers(tmp_path: Path) -> None:
    doc = json.dumps({"text": BODY, "date": "2024-06-31"})
    error = only_error(write(tmp_path, "a.json", doc))
    assert "JSON date '2024-06-31' is impossible: June 2024 has 30 days" in str(error)
    inline = write(tmp_path, "b.txt", f"date 2023-02-29\n{BODY}")
    assert "inline date header '2023-02-29' is impossible: February 2023 has 28 days" in str(only_error(inline))


def test_a_timestamp_in_another_front_matter_field_is_text_not_a_crash(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, "a.md", f"---\ntitle: 2024-02-30\nupdated: 2024-13-45\n---\n{BODY}"))
    assert article.title == "2024-02-30" and article.date is None


def test_numbers_too_long_for_python_are_the_files_error(tmp_path: Path) -> None:
    digits = "9" * (sys.get_int_max_str_digits() + 1) if sys.get_int_max_str_digits() else None
    if digits is None:
        pytest.skip("this Python reads integers of any length")
    front = only_error(write(tmp_path, "a.md", f"---\ntitle: T\nviews: {digits}\n---\n{BODY}"))
    assert f"a number with {len(digits):,} digits in front matter line 3 is longer than" in str(front)
    assert "put it in quotes" in str(front)
    doc = only_error(write(tmp_path, "a.json", f'{{"text": "{BODY}",\n "views": -{digits}}}'))
    assert f"a number with {len(digits):,} digits at line 2 column 11" in str(doc)
    lines = "\n".join([json.dumps({"text": "The first line is good."}), f'{{"text": "x", "n": {digits}}}',
                       json.dumps({"text": "The third line is good."})])
    results = list(iter_file(write(tmp_path, "a.jsonl", lines)))
    assert [type(r) for r in results] == [Article, InputLineError, Article]
    assert f"line 2: a number with {len(digits):,} digits at column 20" in str(results[1])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", '{"text": "Bad \\ud800 text. More text."}', 'the "text" field contains the escape \\ud800'),
        ("b.json", f'{{"text": "{BODY}", "title": "Caf\\udc80"}}', "JSON field 'title' contains the escape \\udc80"),
        ("c.json", f'{{"text": "{BODY}", "url": "http://x/\\udfff"}}', "JSON field 'source' contains the escape"),
        ("d.json", f'{{"text": "{BODY}", "author": ["A", "B\\ud801"]}}', "JSON field 'byline' contains the escape"),
        ("e.md", f'---\ntitle: "T \\ud800"\n---\n{BODY}', "front matter field 'title' contains the escape \\ud800"),
    ],
)
def test_lone_surrogates_are_the_files_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    error = only_error(write(tmp_path, name, content))
    assert message in str(error) and "a lone surrogate" in str(error) and "fix or remove" in str(error)
    assert str(error).encode("utf-8")  # the message itself can be stored and printed


def test_one_bad_jsonl_line_leaves_its_siblings(tmp_path: Path) -> None:
    lines = [json.dumps({"text": "The first line is good."}), '{"text": "x \\ud800"}',
             '{"text": "y", "date": "2024-02-30"}', json.dumps({"text": "The fourth line is good."})]
    results = list(iter_file(write(tmp_path, "a.jsonl", "\n".join(lines))))
    assert [type(r) for r in results] == [Article, InputLineError, InputLineError, Article]
    assert [r.line for r in results if isinstance(r, InputLineError)] == [2, 3]
    assert "line 3: JSON date '2024-02-30' is impossible" in str(results[2])


def test_the_safety_net_turns_any_reader_bug_into_the_files_error(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import summarizer.article.readers as readers

    def broken(*args: object) -> None:
        raise ZeroDivisionError("division by zero")

    path = write(tmp_path, "a.txt", BODY)
    monkeypatch.setattr(readers, "_article_from_text", broken)
    error = only_error(path)
    assert "unexpected ZeroDivisionError: division by zero" in str(error) and "please report it" in str(error)
    lines = "\n".join(json.dumps({"text": t}) for t in ("One. Two.", "Three. Four."))
    real = readers._article_from_json
    monkeypatch.setattr(readers, "_article_from_json",
                        lambda data, display: broken() if "Three" in data["text"] else real(data, display))
    results = list(iter_file(write(tmp_path, "a.jsonl", lines)))
    assert [type(r) for r in results] == [Article, InputLineError]
    assert "line 2: cannot be read: unexpected ZeroDivisionError" in str(results[1])


# --- file names and titles that must not reach a terminal raw -----------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="file names of arbitrary bytes")
def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / os.fsdecode(b"caf\xe9.txt")
    path.write_text(BODY)
    article = read_article(path)
    assert article.path == f"{tmp_path}/caf\\xe9.txt"
    article.model_dump_json()  # serialisable: no surrogate escape left
    empty = tmp_path / os.fsdecode(b"\xff.txt")
    empty.write_text("")
    (error,) = iter_file(empty)
    assert isinstance(error, InputError) and error.path == f"{tmp_path}/\\xff.txt"
    assert str(error) == f"{tmp_path}/\\xff.txt: file is empty"


def test_control_characters_in_names_are_escaped_and_in_titles_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "a\x1b[2J\nb\u202e.md", f'---\ntitle: "Red\\e[31m\\ttitle\\x00\\a"\n---\n{BODY}')
    article = read_article(path)
    assert article.path == f"{tmp_path}/a\\x1b[2J\\nb\\u202e.md"
    assert article.title == "Red[31m title"
    doc = json.dumps({"text": BODY, "title": "\x1b]0;x\x07\n", "author": "A\x00B", "url": "http://x/\x1b"})
    article = read_article(write(tmp_path, "a.json", doc))
    assert (article.title, article.byline, article.source) == ("]0;x", "AB", "http://x/")


def test_article_refuses_lone_surrogates_and_cleans_metadata() -> None:
    with pytest.raises(InputError, match=r"the title contains \\ud800, a lone surrogate"):
        Article.from_text(BODY, title="\ud800")
    with pytest.raises(InputError, match=r"x\.txt: the text contains \\udc80"):
        Article.from_text("Bad \udc80 text.", path="x.txt")
    article = Article.from_text(BODY, title="\x1b[2JT", path="caf\udce9\n.txt")
    assert (article.title, article.path) == ("[2JT", "caf\\xe9\\n.txt")
    assert Article.model_validate_json(article.model_dump_json()) == article  # stable through the store


# --- wrong encodings ---------------------------------------------------------------------------------


def test_a_meta_charset_that_lies_is_not_believed(tmp_path: Path) -> None:
    """windows-1251 declared over Windows-1252 bytes: "Cafй" mixes alphabets, so the encoding is guessed instead
    (as for any file that is not UTF-8; the guess is charset-normalizer's, and for short texts it may pick another
    Latin table, e.g. "crčme" from Windows-1250, but never the declared Cyrillic one)."""
    article = read_article(Path(__file__).parents[2] / "fixtures" / "bad" / "lying-charset.html")
    assert article.title == "Café de la Gare reopens" and "crème brûlée" in article.text
    page = ('<html><head><meta charset="windows-1251"><title>Caf\xe9 news</title></head><body><article>'
            "<p>The Caf\xe9 de Flore in Paris reopened on Monday after a long renovation.</p>"
            "<p>Its owner said the cr\xe8me br\xfbl\xe9e is back on the menu.</p></article></body></html>")
    article = read_article(write(tmp_path, "a.html", page.encode("cp1252")))
    assert "Café de Flore" in article.text and not {"й", "и", "ы"} & set(article.text)


def test_a_true_meta_charset_is_still_used(tmp_path: Path) -> None:
    page = ('<html><head><meta charset="windows-1251"></head><body><article><p>Городской совет собрался в '
            "понедельник и утвердил новый бюджет.</p><p>Мэр сказал, что решение было трудным.</p></article>"
            "</body></html>")
    assert "Городской совет" in read_article(write(tmp_path, "a.html", page.encode("cp1251"))).text


def test_a_file_mixing_encodings_fails_with_where(tmp_path: Path) -> None:
    data = "Zürich meldet: Der Rat tagte. ".encode() + "Die Bürgermeisterin sprach.".encode("latin-1")
    error = only_error(write(tmp_path, "a.txt", data))
    assert "the file mixes text encodings: 'ü' at byte 1 is UTF-8, but byte 0xFC at byte 36 is not" in str(error)
    assert "save the whole file in one encoding, UTF-8" in str(error)


def test_legacy_encodings_without_mixing_still_read(tmp_path: Path) -> None:
    ukrainian = "Гімн України прозвучав у понеділок. Рада ухвалила бюджет на наступний рік."
    assert read_article(write(tmp_path, "a.txt", ukrainian.encode("cp1251"))).text == ukrainian
    german = "Der Bäcker am Marktplatz schließt. Die Kundschaft ist traurig über die Maßnahme."
    assert read_article(write(tmp_path, "b.txt", german.encode("latin-1"))).text == german


def test_double_encoded_utf8_fails(tmp_path: Path) -> None:
    garbled = "The Café opened. It’s busy.".encode().decode("cp1252")
    error = only_error(write(tmp_path, "a.txt", garbled))
    assert "garbled by a wrong conversion: 'Ã©' at character 7 is how 'é' looks" in str(error)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_bom_are_text_not_binary(tmp_path: Path, codec: str) -> None:
    for text in (BODY, "Совет собрался в понедельник. Он утвердил бюджет."):
        assert read_article(write(tmp_path, "a.txt", text.encode(codec))).text == text


# --- cosmetic: navigation pages, unclosed front matter, symlink loops, project files -----------------


def test_a_navigation_only_page_is_no_article(tmp_path: Path) -> None:
    page = ('<html><head><title>Home</title></head><body><nav><a href="/">Home</a> <a href="/n">News</a></nav>'
            "</body></html>")
    error = only_error(write(tmp_path, "a.html", page))
    assert "no article text found in HTML: its only text is 'Home News', which reads like navigation" in str(error)


def test_unclosed_front_matter_is_not_sent_as_text(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "a.md", f"---\ntitle: T\ndate: 2024-01-01\n\n{BODY}"))
    assert "front matter is not closed" in str(error) and "add a line '---'" in str(error)
    rule = read_article(write(tmp_path, "b.md", f"---\n\n{BODY}"))  # a rule, then text: no front matter meant
    assert rule.text.endswith(BODY)


def test_a_symlink_loop_says_so(tmp_path: Path) -> None:
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    error = only_error(tmp_path / "loop.txt")
    assert "Too many levels of symbolic links (a symlink loop" in str(error)


def test_news_named_notice_is_read_but_project_files_are_skipped(tmp_path: Path) -> None:
    for name in ("notice.txt", "Notice-board.md", "copying.md", "NOTICE.txt", "COPYING.md", "readme.txt",
                 "License.md", "CHANGELOG.md", "contributing.md"):
        write(tmp_path, name, BODY + name)
    files, skipped = discover([tmp_path])
    assert sorted(p.name for p in files) == ["Notice-board.md", "copying.md", "notice.txt"]
    assert {s.path.name for s in skipped} == {"NOTICE.txt", "COPYING.md", "readme.txt", "License.md",
                                              "CHANGELOG.md", "contributing.md"}
