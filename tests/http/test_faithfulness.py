"""Faithfulness verification end to end: authored wrong answers for the seed article, through real openai +
instructor against the loopback server.

Each case adds one wrong item to the authored faithful answer (fixtures/responses/zelensky-north-korea.extract.json)
— a wrong speaker, a wrong kind, an unsupported statement, an actor the article does not name. A server model's
answer that fails a check is re-asked once (`FAITHFULNESS_REASKS`) with the reason; when the second answer is
right it is kept, and when it repeats the mistake the item is dropped and the rest kept. Both are counted in
`provenance.verification`. (The embedded model's policy, dropping without a re-ask: tests/unit/test_verify.py.)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from faithfulness_lib import KINDS, grounded, kept_problems
from fixtures_lib import SEED, answer
from loopback import LoopbackServer, Reply

from summarizer import RetryPolicy, Summarizer, asummarize
from summarizer.article.readers import read_article
from summarizer.extract.summarizer import FAITHFULNESS_REASKS
from summarizer.grounding.assemble import verify_summary
from summarizer.grounding.verify import CHECKS, Facts, actor_problems, item_problems
from summarizer.schema import ArticleSummary

FAST = RetryPolicy(transport_retries=1, reasks=2, initial_wait=0.01, max_wait=0.05)
ARTICLE = read_article(SEED)
BASE = answer("zelensky-north-korea")  # authored, faithful: every item passes every check
NOT_FAITHFUL = "Some items are not faithful to the article"


def _prediction(actor: str, sentence: int, statement: str) -> dict[str, Any]:
    return {"actor": actor, "sentences": [sentence], "statement": statement, "quote": None, "timeframe": None,
            "condition": None, "certainty": "likely"}


def _warning(actor: str, sentence: int, statement: str) -> dict[str, Any]:
    return {"actor": actor, "sentences": [sentence], "statement": statement, "quote": None, "addressees": [],
            "consequence": None, "condition": None}


def _claim(actor: str, sentence: int, statement: str) -> dict[str, Any]:
    return {"actor": actor, "sentences": [sentence], "statement": statement, "quote": None}


@dataclass(frozen=True)
class Case:
    """One wrong item added to the faithful answer, and the item a model that reads the re-ask gives instead."""

    check: str  # the check it fails
    kind: str  # where the wrong item is filed
    wrong: dict[str, Any]
    reason: str  # words of the reason the re-ask must carry
    right_kind: str
    right: dict[str, Any]
    extra_actors: list[dict[str, Any]] = field(default_factory=list)  # actors the wrong answer adds


CASES = {
    # (a) "This is a war of two countries against one," he said — "he" is Zelensky (sentence 10), not Putin.
    "speaker-putin-for-zelensky": Case(
        "speaker", "claims", _claim("A3", 10, "This is a war of two countries against one."),
        "Vladimir Putin is not who says [10]; the text attributes it to Volodymyr Zelensky",
        "claims", _claim("A1", 10, "This is a war of two countries against one.")),
    # (b) A past report filed as a prediction: "saying he was surprised by China's silence" looks back.
    "kind-past-report-as-prediction": Case(
        "kind", "predictions",
        _prediction("A1", 5, "Zelensky was surprised by China's silence on the North Korean deployment."),
        "[5] does not express a prediction",
        "claims", _claim("A1", 5, "Zelensky was surprised by China's silence on the North Korean deployment.")),
    # (b) A plain claim filed as a warning: Austin's "clear sign of weakness" names no danger.
    "kind-claim-as-warning": Case(
        "kind", "warnings",
        _warning("A2", 35, "Putin showed a clear sign of weakness by approaching North Korea as a beggar."),
        "[35] does not express a warning",
        "claims", _claim("A2", 35, "Putin showed a clear sign of weakness by approaching North Korea as a beggar.")),
    # (c) A number the sentence does not have: Crimea was occupied "10 years ago".
    "support-number": Case(
        "support", "claims", _claim("A1", 13, "Russia occupied Crimea 20 years ago with little global reaction."),
        "has 20, which is not in [13]",
        "claims", _claim("A1", 13, "Russia occupied Crimea 10 years ago with little global reaction.")),
    # (c) Content the sentence does not have.
    "support-content": Case(
        "support", "claims", _claim("A1", 18, "China supplies weapons and money to Iran."),
        "says what is not written",
        "claims", _claim("A1", 18, "North Korean troops gain invaluable combat experience.")),
    # (c) An added negation: sentence 21 says the experience "will ultimately work against stability".
    "support-negation": Case(
        "support", "claims",
        _claim("A1", 21, "North Korea's combat experience will not work against stability in the Asian region."),
        "adds a negation that is not in [21]",
        "claims",
        _claim("A1", 21, "North Korea's combat experience will work against stability and peace in the Asian region.")),
    # (d) An actor the article never names, given a sentence Zelensky says.
    "actor-not-named": Case(
        "actors", "claims", _claim("A10", 22, "Ukraine strongly supports deeper relations with South Korea."),
        'actor A10 "Emmanuel Macron" is not named in the article',
        "claims", _claim("A1", 22, "Ukraine strongly supports deeper relations with South Korea."),
        extra_actors=[{"id": "A10", "name": "Emmanuel Macron", "kind": "person", "role": "President of France",
                       "aliases": ["Macron"]}]),
}

OPENED: list[Summarizer] = []


@pytest.fixture(autouse=True)
def _close_summarizers() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def _summarize(server: LoopbackServer) -> ArticleSummary:
    summarizer = Summarizer(base_url=server.base_url, api_key="test-key", model="gpt-4o-mini", policy=FAST)
    OPENED.append(summarizer)
    return summarizer.summarize(ARTICLE)


def _with(kind: str, item: dict[str, Any], actors: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The faithful answer with one more item (and actors)."""
    data = copy.deepcopy(BASE)
    data[kind].append(copy.deepcopy(item))
    data["actors"].extend(copy.deepcopy(list(actors)))
    return data


def _items(result: ArticleSummary) -> set[tuple[str, str, str]]:
    return {(kind, item.actor, item.statement) for kind in KINDS for item in getattr(result, kind)}


def _base_items() -> set[tuple[str, str, str]]:
    names = {a["id"]: a["name"] for a in BASE["actors"]}
    return {(kind, names.get(i["actor"], "(article)"), i["statement"]) for kind in KINDS for i in BASE[kind]}


def _only(counts: dict[str, int], check: str) -> dict[str, int]:
    """`counts` as it must be when only `check` counted: every other check 0."""
    return {c: (counts[check] if c == check else 0) for c in CHECKS}


def _assert_reasked_with_reason(server: LoopbackServer, case: Case) -> None:
    """Two requests: the answer, and one re-ask whose messages carry the failing item, its check and the reason."""
    assert len(server.chat_requests) == 1 + FAITHFULNESS_REASKS == 2
    first, reask = server.chat_requests
    assert NOT_FAITHFUL not in first.prompt_text
    index = len(BASE[case.kind])  # the wrong item was added last
    contents = [str(m.get("content")) for m in reask.messages[len(first.messages):]]
    said = "\n".join(contents)
    assert NOT_FAITHFUL in said and f"{case.kind}[{index}] {case.check}: " in said and case.reason in said, said
    assert "not grounded" not in said  # grounding passed: only the faithfulness check asked again


@pytest.mark.parametrize("name", CASES)
def test_a_wrong_item_is_reasked_with_the_reason_and_the_corrected_answer_is_kept(loopback: LoopbackServer,
                                                                                 name: str) -> None:
    case = CASES[name]
    right = _with(case.right_kind, case.right)
    loopback.script(Reply.tool_call(_with(case.kind, case.wrong, case.extra_actors)), Reply.tool_call(right))
    result = _summarize(loopback)

    _assert_reasked_with_reason(loopback, case)
    names = {a["id"]: a["name"] for a in BASE["actors"]}
    assert _items(result) == _base_items() | {(case.right_kind, names[case.right["actor"]], case.right["statement"])}
    assert {a.name for a in result.actors} == set(names.values())
    verification = result.provenance.verification
    assert verification is not None
    assert verification["reasked"] == _only(verification["reasked"], case.check) and \
        verification["reasked"][case.check] == 1
    assert verification["dropped"] == dict.fromkeys(CHECKS, 0)
    assert verify_summary(result, ARTICLE) == [] and kept_problems(result, ARTICLE) == []


@pytest.mark.parametrize("name", CASES)
def test_a_wrong_item_repeated_after_the_reask_is_dropped_and_the_rest_kept(loopback: LoopbackServer,
                                                                           name: str) -> None:
    case = CASES[name]
    wrong = _with(case.kind, case.wrong, case.extra_actors)
    loopback.script(Reply.tool_call(wrong), Reply.tool_call(wrong))
    result = _summarize(loopback)

    _assert_reasked_with_reason(loopback, case)
    assert _items(result) == _base_items()  # the wrong item dropped, every faithful one kept
    assert {a.name for a in result.actors} == {a["name"] for a in BASE["actors"]}  # an unnamed actor dropped too
    verification = result.provenance.verification
    assert verification is not None
    assert verification["reasked"][case.check] == 1
    assert verification["dropped"][case.check] >= 1
    assert verification["dropped"] == _only(verification["dropped"], case.check)
    # Counted once per dropped item, and once per dropped actor.
    assert sum(verification["dropped"].values()) == 1 + len(case.extra_actors)
    assert verify_summary(result, ARTICLE) == [] and kept_problems(result, ARTICLE) == []


def test_each_answer_is_reasked_once_what_the_second_answer_gets_wrong_is_dropped(loopback: LoopbackServer) -> None:
    """Two wrong items; the second answer corrects the speaker but repeats the wrong kind: no third request."""
    speaker, kind = CASES["speaker-putin-for-zelensky"], CASES["kind-claim-as-warning"]
    first = _with(speaker.kind, speaker.wrong)
    first[kind.kind].append(kind.wrong)
    second = _with(speaker.right_kind, speaker.right)
    second[kind.kind].append(kind.wrong)
    loopback.script(Reply.tool_call(first), Reply.tool_call(second))
    result = _summarize(loopback)

    assert len(loopback.chat_requests) == 2
    reask = loopback.chat_requests[1].prompt_text
    assert speaker.reason in reask and kind.reason in reask
    assert (speaker.right_kind, "Volodymyr Zelensky", speaker.right["statement"]) in _items(result)
    assert not [w for w in result.warnings if w.statement == kind.wrong["statement"]]
    verification = result.provenance.verification
    assert verification == {"reasked": {**dict.fromkeys(CHECKS, 0), "speaker": 1, "kind": 1},
                            "dropped": {**dict.fromkeys(CHECKS, 0), "kind": 1}}


def test_a_faithful_answer_is_not_reasked_and_nothing_is_counted(loopback: LoopbackServer) -> None:
    loopback.script(Reply.tool_call(BASE))
    result = _summarize(loopback)
    assert len(loopback.chat_requests) == 1
    assert result.provenance.verification == {"dropped": dict.fromkeys(CHECKS, 0),
                                              "reasked": dict.fromkeys(CHECKS, 0)}
    assert len(_items(result)) == len(_base_items()) == 10
    assert kept_problems(result, ARTICLE) == []


async def test_async_twin_reasks_and_drops_the_same_way(loopback: LoopbackServer) -> None:
    case = CASES["support-negation"]
    wrong = _with(case.kind, case.wrong)
    loopback.script(Reply.tool_call(wrong), Reply.tool_call(wrong))
    result = await asummarize(ARTICLE, base_url=loopback.base_url, api_key="k", policy=FAST)
    _assert_reasked_with_reason(loopback, case)
    assert _items(result) == _base_items()
    assert result.provenance.verification is not None
    assert result.provenance.verification["dropped"]["support"] == 1


def test_the_cases_are_grounded_and_fail_only_their_own_check() -> None:
    """What the loopback tests rely on: each wrong answer passes grounding (its re-ask is a faithfulness re-ask),
    its wrong item fails exactly its check, and the corrected item fails none."""
    for name, case in CASES.items():
        wrong = grounded(_with(case.kind, case.wrong, case.extra_actors), ARTICLE)
        right = grounded(_with(case.right_kind, case.right), ARTICLE)
        assert actor_problems(ARTICLE, right.actors) == {}, name
        facts = Facts(ARTICLE, right.actors)
        assert item_problems(facts, case.right_kind, getattr(right, case.right_kind)[-1]) == {}, name
        if case.check == "actors":
            assert list(actor_problems(ARTICLE, wrong.actors)) == [case.wrong["actor"]], name
            assert case.reason in actor_problems(ARTICLE, wrong.actors)[case.wrong["actor"]], name
        else:
            problems = item_problems(Facts(ARTICLE, wrong.actors), case.kind, getattr(wrong, case.kind)[-1])
            assert list(problems) == [case.check] and case.reason in problems[case.check], (name, problems)
