"""What each article's files in OUT are called: after its input, so `news/afghan.txt` gives `OUT/afghan.json`.

- A file under a folder given keeps its place below that folder (`news/asia/afghan.txt` → `asia/afghan`); a file
  given by itself keeps its name (`afghan`).
- A `.jsonl` line is numbered after its file (`feed.jsonl` line 3 → `feed-3`).
- An article given directly (Python) or on stdin is named after its title, else its id (`stdin` for `-`).
- Names are safe on every filesystem: letters, digits, `.`, `-`, `_` and spaces are kept, anything else
  becomes `_`, no part starts with a dot, and each part is at most 100 characters.
- The later of two inputs that would get one name (`a.md` after `a.txt`) keeps its suffix (`a.md`), and so
  does an input named like a file of the run itself (`index.md` → `index.md.json`); a clash left after that
  gets `-2`, `-3`… in reading order. Reading order is stable, so a rerun gives the same names.

The article id (a hash of its text) stays inside each result and in `summaries.jsonl`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from summarizer.article.model import Article

__all__ = ["OutputNames"]

_UNSAFE = re.compile(r"[^\w .\-]", re.UNICODE)
_LINE = re.compile(r"\A(?P<file>.*):(?P<line>\d+)\Z")  # how readers name a .jsonl line: "<file>:<line>"
MAX_PART = 100
# Files a run writes at the top of OUT beside the articles': an input named like one gets its suffix kept.
RESERVED = ("index", "summaries", "failures", "actors", "claims", "predictions", "warnings", "actors_index", "eval")


def _safe(part: str) -> str:
    """One path component made safe to create anywhere (no separators, controls or leading dots)."""
    part = unicodedata.normalize("NFC", part)
    part = _UNSAFE.sub("_", "".join(c if unicodedata.category(c)[0] != "C" else "_" for c in part)).strip()
    part = part.lstrip(".") or "_"
    return part[:MAX_PART]


class OutputNames:
    """Names for the articles of one run, unique within it; the same inputs always get the same names."""

    def __init__(self, roots: Sequence[str | Path | Article] = ()) -> None:
        self.roots = [Path(r) for r in roots if not isinstance(r, Article) and str(r) != "-"]
        self.taken: dict[str, str] = dict.fromkeys(RESERVED, "")  # name (case-folded) → the input it was given to
        self.by_input: dict[str, str] = {}

    def name(self, article: Article) -> str:
        """The name of `article`'s files in OUT (without `.json` / `.md`), the same for the same input."""
        source = article.path or f"id:{article.id}"
        if source in self.by_input:
            return self.by_input[source]
        stem, full = self._candidates(article)
        name = stem
        if name.casefold() in self.taken and self.taken[name.casefold()] != source:
            name = full
        n = 2
        base = name
        while name.casefold() in self.taken and self.taken[name.casefold()] != source:
            name, n = f"{base}-{n}", n + 1
        self.taken[name.casefold()] = source
        self.by_input[source] = name
        return name

    def _candidates(self, article: Article) -> tuple[str, str]:
        """The short name (no suffix) and the full one (with the input's suffix) for an article."""
        if article.path in (None, "-"):
            label = "stdin" if article.path == "-" else (article.title or article.id[:12])
            return _safe(label), _safe(f"{label}-{article.id[:8]}")
        raw, line = article.path, None
        if found := _LINE.match(raw):
            raw, line = found["file"], found["line"]
        rel = self._relative(Path(raw))
        parts = [_safe(p) for p in rel.parent.parts if p not in ("", ".", "..", "/")]
        stem, suffix = _safe(rel.stem), rel.suffix
        if line is not None:
            stem, suffix = f"{stem}-{line}", f"{suffix}-{line}"
        short = str(PurePosixPath(*parts, stem))
        full = str(PurePosixPath(*parts, _safe(rel.stem + suffix)))
        return short, full

    def _relative(self, path: Path) -> Path:
        """`path` below the folder it was found in, or its bare name when given by itself."""
        for root in self.roots:
            if path == root:
                break  # a file given by itself
            try:
                return path.relative_to(root)
            except ValueError:
                continue
        return Path(path.name)
