"""Who says what, by the rules of English news writing: attribution found in the text, not guessed.

News prose attributes in a few fixed shapes, and this module reads them (no model):
- a speech or cognition verb with its subject before it: "Rathbun wrote", "Whitmore, a spokesman for the
  sheriff, told reporters", "Scientology officials have stated";
- the inverted form after a quote: '"…," said Austin', '"…," Austin said';
- "according to X";
- a pronoun or a definite title as the subject ("he said", "the minister told"), resolved to the nearest
  earlier actor it can refer to (a person for he/she, a body for it/they, the actor whose names or role hold
  the title's head noun);
- a quotation that runs over several sentences, or continues right after an attributed quote, keeps the
  speaker of the sentence that opened it ('Rathbun stated,' then '"Daniel was picked up…').

`attribute(article, actors)` gives, per sentence, the actors the text makes its speakers; `mentions` finds
where each actor is named. Both serve the sentence-first plan (candidates and their speakers,
`grounding/candidates.py`) and the speaker check every item passes (`grounding/verify.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from summarizer.article.model import Article
from summarizer.grounding.names import split_title
from summarizer.schema import ActorDraft

__all__ = ["QUOTE_CONTINUES", "SPEECH", "Attribution", "Mention", "attribute", "content_of", "mentions",
           "named_sources", "quoted_spans"]

# Verbs (and phrases) of speech and cognition that attribute what follows or precedes them to their subject.
_SPEECH_VERBS = (
    "said|says|say|told|tells|tell|stated|states|state|added|adds|wrote|writes|asserted|asserts|argued|argues|"
    "claimed|claims|insisted|insists|noted|notes|explained|explains|announced|announces|confirmed|confirms|"
    "denied|denies|warned|warns|cautioned|cautions|predicted|predicts|expects|expected|believes|believed|"
    "thinks|thought|estimated|estimates|reported|reports|acknowledged|acknowledges|admitted|admits|described|"
    "describes|suggested|suggests|urged|urges|threatened|threatens|promised|promises|vowed|vows|stressed|"
    "stresses|concluded|concludes|responded|responds|replied|replies|commented|comments|emphasised|emphasized|"
    "emphasises|emphasizes|maintained|maintains|alleged|alleges|accused|accuses|hopes|hoped|"
    "fears|feared|predict|expect|believe|warn|claim|argue|insist|announce|confirm|deny|estimate|complained|"
    "complains|observed|observes|found|finds|revealed|reveals|shows|showed|reads|cited|cites|quoted|quotes|"
    "reasoned|reasons|dubbed|characterized|characterised|characterizes|characterises|describe|theorized|"
    "theorised|tweeted|tweets|posted|continued|continues|asked|asks|proposed|proposes|recommended|recommends|"
    "recommend|criticised|criticized|criticises|criticizes|blamed|blames|praised|praises|contended|contends|"
    "countered|counters|agreed|agrees|disputed|disputes|rejected|rejects|demanded|demands|pledged|pledges|"
    "conceded|concedes|recalled|recalls|lamented|laments|questioned|questions|answered|answers|declared|"
    "declares|saying|stating|writing|adding|noting|warning|arguing|claiming|explaining|telling|insisting|"
    "predicting|describing|asking|urging|reporting|blame|blames|elaborated|elaborates|show|proposing|proposed"
)
SPEECH = re.compile(rf"\b(?:{_SPEECH_VERBS})\b|\baccording to\b|\bin a statement\b|\bcame to the conclusion\b|"
                    r"\bcall(?:s|ed|ing)? (?:for|on)\b|\b(?:is|are|was|were) (?:concerned|critical|confident|"
                    r"convinced|worried)\b|\blashed out\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording to\b", re.IGNORECASE)
# What may stand between a subject and its verb: auxiliaries and a few adverbs ("has also said", "later told").
_BETWEEN = re.compile(r"^(?:\s+(?:has|have|had|also|later|then|previously|recently|repeatedly|publicly|once|"
                      r"further|again|separately|earlier|is|was|were|are|been|being|had|would|will|did|does|do|"
                      r"not|reportedly|allegedly|personally|originally|first|subsequently|himself|herself|"
                      r"itself|themselves)\b)*\s*$", re.IGNORECASE)
_PRONOUNS = {"he": "person", "she": "person", "it": "body", "they": "any", "we": "any", "i": "any"}
_PRONOUN = re.compile(r"\b(?:he|she|it|they|we|I)\b", re.IGNORECASE)
# A definite description used as a subject: "the minister", "the Ukrainian president", "the organisation".
_TITLE = re.compile(r"\b[Tt]he\s+((?:[A-Za-z-]+\s+){0,3}?)([a-z]+)$")
_QUOTES_OPEN = "“«„"
_QUOTES_CLOSE = "”»"
_THAT = re.compile(r"^(?:[^,\"“”]{0,80}?\s)?that\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """An actor named in the article: where (character offsets in the article text) and which actor."""

    start: int
    end: int
    actor: str  # actor id


@dataclass(frozen=True)
class Attribution:
    """What the text says about who speaks in one sentence."""

    sentence: int
    speakers: tuple[str, ...]  # actor ids the text makes the speaker, the most likely first
    cue: str  # the words that attribute ("said", "according to", "quote continues"…)
    cue_start: int = 0  # offsets in the sentence of the attribution (cue and subject) to leave out of its content
    cue_end: int = 0
    inverted: bool = False  # the speaker named after the verb ("…, said Austin"): what was said comes before


def _names(actor: ActorDraft) -> list[tuple[str, bool]]:
    """The names an actor goes by, each with whether it is derived (a person's surname) rather than given."""
    out: dict[str, bool] = {}
    for name in (actor.name, *actor.aliases):
        name = name.strip()
        if not name:
            continue
        out.setdefault(name, False)
        _, bare = split_title(name)
        if bare and bare != name:
            out.setdefault(bare, False)
    if actor.kind == "person":
        words = [w for w in re.split(r"\s+", split_title(actor.name)[1] or actor.name) if w]
        if len(words) >= 2 and len(words[-1]) >= 3 and words[-1][:1].isupper():
            out.setdefault(words[-1], True)  # the surname news prose uses after the first mention
    return sorted(out.items(), key=lambda x: len(x[0]), reverse=True)


def mentions(article: Article, actors: Sequence[ActorDraft]) -> list[Mention]:
    """Every place an actor is named (name, alias, title-less name, a person's surname), longest first,
    without overlaps, in text order. A surname two actors share names neither, unless one is called just that."""
    text = article.text
    owners: dict[str, set[str]] = {}
    given: dict[str, set[str]] = {}
    for actor in actors:
        for name, derived in _names(actor):
            owners.setdefault(name, set()).add(actor.id)
            if not derived:
                given.setdefault(name, set()).add(actor.id)
    for name, ids in given.items():
        if len(ids) == 1:  # an actor's own name wins over another's derived surname ("Biden" vs "Joe Biden")
            owners[name] = ids
    found: list[Mention] = []
    taken = [False] * (len(text) + 1)
    for name in sorted(owners, key=len, reverse=True):
        if len(owners[name]) > 1 or len(name) < 2:
            continue
        actor_id = next(iter(owners[name]))
        pattern = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
        for m in pattern.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            found.append(Mention(m.start(), m.end(), actor_id))
    return sorted(found, key=lambda m: m.start)


def attribute(article: Article, actors: Sequence[ActorDraft]) -> dict[int, Attribution]:
    """The sentences the text attributes to actors, by sentence number."""
    kinds = {a.id: a.kind for a in actors}
    by_id = {a.id: a for a in actors}
    found = mentions(article, actors)
    result: dict[int, Attribution] = {}
    recent: list[str] = []  # actor ids in order of mention, the latest last
    speakers: list[tuple[int, str]] = []  # (sentence, actor id) of the attributions so far
    in_quote = False  # a quotation is open at the sentence's start
    owner: str | None = None  # whose it is, when known
    intro: str | None = None  # the speaker of a sentence that only introduced a quote ("Rathbun stated,")
    open_since: list[int] = []  # sentences inside a quotation whose speaker is not known yet
    for sentence in article.sentences:
        n, text = sentence.n, sentence.text
        # Names inside a quotation are what was said, not who says it: they are never a subject.
        quoted = quoted_spans(text)
        local = [Mention(m.start - sentence.start, m.end - sentence.start, m.actor)
                 for m in found if sentence.start <= m.start < sentence.end
                 and not any(a <= m.start - sentence.start < b for a, b in quoted)]
        lately = [a for s, a in speakers if s >= n - 3]
        attribution = _attribute(n, text, local, recent, lately, kinds, by_id)
        if attribution is None:
            if in_quote and owner is not None:
                attribution = Attribution(n, (owner,), QUOTE_CONTINUES)
            elif intro is not None and _is_quote(text):
                attribution = Attribution(n, (intro,), QUOTE_CONTINUES)
            elif _is_quote(text) and (n - 1) in result and not open_since:
                attribution = Attribution(n, result[n - 1].speakers[:1], QUOTE_CONTINUES)
        open_after = _open_after(text, in_quote)
        if attribution is None and (open_after or in_quote):
            open_since.append(n)  # its speaker may be named where the quotation closes
        elif attribution is not None:
            for k in open_since:  # '"…', '…," Eastman said.': the opening sentences are Eastman's too
                result[k] = Attribution(k, attribution.speakers[:1], QUOTE_CONTINUES)
            open_since = []
            result[n] = attribution
            speakers.append((n, attribution.speakers[0]))
        if not open_after:
            open_since = []
        owner = (attribution.speakers[0] if attribution is not None else owner) if open_after else None
        intro = attribution.speakers[0] if attribution is not None and text.rstrip().endswith((",", ":")) \
            and not content_of(text, attribution) else None
        in_quote = open_after
        for m in local:
            if m.actor in recent:
                recent.remove(m.actor)
            recent.append(m.actor)
    return dict(sorted(result.items()))


QUOTE_CONTINUES = "quote continues"


def _attribute(n: int, text: str, local: Sequence[Mention], recent: Sequence[str], lately: Sequence[str],
               kinds: Mapping[str, str], by_id: dict[str, ActorDraft]) -> Attribution | None:
    """The sentence's attribution: of several, the one nearest a quotation (whose words it attributes)."""
    found = [a for cue in SPEECH.finditer(text) if _is_cue(text, cue)
             for a in [_one(n, text, cue, local, recent, lately, kinds, by_id)] if a is not None]
    if not found:
        return None
    quoted = quoted_spans(text)
    if len(found) == 1 or not quoted:
        return found[0]
    edges = [e for span in quoted for e in span]
    return min(found, key=lambda a: min(min(abs(a.cue_start - e), abs(a.cue_end - e)) for e in edges))


_DETERMINER = re.compile(r"\b(?:the|a|an|these|those|this|that|his|her|their|its|our|such|any|no)\s+$", re.IGNORECASE)


def _is_cue(text: str, cue: re.Match[str]) -> bool:
    """A speech word used as one: not a noun after a determiner ("the claims made about him"), a participle
    only when it introduces words ("…, writing in a blog post "I have…"", not "asking schools to pay"), and
    "continues" only before what is said ("She continued:")."""
    word, rest = cue.group(0).lower(), text[cue.end():]
    if _DETERMINER.search(text[:cue.start()]):
        return False
    if word.endswith("ing"):
        return bool(re.search(r"[“\"]|\bthat\b|:", rest))
    if word.startswith("continu"):
        return bool(re.match(r"\s*[:,“\"]", rest))
    return True


def _one(n: int, text: str, cue: re.Match[str], local: Sequence[Mention], recent: Sequence[str],
         lately: Sequence[str], kinds: Mapping[str, str], by_id: dict[str, ActorDraft]) -> Attribution | None:
    word = cue.group(0)
    if _ACCORDING.fullmatch(word):
        after = [m for m in local if m.start >= cue.end() and _near_after(text, cue.end(), m.start)]
        if len(after) > 1 and re.match(r"['’]s\b", text[after[0].end:]):
            after = after[1:]  # "according to the team's coach, Alireza Mehraban": the coach, not the team
        if after:
            return Attribution(n, (after[0].actor,), word.lower(), cue.start(), after[0].end)
        return None
    subject = _subject_before(text, cue.start(), local, kinds)
    if subject is not None:
        return Attribution(n, (subject[0],), word.lower(), subject[1], cue.end())
    pronoun = _pronoun_before(text, cue.start(), local, recent, lately, kinds, by_id)
    if pronoun is not None:
        return Attribution(n, (pronoun[0],), word.lower(), pronoun[1], cue.end())
    after_verb = _subject_after(text, cue.end(), local, recent, lately, kinds)
    if after_verb is not None:
        return Attribution(n, (after_verb[0],), word.lower(), cue.start(), after_verb[1], inverted=True)
    return None


def _near_after(text: str, end: int, start: int) -> bool:
    between = text[end:start]
    return len(between) <= 40 and re.fullmatch(r"[\s,]*(?:(?:the|a|an|[A-Z][\w.'’-]*|[a-z]+)\s+){0,4}?", between) \
        is not None and "," not in between.strip(" ,")[:-1]


def _subject_before(text: str, at: int, local: Sequence[Mention], kinds: Mapping[str, str]) -> tuple[str, int] | None:
    """The actor named as the verb's subject, and where it starts: right before the verb, before an appositive
    set off by commas ("Whitmore, a spokesman for the sheriff, told"), or before "of/for X" ("Ingram of The
    Globe and Mail wrote")."""
    head = text[:at]
    before = [m for m in local if m.end <= at]
    for i in range(len(before) - 1, -1, -1):
        m = before[i]
        between = head[m.end:]
        between = re.sub(r"^['’]s?\s+(?:office|spokesman|spokeswoman|spokesperson|team|government|ministry|"
                         r"lawyer|attorney|representative)\b", "", between)
        stripped = between.strip()
        if _BETWEEN.match(between) or (
                # ", a representative for the LA Sheriff's office, told": an appositive between two commas
                stripped.startswith(",") and stripped.endswith(",") and stripped.count(",") == 2
                and len(stripped) <= 120 and not _has_quote(stripped)) or re.fullmatch(
                # "Scientology officials have stated": a body and the people who speak for it
                r"\s+(?:officials|representatives|spokesmen|spokespeople|leaders|researchers|scientists|experts|"
                r"members|authorities|lawyers|sources|officers|staff|executives)(?:\s+(?:have|has|had|also))*\s*",
                between) or re.fullmatch(r"\s+(?:for|of|from|at|with)\s+[^,\"“”]{1,60},\s*", between):
            return _head_of(text, before, i, kinds)
        if m.end < at - 120:
            break
    return None


def _head_of(text: str, before: Sequence[Mention], i: int, kinds: Mapping[str, str]) -> tuple[str, int]:
    """"Matthew Ingram of The Globe and Mail": the person, not the body named after "of"."""
    m = before[i]
    if i > 0 and kinds.get(m.actor) != "person" and kinds.get(before[i - 1].actor) == "person" and re.fullmatch(
            r"\s+(?:of|for|from|at|with)\s+(?:the\s+)?", text[before[i - 1].end:m.start]):
        return before[i - 1].actor, before[i - 1].start
    return m.actor, m.start


def _pronoun_before(text: str, at: int, local: Sequence[Mention], recent: Sequence[str], lately: Sequence[str],
                    kinds: Mapping[str, str], by_id: dict[str, ActorDraft]) -> tuple[str, int] | None:
    """A pronoun or a definite title as the subject, resolved: the latest speaker it can be, else the latest
    actor mentioned it can be ("he warned" after Austin's quote is Austin, though Putin was named since)."""
    head = text[:at]
    pronoun = None
    for p in _PRONOUN.finditer(head):
        if _BETWEEN.match(head[p.end():]):
            pronoun = p
    if pronoun is not None:
        want = _PRONOUNS[pronoun.group(0).lower()]
        if pronoun.group(0).lower() in ("we", "i"):
            return None  # a first person inside a quote is its speaker, named elsewhere
        before = [m.actor for m in local if m.end <= pronoun.start()]
        found = _latest(before, want, kinds) or _latest(lately, want, kinds) or _latest(recent, want, kinds)
        return (found, pronoun.start()) if found else None
    title = _TITLE.search(head.rstrip())
    if title is not None and _BETWEEN.match(head[title.end():]):
        noun = title.group(2).lower()
        before = [m.actor for m in local if m.end <= title.start()]
        for actor_id in reversed([*recent, *before]):
            actor = by_id.get(actor_id)
            if actor is not None and noun in " ".join([actor.role, *actor.aliases]).lower().split():
                return actor_id, title.start()
    return None


def _subject_after(text: str, end: int, local: Sequence[Mention], recent: Sequence[str], lately: Sequence[str],
                   kinds: Mapping[str, str]) -> tuple[str, int] | None:
    """The inverted order after a quote: '"…," said Austin' (the name, or a pronoun, right after the verb)."""
    verb_start = end - len(text[:end].split()[-1])
    if not re.search(r"[,\"”’]\s*$", text[:verb_start]):
        return None
    for m in local:
        if m.start >= end and re.fullmatch(r"\s+(?:the\s+)?(?:[a-z]+\s+){0,2}", text[end:m.start]):
            return m.actor, m.end
    pronoun = re.match(r"\s+(he|she)\b", text[end:])
    if pronoun:
        found = _latest(lately, "person", kinds) or _latest(recent, "person", kinds)
        return (found, end + pronoun.end()) if found else None
    return None


def _latest(order: Sequence[str], want: str, kinds: Mapping[str, str]) -> str | None:
    for actor_id in reversed(order):
        kind = kinds.get(actor_id, "other")
        if want == "person" and kind == "person":
            return actor_id
        if want == "body" and kind in ("organization", "country", "group"):
            return actor_id
        if want == "any":
            return actor_id
    return None


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Where the quotations of one sentence are (a quotation left open runs to the sentence's end)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)", text)]
    if not spans and text.lstrip()[:1] not in _QUOTES_OPEN + '"' and "”" in text:
        spans = [(0, text.index("”"))]  # the end of a quotation opened in an earlier sentence
    return spans


def _has_quote(text: str) -> bool:
    return any(c in text for c in _QUOTES_OPEN + _QUOTES_CLOSE + '"')


def _is_quote(text: str) -> bool:
    stripped = text.strip()
    return stripped[:1] in _QUOTES_OPEN + '"'


def _open_after(text: str, opened: bool) -> bool:
    """Whether a quotation is still open at the end of `text` (given whether one was open at its start)."""
    depth = 1 if opened else 0
    straight = text.count('"')
    depth += sum(text.count(c) for c in _QUOTES_OPEN) - sum(text.count(c) for c in _QUOTES_CLOSE)
    if straight % 2 == 1:
        depth = 0 if opened and depth == 1 else depth + 1
    return depth > 0


def content_of(text: str, attribution: Attribution) -> str:
    """What the speaker said, as the sentence words it: the attribution taken away.

    '"The troops will fight," Austin said.' → 'The troops will fight.'; 'According to Rathbun the property was
    returned.' → 'The property was returned.'; 'Whitmore told LA Weekly that the case…' → 'The case…'. The words
    are the sentence's own, in its order: nothing is paraphrased, so negation and modality are kept.
    """
    if attribution.cue == QUOTE_CONTINUES:
        return _unquote(text)
    before, after = text[:attribution.cue_start], text[attribution.cue_end:]
    quoted = re.findall(r"[“\"]([^”\"]{12,})[”\"]", text)
    outside = not any(a <= attribution.cue_start < b for a, b in quoted_spans(text))
    if quoted and outside and sum(map(len, quoted)) > len(text) / 3:
        return _unquote(" ".join(quoted))
    longest = max(quoted, key=len) if quoted else ""
    if outside and len(longest.split()) >= 4 and _opens_or_follows(text, longest, attribution):
        return _unquote(longest)  # '"Our nation is in danger," Essid declared in a televised address'
    that = _THAT.match(after)
    if that and len(after) - that.end() > 12:
        return _tidy(after[that.end():])
    before = re.sub(r"^\s*(?:[A-Z]\w*ly|So|But|And|However|Also|Still|Yet|Meanwhile),?\s+$", "", before)
    if attribution.inverted and len(before.split()) >= 4:
        return _tidy(before)  # "The combination has been steady, said Tom Forte, who follows Amazon": before it
    side = after if len(after.split()) >= 4 or len(after.strip(" ,.:;")) >= len(before.strip(" ,.:;")) else before
    if side is after:
        side = re.sub(r"^\s*(?:to\s+)?(?:the\s+)?(?:[A-Z][\w.'’-]*\s*){1,4}(?:in a [\w\s-]{1,30}?)?(?=,|\s+that\b)",
                      "", side)
    return _tidy(side)


def _opens_or_follows(text: str, quote: str, attribution: Attribution) -> bool:
    """A quotation that is what was said: it opens the sentence, or comes right after the attribution ("…,
    Essid said: \"…\""), not a phrase quoted inside reported speech ("he admitted \"politics in this town\"
    meant …")."""
    at = text.find(quote)
    head = text[:at].rstrip("“\"‘' ")
    runs_to_end = len(text[at + len(quote):].strip(" .,;:!?”\"’'")) == 0
    after_cue = at >= attribution.cue_end and not text[attribution.cue_end:at].strip(" ,:;“\"‘'")
    return not head.strip() or (runs_to_end and (after_cue or head.endswith((":", ","))))


def _unquote(text: str) -> str:
    return _tidy(text.strip().strip("“”\"'’‘ ,"))


def _tidy(text: str) -> str:
    text = text.strip(" ,:;\"“”")
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?…":
        text += "."
    return text if len(text) > 3 else ""


# A proper name as news prose writes a source: up to four capitalised words ("Steve Whitmore", "Sky News",
# "Food Standards Australia New Zealand"), joined by "of"/"for"/"and" inside a body's name.
_PROPER = r"[A-Z][\w.'’&-]*(?:\s+(?:(?:of|for|and|the|de|van|von|al)\s+)?[A-Z][\w.'’&-]*){0,4}"
_SOURCE = re.compile(
    rf"(?:\baccording to (?:the )?(?P<a>{_PROPER})"
    rf"|(?P<b>{_PROPER})(?:,[^,“”\"]{{2,80}},)?\s+(?:(?:has|had|also|later|then)\s+)*"
    rf"(?:said|says|told|tells|stated|states|wrote|writes|added|explained|noted|argued|claimed|warned|predicted|"
    rf"estimated|announced|insisted|asserted|observed|reported|tweeted|believes|complained|concluded)\b"
    rf"|[,”\"]\s*(?:said|says|wrote|added|told)\s+(?P<c>{_PROPER}))")
_NOT_NAMES_TEXT = ("""the he she it they we i his her its their this that these those there then but and or so
if when while after before as in on at by for from with a an one some many most all both officials critics
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december reuters""")
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
_TITLE_WORDS_TEXT = ("""mr mrs ms miss dr doctor professor prof secretary minister president ambassador
director chairman chairwoman chair undersecretary senator governor mayor judge general colonel captain spokesman
spokeswoman spokesperson chief ceo editor commissioner representative rep sen gov lord lady sir dame""")
_TITLE_WORDS = frozenset(_TITLE_WORDS_TEXT.split())
_BODY_WORDS = re.compile(r"\b(?:news|times|post|journal|agency|department|ministry|office|council|court|party|"
                         r"university|institute|association|union|company|inc|corp|ltd|bank|group|committee|"
                         r"commission|government|police|service|organi[sz]ation|foundation|network|magazine|"
                         r"study|team|board|house|senate|congress|parliament|league|federation|fund)\b",
                         re.IGNORECASE)


def named_sources(article: Article, actors: Sequence[ActorDraft]) -> list[tuple[str, str]]:
    """Names the text gives as sources ("X said", "according to X", '"…," said X') that no actor answers to,
    with a kind by the name's words (a body's words make an organization, else a person), in text order."""
    known = {name.lower() for a in actors for name, _ in _names(a)}
    known_words = {w for k in known for w in k.split() if len(w) > 3}
    found: dict[str, str] = {}
    for sentence in article.sentences:
        for m in _SOURCE.finditer(sentence.text):
            name = next(g for g in m.group("a", "b", "c") if g)
            words = [w.rstrip(".,") for w in name.split()]
            while words and words[0].lower() in _NOT_NAMES:
                words = words[1:]
            titled = [i for i, w in enumerate(words) if w.lower().rstrip(".") in _TITLE_WORDS]
            if titled and not _BODY_WORDS.search(" ".join(words)):
                words = words[titled[-1] + 1:]  # "Shadow Home Secretary Yvette Cooper": Yvette Cooper
            name = " ".join(words)
            key = name.lower()
            if len(name) < 3 or key in known or key in _NOT_NAMES or (words and words[-1].lower() in known_words):
                continue
            if len(name.split()) == 1 and not _BODY_WORDS.search(name) and not name.isupper():
                # news prose names a person in full once, then by surname: "Rathbun wrote" is Mark Rathbun
                full = re.search(rf"\b((?:[A-Z][\w'’-]+ ){{1,2}}){re.escape(name)}\b", article.text)
                if full is None or full.group(1).split()[0].lower() in _NOT_NAMES | _TITLE_WORDS:
                    continue  # a lone capitalised word ("Officials", "Critics") is rarely a source's name
                name = f"{full.group(1)}{name}"
                key = name.lower()
                if key in known:
                    continue
            found.setdefault(name, "organization" if _BODY_WORDS.search(name) or name.isupper() else "person")
    return list(found.items())
