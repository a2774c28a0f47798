"""A run's inputs, walked once: files and folders → distinct articles, and what was passed over and why.

`discover` lists the article files under the paths given (never those inside OUT); `InputWalk` reads each
(HTML and large files in a worker thread when asked asynchronously), and keeps each article once: a second
file with the same text, title and date is skipped, naming the first. The realtime run, the Batch API run and
`batch export` all walk their inputs through here.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from summarizer.article.model import Article, printable_path
from summarizer.article.readers import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, iter_file
from summarizer.errors import InputError

__all__ = ["Found", "InputWalk", "Skipped", "discover"]

# Files that sit next to articles in a folder but are about the folder, not news: skipped when walking.
# These names mean a project file whatever their case (README.md, readme.txt, License.md)…
_PROJECT_FILES = frozenset({"readme", "license", "licence", "changelog", "contributing"})
# …while these are ordinary words too (a public notice is news: `notice.txt`, `copying.md`), so they are
# skipped only as the convention writes them, in capitals (NOTICE.txt, COPYING.md).
_PROJECT_FILES_IN_CAPITALS = frozenset({"NOTICE", "COPYING"})
INLINE_BYTES = 256_000  # smaller text/JSON files are read on the event loop; HTML always goes to a thread
_SLOW_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


@dataclass(frozen=True)
class Skipped:
    """A path `discover()` passed over, with the reason, so a batch can report it."""

    path: Path
    reason: str



def discover(
    paths: Sequence[str | Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[list[Path], list[Skipped]]:
    """List the article files under `paths` in a stable order, and what was passed over and why.

    Folders are walked recursively in name order. fnmatch-style patterns match the path relative to the
    folder given (`**/` may also match no folder); a pattern without "/" also matches the bare name. Hidden
    entries, unsupported suffixes, README/LICENSE-style files (README, LICENSE, CHANGELOG, CONTRIBUTING in any
    case; NOTICE and COPYING only in capitals, since `notice.txt` may well be news) and folder symlinks that
    loop back are skipped with a reason. Files named explicitly are kept unless a pattern rules them out; unreadable
    files are kept too, so that reading them reports the cause.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    walked: set[str] = set()
    for given in map(Path, paths):
        found = _walk(given, exclude, walked, skipped) if given.is_dir() else [""]
        for rel in sorted(found, key=lambda r: r.split("/")):
            path, rel = (given / rel, rel) if rel else (given, given.as_posix())
            if excluded := _first_match(exclude, rel):
                skipped.append(Skipped(path, f"excluded by {excluded!r}"))
            elif include and not _first_match(include, rel):
                skipped.append(Skipped(path, "matches no include pattern"))
            elif (real := os.path.realpath(path)) in seen:
                skipped.append(Skipped(path, "already listed through another path"))
            else:
                seen.add(real)
                files.append(path)
    return files, skipped


def _walk(root: Path, exclude: Sequence[str], walked: set[str], skipped: list[Skipped]) -> list[str]:
    """Relative paths of the candidate files under root; a loop, not recursion, so depth is unlimited."""
    found: list[str] = []
    stack: list[tuple[Path, frozenset[str]]] = [(root, frozenset())]
    while stack:
        folder, ancestors = stack.pop()
        real = os.path.realpath(folder)
        if real in ancestors or real in walked:
            loop = "symlink loop: links back to a folder above it"
            skipped.append(Skipped(folder, loop if real in ancestors else "folder already walked"))
            continue
        walked.add(real)
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as error:
            skipped.append(Skipped(folder, f"cannot list folder: {error.strerror or error}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            if reason := _skip_reason(entry, rel, exclude):
                skipped.append(Skipped(path, reason))
            elif _is_dir(entry):
                stack.append((path, ancestors | {real}))
            else:
                found.append(rel)
    return found


def _skip_reason(entry: os.DirEntry[str], rel: str, exclude: Sequence[str]) -> str | None:
    """Why a folder entry is not an article candidate, or None when it is (or is a folder to enter)."""
    if entry.name.startswith("."):
        return "hidden"
    if _is_dir(entry):
        return f"excluded by {pattern!r}" if (pattern := _first_match(exclude, rel)) else None
    if not (entry.is_symlink() or entry.is_file()):  # a dangling or looping symlink is kept: reading it says why
        return "not a regular file"
    if _is_project_file(entry.name):
        return "a README/LICENSE-style file, not an article"
    suffix = Path(entry.name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return f"unsupported file type '{suffix}'" if suffix else "unsupported file type without a suffix"
    return None


def _is_project_file(name: str) -> bool:
    """README/LICENSE/CHANGELOG/CONTRIBUTING in any case; NOTICE and COPYING only in capitals (see above)."""
    stem = name.split(".", 1)[0]
    return stem.lower() in _PROJECT_FILES or stem in _PROJECT_FILES_IN_CAPITALS


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Like `entry.is_dir()`, but a symlink loop (ELOOP) is no folder rather than an error ending the walk."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _first_match(patterns: Sequence[str], rel: str) -> str | None:
    """The first pattern matching the relative path, or (for a pattern without "/") the bare name."""
    name = rel.rsplit("/", 1)[-1]
    for pattern in patterns:
        clean = pattern.replace("\\", "/").removeprefix("./").rstrip("/")
        for variant in (clean, clean.replace("**/", "")):
            if fnmatchcase(rel, variant) or ("/" not in variant and fnmatchcase(name, variant)):
                return pattern
    return None


Found = Article | InputError | Skipped  # one input's outcome: an article to summarise, a bad input, a duplicate


class InputWalk:
    """The articles given and the files found under the paths, read once each, each text kept once."""

    def __init__(self, paths: str | Path | Article | Sequence[str | Path | Article], *, include: Sequence[str] = (),
                 exclude: Sequence[str] = (), max_bytes: int = DEFAULT_MAX_BYTES, out: Path | None = None) -> None:
        items = [paths] if isinstance(paths, str | Path | Article) else list(paths)
        articles: list[Path | Article] = [a for a in items if isinstance(a, Article)]
        files, self.skipped = discover([p for p in items if not isinstance(p, Article)], include, exclude)
        if out is not None:
            files = self._outside(files, out)
        # From here on skips are only reported: their names as valid, printable text (no raw ESC or newline,
        # no undecodable bytes), as the files read get them from `iter_file`.
        self.skipped = [Skipped(Path(printable_path(s.path)), printable_path(s.reason)) for s in self.skipped]
        self.items: list[Path | Article] = [*articles, *files]
        self.max_bytes = max_bytes
        self.seen: dict[str, str] = {}  # article id, title and date → the path it was first read from

    def _outside(self, files: list[Path], out: Path) -> list[Path]:
        """Drop what lies inside the output folder (a run never reads its own outputs)."""
        inside = out.resolve()
        folders: dict[Path, bool] = {}  # resolve each folder once, not each file

        def in_out(path: Path) -> bool:
            if path.parent not in folders:
                folders[path.parent] = path.parent.resolve().is_relative_to(inside)
            return folders[path.parent]

        kept_files = [f for f in files if not in_out(f)]
        kept_skips = [s for s in self.skipped if not in_out(s.path)]
        if len(kept_files) < len(files) or len(kept_skips) < len(self.skipped):
            kept_skips.append(Skipped(out, "the output folder: never read as input"))
        self.skipped = kept_skips
        return kept_files

    def once(self, found: Article | InputError) -> Found:
        """An article the first time it is met (its text, title and date: what the model is shown); a `Skipped`
        naming the first file after that. The same text with another title or date is another article."""
        if isinstance(found, InputError):
            return found
        shown = "\x1f".join((found.id, found.title or "", found.date.isoformat() if found.date else ""))
        if shown in self.seen:
            return Skipped(Path(found.path or "-"), f"same text as {self.seen[shown]} (and the same title and date)")
        self.seen[shown] = found.path or "-"
        return found

    def __iter__(self) -> Iterator[list[Found]]:
        """Each input's outcomes in order (a `.jsonl` file has several)."""
        for item in self.items:
            found = [item] if isinstance(item, Article) else iter_file(item, max_bytes=self.max_bytes)
            yield [self.once(f) for f in found]

    async def __aiter__(self) -> AsyncIterator[list[Found]]:
        """As `__iter__`; small text files are read inline (a thread hop costs more), the rest in a thread."""
        for item in self.items:
            found = [item] if isinstance(item, Article) else await self._aread(item)
            yield [self.once(f) for f in found]

    async def _aread(self, path: Path) -> list[Article | InputError]:
        try:
            inline = path.suffix.lower() not in _SLOW_SUFFIXES and path.stat().st_size <= INLINE_BYTES
        except OSError:
            inline = True  # reading it reports the problem
        if inline:
            return list(iter_file(path, max_bytes=self.max_bytes))
        return await asyncio.to_thread(lambda: list(iter_file(path, max_bytes=self.max_bytes)))
