"""The bad-input corpus of issue 14: what each file of `fixtures/bad/` must end as, and the cases that cannot be
committed, made at test time.

Shared by `tests/http/test_bad_inputs.py` (the committed files, through the CLI in a subprocess against the
loopback server) and `tests/cli/test_bad_input_corpus.py` (everything in one batch, in process, against the
in-memory server). Every file is authored for the tests (see `fixtures/bad/README.md`).
"""

from __future__ import annotations

import os
from pathlib import Path

from fixtures_lib import ROOT

BAD = ROOT / "fixtures" / "bad"

# Committed in fixtures/bad/ before issue 14 (`tests/http/test_bad_inputs.py` adds the ones it makes itself).
# file -> a part of the message of its one line in failures.jsonl
OLD_ERRORS = {
    "empty.txt": "file is empty",
    "whitespace-only.txt": "file is empty: only whitespace or invisible characters",
    "binary.txt": "binary file (no text encoding fits it)",
    "nul-bytes.txt": "binary file (it contains NUL bytes)",
    "navigation-only.html": "no article text found in HTML",
    "no-text-field.json": 'JSON object has no "text" field',
    "deeply-nested.json": "JSON is nested too deeply to read",
    "json-array.json": "found an array; put one article per line in a .jsonl file",
    "bad-front-matter.md": "front matter is not valid YAML",
    "one-broken-line.jsonl": "line 2: invalid JSON line: Unterminated string starting at column 29",
}
OLD_SUMMARIES = {
    "latin-1.txt": ("Der Gemeinderat von Zürich hat am Montag die Gebühren für Straßencafés erhöht. Die "
                    "Bürgermeisterin sagte, die Maßnahme sei nötig. Café-Besitzer äußerten scharfe Kritik und "
                    "kündigten Widerstand an."),
    "utf-16-bom.txt": ("Le conseil municipal de Genève a voté lundi une hausse des tarifs. La maire a déclaré que la "
                       "décision était « nécessaire ». Les commerçants ont protesté."),
    "Bericht über Zürich – Nr. 2 (Entwurf).txt": ("Die Stadt Zürich plant eine neue Tramlinie. Der Bau soll 2026 "
                                                  "beginnen."),
    "template-syntax.md": ("The notice on the town hall door read {{ 7*7 }} in large letters. Below it someone had "
                           "written {% for item in items %}{{ item }}{% endfor %} by hand. The clerk said {# this is "
                           "not a comment #} was a printing error and {{ config.__class__ }} would be removed."),
    "one-broken-line.jsonl:1": "The mayor opened the new bridge on Friday. Traffic will flow from Monday.",
    "one-broken-line.jsonl:3": "The library will close for repairs in June. Readers can use the branch office.",
}

# Committed in fixtures/bad/ for issue 14. file -> a part of the message that says what is wrong
NEW_ERRORS = {
    "date-feb-30.md": "front matter date '2024-02-30' is impossible: February 2024 has 29 days, not 30",
    "date-month-13.md": "front matter date '2024-13-01' is impossible: there is no month 13",
    "date-day-first.md": "there is no month 31 (if it is day-first, write 2024-01-31)",
    "date-year-zero.md": "front matter date '0000-01-01' is impossible: there is no year 0",
    "date-offset-99.md": "+99:00 is not a UTC offset",
    "date-hour-25.md": "25:00 is not a time of day",
    "date-inline-feb-29.txt": "inline date header '2023-02-29' is impossible: February 2023 has 28 days",
    "date-impossible.json": "JSON date '2024-06-31' is impossible: June 2024 has 30 days, not 31",
    "long-number.md": "a number with 5,000 digits in front matter line 3 is longer than the 4,300 digits",
    "long-number.json": "a number with 5,000 digits at line 1 column 33 is longer than the 4,300 digits",
    "long-number-line.jsonl": "line 2: a number with 5,000 digits at column 35 is longer than the 4,300 digits",
    "surrogate-text.json": 'the "text" field contains the escape \\ud800, a lone surrogate',
    "surrogate-title.json": "JSON field 'title' contains the escape \\ud800, a lone surrogate",
    "surrogate-byline.json": "JSON field 'byline' contains the escape \\udc80, a lone surrogate",
    "surrogate-title.md": "front matter field 'title' contains the escape \\ud800, a lone surrogate",
    "surrogate-line.jsonl": 'line 2: the "text" field contains the escape \\udfff, a lone surrogate',
    "mixed-encodings.txt": "the file mixes text encodings: 'ü' at byte 1 is UTF-8, but byte 0xFC at byte 51 is not",
    "double-encoded.txt": "the text is garbled by a wrong conversion: 'Ã©' at character 7 is how 'é' looks",
    "navigation-links.html": ("no article text found in HTML: its only text is 'Home News', which reads like "
                              "navigation"),
    "empty-body.html": "no article text found in HTML",
    "unclosed-front-matter.md": "front matter is not closed",
    "front-matter-only.md": "the file has front matter but no article text after it",
    "front-matter-list.md": "front matter must be YAML keys such as 'title:' and 'date:'",
    "front-matter-too-deep.md": "front matter is nested too deeply to read",
    "title-object.json": "JSON field 'title' must be text",
    "text-number.json": 'the "text" field must be a string',
    "text-blank.json": 'the "text" field is empty',
    "json-null.json": 'expected a JSON object with a "text" field, found null',
    "json-string.json": 'expected a JSON object with a "text" field, found a string',
    "trailing-comma.json": "invalid JSON: Expecting property name enclosed in double quotes at line 4 column 1",
    "line-not-object.jsonl": "line 2: expected a JSON object with a \"text\" field, found an array",
    "bom-but-latin-1.txt": "not valid utf-8 despite its byte-order mark",
}
# file (":line" for JSONL) -> the exact article text it must yield
NEW_SUMMARIES = {
    "long-number-line.jsonl:1": "The harbour will be dredged in May. Fishing boats must moor elsewhere.",
    "long-number-line.jsonl:3": "The city orchestra hired a new conductor. Her first concert is in October.",
    "surrogate-line.jsonl:1": "Two new parks will open in the north of the city. Each will have a playground.",
    "surrogate-line.jsonl:3": "The council painted new cycle lanes downtown. Drivers complained about parking.",
    "line-not-object.jsonl:1": "The public pool reopened after repairs. Entry is free this week.",
    "line-not-object.jsonl:3": "The farmers market moves to the square. Stalls open at seven.",
    # <meta charset="windows-1251"> over Windows-1252 bytes: the declaration is found wrong and not used
    "lying-charset.html": ("Café de la Gare reopens\n\nThe Café de la Gare reopened on Monday after a long renovation."
                           "\n\nIts owner said the crème brûlée is back on the menu.\n\nRegulars praised the new "
                           "terrace and the old prices."),
    "utf-16-no-bom.txt": "The ferry to the island runs again. Storm damage to the pier has been repaired.",
    "control-title.md": "The council voted for the tram extension. Work begins in autumn.",
    "control-title.json": "The harbour festival returns in August. Tall ships will visit.",
    "notice.txt": "The council posted a public notice about road works. The main street closes for two weeks.",
}
# Titles that held control characters (ESC [2J clears a screen, ESC ]0; sets a terminal's title, BEL, NUL, tab)
CLEAN_TITLES = {"control-title.md": "Council [2J votes on trams", "control-title.json": "Harbour festival]0;pwned"}

# Made at test time by `make_uncommittable` (names git cannot hold portably, links, pipes, modes).
# name -> (as the path is shown, a part of the error message)
MADE_ERRORS = {
    "huge.txt": ("huge.txt", "file is 6.0 MB; the limit is 5 MB (--max-bytes)"),
    "symlink-loop.txt": ("symlink-loop.txt", "(a symlink loop: the link leads back to itself"),
    "loop-a.txt": ("loop-a.txt", "(a symlink loop: the link leads back to itself"),
    "loop-b.txt": ("loop-b.txt", "(a symlink loop: the link leads back to itself"),
    "dangling-link.txt": ("dangling-link.txt", "file not found"),
    "link-to-pipe.txt": ("link-to-pipe.txt", "not a regular file (a named pipe)"),
    b"\xff\xfe-empty.txt": ("\\xff\\xfe-empty.txt", "file is empty"),
    "esc-\x1b[2J-empty.txt": ("esc-\\x1b[2J-empty.txt", "file is empty"),
    "unreadable.txt": ("unreadable.txt", "permission denied: the file cannot be read"),
}
# name -> (as the path is shown in the result, the exact article text)
MADE_SUMMARIES = {
    b"caf\xe9.txt": ("caf\\xe9.txt", "The café on the square changed hands. The new owners kept its name."),
    "esc-\x1b[2J-\x07name.txt": ("esc-\\x1b[2J-\\x07name.txt", "The ski lift opened early. Snow fell all night."),
    "new\nline.txt": ("new\\nline.txt", "The river ferry got a new engine. Crossings are faster now."),
    "bidi-\u202etxt.md": ("bidi-\\u202etxt.md", "The observatory opened to the public. Visitors saw Saturn's rings."),
}
# name -> the reason it is passed over (reported, not a failure)
MADE_SKIPS = {"NOTICE.txt": "a README/LICENSE-style file", "pipe.txt": "not a regular file",
              "back-up": "symlink loop"}


def made_name(name: str | bytes) -> str:
    return os.fsdecode(name)


def make_uncommittable(folder: Path) -> dict[str, tuple[str, str]]:
    """Add the cases that cannot be committed to `folder`; returns MADE_ERRORS as made here (by shown name).

    `unreadable.txt` is left out where mode 000 cannot stop this process (root): the subprocess test in
    `tests/http/test_bad_inputs.py` drops root's capabilities to cover it.
    """
    errors = dict(MADE_ERRORS.items())
    with (folder / "huge.txt").open("wb") as stream:  # 6 MB of plain sentences, over the 5 MB default limit
        stream.write(b"The council met again and talked for a long time. " * 120_000)
    (folder / "symlink-loop.txt").symlink_to("symlink-loop.txt")  # ELOOP on open
    (folder / "loop-a.txt").symlink_to("loop-b.txt")  # two links pointing at each other
    (folder / "loop-b.txt").symlink_to("loop-a.txt")
    (folder / "dangling-link.txt").symlink_to("no-such-article.txt")
    os.mkfifo(folder / "pipe.txt")  # in a folder: passed over; through a link: a per-file error, never opened
    (folder / "link-to-pipe.txt").symlink_to("pipe.txt")
    (folder / "NOTICE.txt").write_text("Copyright notice of a project, not news.\n")
    (folder / "nested").mkdir()
    (folder / "nested" / "back-up").symlink_to("..", target_is_directory=True)
    for name in (b"\xff\xfe-empty.txt", "esc-\x1b[2J-empty.txt"):
        (folder / made_name(name)).write_bytes(b"")
    for name, (_, text) in MADE_SUMMARIES.items():
        (folder / made_name(name)).write_text(text + "\n", encoding="utf-8")
    unreadable = folder / "unreadable.txt"
    unreadable.write_text("The council met on Monday. It approved the budget.\n")
    unreadable.chmod(0)
    try:
        unreadable.open("rb").close()
    except PermissionError:
        pass
    else:  # root: it can be read whatever its mode
        unreadable.unlink()
        del errors["unreadable.txt"]
    return {made_name(name): shown for name, shown in errors.items()}
