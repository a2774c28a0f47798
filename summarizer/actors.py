"""Actor names: the normal form used to merge aliases within an article and across a run."""

from __future__ import annotations

import re
import unicodedata

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
        elif i + 1 < len(words) - 1 and words[i + 1] in _TITLES:  # "ukrainian president x", "defense secretary x"
            i += 1
        else:
            break
    return " ".join(words[i:])
