"""Which kind of item a sentence can carry, from the words English news uses for each (no model).

- a **warning** names a danger: a warning verb ("warned", "cautioned", "threatened") or a word of threat, risk
  or harm under a modal or a condition ("could put people's safety at risk", "would be dangerous");
- a **prediction** looks ahead: a future or prospective marker ("will", "is going to", "expects", "plans to",
  "aims to", "by 2050", "next year"; for a model's item also "would", "could", "may"), not a past report nor a
  counterfactual ("would have");
- a **claim** is what remains: attributed speech or cognition.

`kinds_in(text)` returns the kinds a text can carry, the most specific first; every item's kind is checked
against its cited sentences with it (`grounding/verify.py`) and the sentence-first plan offers the model only
these kinds (`grounding/candidates.py`).
"""

from __future__ import annotations

import re

__all__ = ["FUTURE", "WARNING", "kinds_in"]

_WARN_VERB = re.compile(r"\b(?:warn\w*|caution\w*|threaten\w*)\b", re.IGNORECASE)
_HARM = re.compile(r"\b(?:danger\w*|risk\w*|harm\w*|damage\w*|threat\w*|peril\w*|catastroph\w*|disaster\w*|"
                   r"deadly|fatal|unsafe|jeopard\w*|targets?|penitentiary|jail|prison|behind bars)\b", re.IGNORECASE)
_MODAL = re.compile(r"\b(?:could|would|may|might|if|unless|otherwise|potential)\b", re.IGNORECASE)
WARNING = _WARN_VERB
FUTURE = re.compile(
    r"\b(?:will|won['’]t|shall|going to|expects?|expected to|expecting|plans? to|planned to|planning to|aims? to|"
    r"aimed to|intends? to|intended to|predict\w*|forecast\w*|likely to|set to|due to (?:be|begin|start|open)|"
    r"by (?:the end of )?(?:19|20)\d\d|next (?:year|month|week|season|decade)|in the coming|coming (?:days|weeks|"
    r"months|years)|a matter of (?:days|weeks|months)|within (?:days|weeks|months)|not yet|by the end of|"
    r"(?:is|are) to (?:begin|start|be|open|hold|launch|meet|travel)|goal is to|"
    r"soon|future|forthcoming|upcoming)\b|['’]ll\b",
    re.IGNORECASE)
# What may also look ahead, though it often does not ("would" reports a future, or a condition): allowed for an
# item a model calls a prediction, never enough to make a sentence one by itself.
_MAYBE_AHEAD = re.compile(r"\b(?:would(?!\s+(?:not\s+)?have)(?!n['’]t\s+have)|could|may|might)\b", re.IGNORECASE)


# The consequences a warning names without a danger word ("loss of IQ", "behind iron bars"): enough for a model's
# warning, not to make a sentence one.
_CONSEQUENCE = re.compile(r"\b(?:loss\w*|problems?|consequences?|difficult\w*|suffer\w*|death|deaths|kill\w*|"
                          r"die|dying|bars|cells?|prison|penitentiar\w*|retardation|damage\w*|harm\w*)\b",
                          re.IGNORECASE)


def kinds_in(text: str, *, lenient: bool = False) -> tuple[str, ...]:
    """The kinds an item citing `text` can be, the most specific first ("claims" always, last).

    `lenient` (checking a model's item) also lets "would", "could", "may" and "might" carry a prediction; the
    sentence-first plan labels by the strict markers only, which the gold set prefers (predictions precision
    0.55 vs 0.50 with "would")."""
    kinds: list[str] = []
    if _WARN_VERB.search(text) or (_HARM.search(text) and _MODAL.search(text)) or (
            lenient and (_HARM.search(text) or _CONSEQUENCE.search(text))):
        kinds.append("warnings")
    if FUTURE.search(text) or (lenient and _MAYBE_AHEAD.search(text)):
        kinds.append("predictions")
    kinds.append("claims")
    return tuple(kinds)
