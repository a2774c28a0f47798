"""Actor names: when two names are one actor, within an article and across a run.

Merged, because the names agree:
- equal after folding case, diacritics, punctuation, leading titles and transliteration endings
  ("President Volodymyr Zelensky", "Volodymyr Zelenskyy" → "volodymyr zelensky");
- for persons, a surname alone ("Zelensky") or with a matching first name or initial, when exactly one
  person in scope carries that surname.
Marked as uncertain and kept apart, because a wrong merge silently corrupts every count downstream:
- a surname several persons share ("Biden" with Joe and Hunter Biden);
- first names that only look alike ("Jon Smith" / "John Smith");
- one word that nearly matches ("Lloyd Austin" / "Lloyd Austen").
Names that differ in a whole word ("North Korea" / "South Korea") are different actors, never even uncertain.
Persons never merge with organisations or countries of the same name ("Ford").
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

__all__ = ["ActorGroups", "Mention", "fold", "group_mentions", "looks_like_name", "name_key", "split_title",
           "unique_aliases", "variant_key"]

# Titles and honorifics that precede a name and do not change who is meant.
_TITLES = {
    "president", "vice", "prime", "minister", "secretary", "mr", "mrs", "ms", "miss", "dr", "prof",
    "professor", "sir", "dame", "lord", "lady", "gen", "general", "col", "colonel", "capt", "captain", "lt",
    "sgt", "rep", "sen", "senator", "gov", "governor", "mayor", "chancellor", "king", "queen", "prince",
    "princess", "pope", "chairman", "chairwoman", "ceo", "former", "acting", "deputy", "spokesman",
    "spokeswoman", "spokesperson", "judge", "justice", "ambassador", "commander", "chief", "director",
    "leader", "premier", "the",
}
_PUNCT = re.compile(r"[^\w\s]")
# Lower-case words that may sit inside a proper name ("Secretary of Defense", "Osama bin Laden").
_CONNECTORS = {"of", "the", "for", "and", "on", "in", "at", "de", "da", "del", "der", "di", "du", "la", "le",
               "van", "von", "bin", "ibn", "al", "el", "y", "und"}
# Words that make two otherwise equal names different places or bodies.
_CONTRAST = {"north", "south", "east", "west", "northern", "southern", "eastern", "western", "upper", "lower",
             "new", "old", "junior", "senior", "jr", "sr"}
# Slavic "-ий" is written -y, -i, -iy, -ii, -yy or -yi: one actor, whichever the source used. The stem must
# keep five letters, so short names that differ only there ("Levi" / "Levy") stay apart.
_TRANSLIT_END = re.compile(r"(?<=[a-z]{5})(?:yy|iy|ij|ii|yi|y|i)$")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
NEAR_MATCH = 80  # rapidfuzz ratio (0-100) above which one differing word makes two names "uncertain"


def fold(text: str) -> str:
    """Casefold and strip diacritics: "Zelenskyy" stays, "Zélensky" becomes "zelensky"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_key(name: str) -> str:
    """The comparison key of an actor name: folded, punctuation and leading titles removed.

    Titles are only stripped from the front and never to nothing, so "North Korea" stays "north korea".
    """
    words = _PUNCT.sub(" ", fold(name).replace(".", "").replace("’", "'").replace("'s ", " ")).split()
    i = 0
    while i < len(words) - 1:
        if words[i] in _TITLES:
            i += 1
            if i < len(words) - 2 and words[i] in {"of", "for"}:  # "secretary of defense lloyd austin"
                i += 2
        elif i + 1 < len(words) - 1 and words[i + 1] in _TITLES:  # "ukrainian president x", "defense chief x"
            i += 1
        else:
            break
    return " ".join(words[i:])


def variant_key(name: str) -> str:
    """`name_key` with transliteration endings folded, so "Zelenskyy", "Zelenskiy" and "Zelensky" agree."""
    return " ".join(_TRANSLIT_END.sub("y", word) for word in name_key(name).split())


def looks_like_name(text: str) -> bool:
    """Every word but connectors is capitalised: "Lloyd Austin" names someone, "the defense chief" not."""
    words = _WORD.findall(text)
    return bool(words) and all(w[0].isupper() or w.casefold() in _CONNECTORS for w in words)


def _generic(key: str) -> bool:
    """A key made only of titles and connectors ("the president") names a role, not an actor."""
    return all(w in _TITLES or w in _CONNECTORS for w in key.split())


@dataclass(frozen=True)
class Mention:
    """One actor as one source names it: its name, the other names used for it, and its kind."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "other"

    @property
    def person(self) -> bool:
        return self.kind == "person"


@dataclass
class ActorGroups:
    """Which mentions are one actor (groups in order of first mention), and which groups may be one actor."""

    group_of: list[int]
    members: list[list[int]]
    uncertain: list[set[int]]
    canonical: list[str] = field(default_factory=list)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the earliest mention stays the root

    def roots(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            groups[self.find(i)].append(i)
        return groups


def _keys(m: Mention, trust_aliases: bool) -> list[str]:
    """The variant keys a mention answers to; aliases only when trusted or when they look like names."""
    names = [m.name, *(a for a in m.aliases if trust_aliases or looks_like_name(a))]
    return [k for k in dict.fromkeys(variant_key(n) for n in names) if k and not _generic(k)]


def group_mentions(mentions: Sequence[Mention], *, trust_aliases: bool = True) -> ActorGroups:
    """Group mentions that name one actor; mark pairs of groups that may be one actor but were kept apart.

    `trust_aliases=False` (across articles) joins only on aliases that look like proper names, since a
    descriptive alias ("the ukrainian president") names different people in different articles.
    """
    keys = [_keys(m, trust_aliases) for m in mentions]
    uf = _UnionFind(len(mentions))
    maybe = _join_equal(mentions, keys, uf)
    maybe |= _join_people(mentions, keys, uf)
    maybe |= _near_misses(mentions, keys, uf)
    return _result(mentions, uf, maybe)


def _join_equal(mentions: Sequence[Mention], keys: list[list[str]], uf: _UnionFind) -> set[tuple[int, int]]:
    """Join mentions that share a name or alias, unless their names contradict ("North Korea", "South Korea"
    both called "Korea"): those are returned as pairs that may be one actor."""
    claimed: dict[tuple[bool, str], list[int]] = defaultdict(list)
    for i, m in enumerate(mentions):
        for key in keys[i]:
            if m.person and " " not in key and key != variant_key(m.name):
                continue  # a one-word alias of a person is a surname: it joins through the surname rule only
            claimed[(m.person, key)].append(i)
    names = {i: {variant_key(m.name)} for i, m in enumerate(mentions)}
    maybe: set[tuple[int, int]] = set()
    for members in claimed.values():
        for i in members[1:]:
            a, b = uf.find(members[0]), uf.find(i)
            if a == b:
                continue
            if any(_contradict(x, y) for x in names[a] for y in names[b]):
                maybe.add((a, b))
                continue
            uf.union(a, b)
            names[uf.find(a)] = names[a] | names[b]
    return maybe


def _contradict(x: str, y: str) -> bool:
    """Names of several words that differ in exactly one whole word name different actors."""
    wx, wy = x.split(), y.split()
    return len(wx) == len(wy) > 1 and sum(p != q for p, q in zip(wx, wy, strict=True)) == 1


def _full_names(mentions: Sequence[Mention], keys: list[list[str]], uf: _UnionFind,
                ) -> tuple[dict[int, set[tuple[str, ...]]], dict[int, set[str]]]:
    """Per person group: its names of several words, and its one-word names."""
    full: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    short: dict[int, set[str]] = defaultdict(set)
    for i, m in enumerate(mentions):
        if m.person:
            for key in keys[i]:
                words = tuple(key.split())
                if len(words) > 1:
                    full[uf.find(i)].add(words)
                else:
                    short[uf.find(i)].add(words[0])
    return full, short


def _carriers(full: dict[int, set[tuple[str, ...]]]) -> dict[str, set[int]]:
    """Surname → the person groups with a full name ending in it."""
    carriers: dict[str, set[int]] = defaultdict(set)
    for root, names in full.items():
        for words in names:
            carriers[words[-1]].add(root)
    return carriers


def _join_people(mentions: Sequence[Mention], keys: list[list[str]], uf: _UnionFind) -> set[tuple[int, int]]:
    """Join persons named by surname (with a first name, an initial, or alone) when only one person fits.

    Full names first, so that "V. Zelensky" has joined "Volodymyr Zelensky" before "Zelensky" alone looks for
    the one person it can mean. Returns the pairs that may be one person but were kept apart.
    """
    maybe: set[tuple[int, int]] = set()
    full, _ = _full_names(mentions, keys, uf)
    by_initial: dict[int, set[int]] = defaultdict(set)
    for roots in _carriers(full).values():
        for a, b in itertools.combinations(sorted(roots), 2):
            relation = max((_first_names(x, y) for x in full[a] for y in full[b] if x[-1] == y[-1]),
                           key=("different", "uncertain", "initial", "same").index)
            if relation == "same":
                uf.union(a, b)
            elif relation == "initial":
                by_initial[a].add(b)
                by_initial[b].add(a)
            elif relation == "uncertain":
                maybe.add((a, b))
    for a, others in by_initial.items():
        for b in others:
            if len({uf.find(o) for o in others}) == 1 and len({uf.find(o) for o in by_initial[b]}) == 1:
                uf.union(a, b)
            else:
                maybe.add((a, b))
    full, short = _full_names(mentions, keys, uf)
    carriers = _carriers(full)
    for root, surnames in short.items():
        if full.get(root):
            continue
        found = {uf.find(r) for s in surnames for r in carriers.get(s, set())} - {root}
        if len(found) == 1:
            uf.union(root, found.pop())
        else:
            maybe |= {(root, other) for other in found}
    return maybe


def _first_names(x: tuple[str, ...], y: tuple[str, ...]) -> str:
    """How two full names with the same surname relate through their first names."""
    a, b = x[0], y[0]
    if a == b:
        return "same"
    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
        return "initial"
    return "uncertain" if fuzz.ratio(a, b) >= NEAR_MATCH else "different"


def _near_misses(mentions: Sequence[Mention], keys: list[list[str]], uf: _UnionFind) -> set[tuple[int, int]]:
    """Names equal but for one word that nearly matches, first letter included: worth a human look."""
    buckets: dict[tuple[bool, str], set[tuple[int, str]]] = defaultdict(set)
    full, _ = _full_names(mentions, keys, uf)
    for i, m in enumerate(mentions):
        for key in keys[i]:
            words = key.split()
            if m.person and len(words) == 1 and full.get(uf.find(i)):
                continue  # "Zelenska" beside "Zelensky": compare Olena's and Volodymyr's full names instead
            for pos, word in enumerate(words):
                mask = " ".join([*words[:pos], f"{word[0]}*", *words[pos + 1:]])
                buckets[(m.person, mask)].add((uf.find(i), word))
    found: set[tuple[int, int]] = set()
    for entries in buckets.values():
        for (ra, wa), (rb, wb) in itertools.combinations(sorted(entries), 2):
            if ra != rb and wa != wb and _close(wa, wb):
                found.add((min(ra, rb), max(ra, rb)))
    return found


def _close(a: str, b: str) -> bool:
    if min(len(a), len(b)) < 4 or a.isdigit() or b.isdigit() or {a, b} & _CONTRAST:
        return False
    return fuzz.ratio(a, b) >= NEAR_MATCH


def _result(mentions: Sequence[Mention], uf: _UnionFind, maybe: set[tuple[int, int]]) -> ActorGroups:
    roots = uf.roots()
    order = sorted(roots)  # by first mention
    number = {root: g for g, root in enumerate(order)}
    group_of = [number[uf.find(i)] for i in range(len(mentions))]
    uncertain: list[set[int]] = [set() for _ in order]
    for a, b in maybe:
        ga, gb = group_of[a], group_of[b]
        if ga != gb:
            uncertain[ga].add(gb)
            uncertain[gb].add(ga)
    members = [roots[root] for root in order]
    canonical = [_canonical([mentions[i].name for i in group]) for group in members]
    return ActorGroups(group_of, members, uncertain, canonical)


def _canonical(names: Sequence[str]) -> str:
    """The fullest name, then the most used, then without initials or titles, then the first."""
    counts: dict[str, int] = defaultdict(int)
    for n in names:
        counts[n.strip()] += 1

    def rank(name: str) -> tuple[int, int, int, int]:
        words = name_key(name).split()
        return -len(words), -counts[name], sum(len(w) == 1 for w in words), len(name.split())

    return sorted(counts, key=rank)[0]


def split_title(name: str) -> tuple[str, str]:
    """("Secretary of Defense", "Lloyd Austin") for "Secretary of Defense Lloyd Austin"; ("", name) when the name
    has no leading title or would keep fewer than two words ("Pope Francis", "General Motors" stay whole)."""
    words = name.split()
    kept = len(name_key(name).split())
    if 2 <= kept < len(words) and name_key(" ".join(words[-kept:])) == name_key(name):
        return " ".join(words[:-kept]), " ".join(words[-kept:])
    return "", name.strip()


def unique_aliases(names: Iterable[str], canonical: str) -> list[str]:
    """Aliases without repeats or the canonical name itself, compared by `name_key`."""
    seen = {name_key(canonical)}
    out = []
    for n in names:
        key = name_key(n)
        if key and key not in seen:
            seen.add(key)
            out.append(n.strip())
    return out
