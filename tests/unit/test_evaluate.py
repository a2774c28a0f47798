"""The metric code on small hand-made cases, the fixture gold set's consistency, and `summarizer eval`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fixtures_lib import ARTICLES, ROOT
from memory import InProcessCLI

from summarizer.article.model import Article
from summarizer.article.readers import read_article
from summarizer.errors import InputError
from summarizer.eval.gold import Gold, gold_article, load_gold, load_gold_dir
from summarizer.eval.metrics import EvalReport, evaluate_article, evaluate_dir, names_match, negated
from summarizer.schema import (
    Actor,
    ArticleMeta,
    ArticleSummary,
    AttemptRecord,
    Claim,
    Evidence,
    Prediction,
    Provenance,
    SentenceSpan,
    Timeframe,
    UsageTotals,
    Warning,
)

GOLD_DIR = ROOT / "fixtures" / "gold"
DATE = dt.date(2024, 11, 1)
TEXT = (
    "President Volodymyr Zelensky said the reaction of the West is zero. "
    "Lloyd Austin expected the troops to join the fight in the coming days. "
    "Austin warned that the troops would make themselves legitimate military targets. "
    "The ministry said prices rose sharply."
)
ARTICLE = Article.from_text(TEXT, date=DATE)
NOW = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)


def gold(**overrides: Any) -> Gold:
    """A small gold annotation of ARTICLE (authored for these tests)."""
    data: dict[str, Any] = {
        "article": "t.txt", "article_id": ARTICLE.id, "_origin": "authored for tests",
        "actors": [
            {"name": "Volodymyr Zelensky", "aliases": ["Zelensky"], "kind": "person"},
            {"name": "Lloyd Austin", "aliases": ["Austin"], "kind": "person"},
            {"name": "the West", "aliases": ["West"], "kind": "group"},
        ],
        "claims": [
            {"actor": "Volodymyr Zelensky", "sentences": [1], "statement": "The West's reaction is zero."},
            {"actor": "article", "sentences": [4], "statement": "Prices rose sharply."},
        ],
        "predictions": [{"actor": "Lloyd Austin", "sentences": [2], "timeframe_end": "2024-11-08",
                         "statement": "The troops will join the fight in the coming days."}],
        "warnings": [{"actor": "Lloyd Austin", "sentences": [3],
                      "statement": "The troops would make themselves legitimate military targets."}],
    }  # fmt: skip
    return Gold.model_validate({**data, **overrides})


def evidence(*numbers: int) -> Evidence:
    spans = [ARTICLE.sentence(n) for n in numbers]
    return Evidence(sentences=[SentenceSpan(sentence=s.n, start=s.start, end=s.end, text=s.text)
                               for s in spans])


def item(cls: type[Any], n: int, actor: str | None, sentences: Sequence[int], statement: str,
         **extra: Any) -> Any:
    """A claim, prediction or warning of ARTICLE citing `sentences`; actor ids as in `summary()`."""
    names = {"A1": "Volodymyr Zelensky", "A2": "Lloyd Austin", "A3": "the West"}
    base = {"id": f"{cls.__name__[0]}{n}", "actor_id": actor, "actor": names.get(actor or "", "(article)"),
            "statement": statement, "evidence": evidence(*sentences)}
    if cls is Prediction:
        base |= {"timeframe_text": None, "timeframe": None, "condition": None, "certainty": "likely"}
    if cls is Warning:
        base |= {"addressees": [], "consequence": None, "condition": None}
    return cls(**(base | extra))


def summary(actors: Sequence[tuple[str, list[str]]] | None = None, *, claims: Sequence[Claim] | None = None,
            predictions: Sequence[Prediction] | None = None, warnings: Sequence[Warning] | None = None,
            outcomes: Sequence[tuple[str, str]] = (("extract", "ok"),), model: str = "gpt-4o-mini",
            verification: dict[str, dict[str, int]] | None = None) -> ArticleSummary:
    """A hand-made ArticleSummary of ARTICLE; defaults to a perfect answer."""
    if actors is None:
        actors = [("Volodymyr Zelensky", []), ("Lloyd Austin", ["Austin"]), ("the West", [])]
    end = DATE + dt.timedelta(days=7)
    attempts = [AttemptRecord(n=i, step=step, outcome=outcome, prompt_tokens=100, completion_tokens=10,
                              started_at=NOW, ended_at=NOW) for i, (step, outcome) in enumerate(outcomes, 1)]
    return ArticleSummary(
        article=ArticleMeta(id=ARTICLE.id, date=DATE, sentences=len(ARTICLE.sentences)), summary="s",
        actors=[Actor(id=f"A{i}", name=name, kind="person", role="r", aliases=aliases)
                for i, (name, aliases) in enumerate(actors, 1)],
        claims=list(claims) if claims is not None else [
            item(Claim, 1, "A1", [1], "The reaction of the West is zero."),
            item(Claim, 2, None, [4], "Prices rose sharply.")],
        predictions=list(predictions) if predictions is not None else [
            item(Prediction, 1, "A2", [2], "Troops will join the fight soon.",
                 timeframe=Timeframe(start=DATE, end=end, rule="coming days"))],
        warnings=list(warnings) if warnings is not None else [
            item(Warning, 1, "A2", [3], "The troops would be legitimate targets.")],
        provenance=Provenance(
            model=model, backend="openai-compatible", mode="tool_call", prompt_hash="h", schema_version="1",
            attempts=attempts, usage=UsageTotals(prompt_tokens=100 * len(attempts),
                                                 completion_tokens=10 * len(attempts),
                                                 total_tokens=110 * len(attempts)),
            started_at=NOW, finished_at=NOW, verification=verification),
    )  # fmt: skip


def test_article_has_the_sentences_the_cases_assume() -> None:
    assert len(ARTICLE.sentences) == 4
    assert ARTICLE.sentence(3).text.startswith("Austin warned")


def test_perfect_answer_scores_one_everywhere() -> None:
    result = evaluate_article(gold(), ARTICLE, summary())
    for name in ("actors", "claims", "predictions", "warnings", "any_kind"):
        tally = result.tallies[name]
        assert (tally.precision, tally.recall) == (1.0, 1.0), name
    assert result.tallies["claims"].attribution == 1.0  # including the article's own voice
    assert result.timeframe == {"dated": 1, "matched": 1, "correct": 1}
    assert result.grounding == {"items": 4, "grounded": 4, "spans": 4, "bad": 0}
    assert result.run["first_attempt_valid"] and result.missed == []


def test_missing_actor_lowers_recall_not_precision() -> None:
    tally = evaluate_article(gold(), ARTICLE, summary([("Zelensky", []), ("Austin", [])])).tallies["actors"]
    assert (tally.matched, tally.gold, tally.predicted) == (2, 3, 2)
    assert tally.precision == 1.0 and tally.recall == pytest.approx(2 / 3)
    assert tally.f1 == pytest.approx(0.8)


def test_alias_match_ignores_case_diacritics_and_titles() -> None:
    assert names_match(["Volodymyr Zelensky", "Zelensky"], ["President ZÉLENSKY"])
    assert names_match(["Lloyd Austin"], ["Secretary of Defense Lloyd Austin"])
    assert not names_match(["Volodymyr Zelensky", "Zelensky"], ["Zelenskyy"])  # spellings are not fuzzed
    actors = [("Zélensky", ["President Volodymyr Zelensky"]), ("Lloyd AUSTIN", []), ("West", [])]
    assert evaluate_article(gold(), ARTICLE, summary(actors)).tallies["actors"].recall == 1.0


def test_each_gold_actor_matches_once() -> None:
    tally = evaluate_article(gold(), ARTICLE, summary([("Zelensky", []), ("Volodymyr Zelensky", [])]))
    assert (tally.tallies["actors"].matched, tally.tallies["actors"].predicted) == (1, 2)


def test_wrong_attribution_is_a_match_with_the_wrong_actor() -> None:
    claims = [item(Claim, 1, "A2", [1], "The reaction of the West is zero."),  # said by Zelensky, not Austin
              item(Claim, 2, "A1", [4], "Prices rose sharply.")]  # the article's own voice, not Zelensky
    tally = evaluate_article(gold(), ARTICLE, summary(claims=claims)).tallies["claims"]
    assert (tally.matched, tally.attributed) == (2, 0) and tally.attribution == 0.0


def test_attribution_by_alias_of_the_predicted_actor() -> None:
    actors = [("Mr Volodymyr", ["Zelensky"]), ("Lloyd Austin", []), ("the West", [])]
    assert evaluate_article(gold(), ARTICLE, summary(actors)).tallies["claims"].attribution == 1.0


def test_reversed_meaning_on_the_right_sentence_does_not_match() -> None:
    reversed_ = "The troops would not make themselves legitimate military targets."
    warnings = [item(Warning, 1, "A2", [3], reversed_)]
    result = evaluate_article(gold(), ARTICLE, summary(warnings=warnings))
    assert result.tallies["warnings"].matched == 0 and result.tallies["warnings"].polarity_rejected == 1
    assert result.tallies["any_kind"].matched == 3  # not rescued by the any-kind matching either
    assert {"kind": "warnings", "sentences": [3], "statement": gold().warnings[0].statement} in result.missed


@pytest.mark.parametrize(("text", "expected"), [
    ("Prices will not fall.", True), ("Prices won't fall.", True), ("Prices won’t fall.", True),
    ("There is no deal.", True), ("He never agreed.", True), ("Nobody came.", True),
    ("Prices will fall.", False), ("Notably, prices fell.", False), ("Knots and nothingness.", False),
])  # fmt: skip
def test_negation_words(text: str, expected: bool) -> None:
    assert negated(text) is expected


def test_greedy_one_to_one_matching() -> None:
    claims = [item(Claim, 1, "A1", [1], "The West's reaction is zero."),
              item(Claim, 2, "A1", [1], "The West reacted weakly."),  # same sentence: the gold item is taken
              item(Claim, 3, None, [4], "Prices rose sharply.")]
    tally = evaluate_article(gold(), ARTICLE, summary(claims=claims)).tallies["claims"]
    assert (tally.matched, tally.predicted, tally.gold) == (2, 3, 2)
    assert tally.precision == pytest.approx(2 / 3)


def test_larger_overlap_wins() -> None:
    two = gold(claims=[{"actor": "article", "sentences": [1, 4], "statement": "Two sentences."},
                       {"actor": "article", "sentences": [4], "statement": "One sentence."}])
    claims = [item(Claim, 1, None, [4], "One."), item(Claim, 2, None, [1, 4], "Both.")]
    assert evaluate_article(two, ARTICLE, summary(claims=claims)).tallies["claims"].matched == 2


def test_kind_confusion_counts_only_in_any_kind_recall() -> None:
    claims = [*summary().claims, item(Claim, 3, "A2", [2], "Troops will join the fight soon.")]
    result = evaluate_article(gold(), ARTICLE, summary(claims=claims, predictions=[]))
    assert result.tallies["predictions"].recall == 0.0
    assert result.tallies["any_kind"].recall == 1.0
    assert result.timeframe == {"dated": 1, "matched": 0, "correct": 0}


@pytest.mark.parametrize(("days", "correct"), [(7, 1), (10, 1), (4, 1), (11, 0), (3, 0), (365, 0)])
def test_timeframe_resolution_within_three_days(days: int, correct: int) -> None:
    tf = Timeframe(start=DATE, end=DATE + dt.timedelta(days=days), rule="r")
    predictions = [item(Prediction, 1, "A2", [2], "Troops will join.", timeframe=tf)]
    result = evaluate_article(gold(), ARTICLE, summary(predictions=predictions))
    assert result.timeframe == {"dated": 1, "matched": 1, "correct": correct}


def test_unresolved_timeframe_is_wrong() -> None:
    predictions = [item(Prediction, 1, "A2", [2], "Troops will join.")]
    assert evaluate_article(gold(), ARTICLE, summary(predictions=predictions)).timeframe["correct"] == 0


def test_ungrounded_spans_are_detected() -> None:
    s = ARTICLE.sentence(1)
    shifted = Evidence(sentences=[SentenceSpan(sentence=1, start=s.start + 1, end=s.end, text=s.text[1:])])
    wrong_text = Evidence(sentences=[SentenceSpan(sentence=1, start=s.start, end=s.end, text="He said.")])
    wrong_number = Evidence(sentences=[SentenceSpan(sentence=2, start=s.start, end=s.end, text=s.text)])
    bad = (shifted, wrong_text, wrong_number)
    claims = [item(Claim, i, "A1", [1], "x", evidence=e) for i, e in enumerate(bad)]
    claims.append(item(Claim, 9, None, [4], "no evidence", evidence=Evidence(sentences=[])))
    result = evaluate_article(gold(), ARTICLE, summary(claims=claims, predictions=[], warnings=[]))
    assert result.grounding == {"items": 4, "grounded": 0, "spans": 3, "bad": 3}


def test_no_output_counts_every_gold_item_as_missed() -> None:
    result = evaluate_article(gold(), ARTICLE, None)
    assert result.tallies["any_kind"].recall == 0.0 and result.tallies["actors"].recall == 0.0
    assert result.tallies["claims"].precision is None and result.tallies["actors"].f1 == 0.0
    assert result.run == {}


def test_run_statistics_first_attempt_tokens_cost(tmp_path: Path) -> None:
    first_ok = summary(outcomes=[("actors", "ok"), ("claims", "ok")])
    reasked = summary(outcomes=[("actors", "ok"), ("claims", "invalid"), ("claims", "ok")])
    assert evaluate_article(gold(), ARTICLE, first_ok).run["first_attempt_valid"] is True
    assert evaluate_article(gold(), ARTICLE, reasked).run["first_attempt_valid"] is False
    gold_dir, out = _tiny_set(tmp_path, first_ok)
    run = evaluate_dir(gold_dir, out).as_dict()["totals"]["run"]
    assert run["first_attempt_valid"] == 1.0 and run["attempts_per_article"] == 2.0
    assert run["tokens_per_article"] == 220 and run["cost_per_article_usd"] == pytest.approx(
        (200 * 0.15 + 20 * 0.60) / 1e6)  # gpt-4o-mini list price from summarizer.runs.pricing
    _write(out, summary(model="some-unpriced-model"))
    assert evaluate_dir(gold_dir, out).as_dict()["totals"]["run"]["cost_usd"] is None


def verified(dropped: dict[str, int] | None = None, reasked: dict[str, int] | None = None,
             ) -> dict[str, dict[str, int]]:
    """A `provenance.verification` record: every check, zero unless given."""
    checks = ("speaker", "kind", "support", "actors")
    return {"dropped": dict.fromkeys(checks, 0) | (dropped or {}),
            "reasked": dict.fromkeys(checks, 0) | (reasked or {})}


def test_verification_counts_are_summed_over_the_articles_that_record_them() -> None:
    recorded = [verified({"speaker": 2, "support": 1}, {"speaker": 1, "kind": 1}),
                verified({"kind": 1}, {"kind": 1, "actors": 1}),
                verified()]  # verified, nothing failed: counted as an article with a record
    results = [evaluate_article(gold(), ARTICLE, summary(verification=v)) for v in recorded]
    results.append(evaluate_article(gold(), ARTICLE, summary(verification=None)))  # an older result: not counted
    results.append(evaluate_article(gold(), ARTICLE, None))  # no output: nothing to count
    assert results[0].verification == recorded[0] and results[3].verification is None
    totals = EvalReport("ours", results).as_dict()["totals"]["verification"]
    assert totals == {"dropped": {"speaker": 2, "kind": 1, "support": 1, "actors": 0},
                      "reasked": {"speaker": 1, "kind": 2, "support": 0, "actors": 1}, "articles": 3}
    none = EvalReport("ours", results[3:]).as_dict()["totals"]["verification"]
    assert none["articles"] == 0 and set(none["dropped"].values()) == set(none["reasked"].values()) == {0}


def test_an_article_that_failed_counts_against_first_attempt_validity(tmp_path: Path) -> None:
    gold_dir, out = _tiny_set(tmp_path)
    (out / f"{ARTICLE.id}.json").unlink()
    assert evaluate_dir(gold_dir, out).as_dict()["totals"]["run"]["first_attempt_valid"] is None  # never tried
    (out / "failures.jsonl").write_text(json.dumps({"article": "t.txt", "article_id": ARTICLE.id,
                                                    "reason": "ValidationFailedError"}) + "\nnot json\n")
    run = evaluate_dir(gold_dir, out).as_dict()["totals"]["run"]
    assert (run["with_output"], run["failed"], run["first_attempt_valid"]) == (0, ["t.txt"], 0.0)


# --------------------------------------------------------------------------- gold files


def _write(out: Path, result: ArticleSummary) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{result.article.id}.json").write_text(result.model_dump_json(), encoding="utf-8")


def _tiny_set(tmp_path: Path, result: ArticleSummary | None = None) -> tuple[Path, Path]:
    """gold/t.json + articles/t.txt + out/<id>.json in tmp_path."""
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "t.txt").write_text(f"date {DATE}\n{TEXT}\n", encoding="utf-8")
    assert read_article(tmp_path / "articles" / "t.txt").id == ARTICLE.id
    (tmp_path / "gold").mkdir(exist_ok=True)
    (tmp_path / "gold" / "t.json").write_text(gold().model_dump_json(by_alias=True), encoding="utf-8")
    _write(tmp_path / "out", result or summary())
    return tmp_path / "gold", tmp_path / "out"


def test_gold_speaker_must_be_a_gold_actor(tmp_path: Path) -> None:
    bad = gold().model_dump(by_alias=True)
    bad["claims"] = [{"actor": "Kim", "sentences": [1], "statement": "x"}]
    (tmp_path / "g.json").write_text(json.dumps(bad, default=str), encoding="utf-8")
    with pytest.raises(InputError, match="Kim"):
        load_gold(tmp_path / "g.json")


def test_gold_must_match_its_article(tmp_path: Path) -> None:
    gold_dir, _ = _tiny_set(tmp_path)
    late = gold(claims=[{"actor": "article", "sentences": [9], "statement": "x"}])
    with pytest.raises(InputError, match="sentences 1-4"):
        gold_article(late, gold_dir / "t.json")
    (tmp_path / "articles" / "t.txt").write_text(f"date {DATE}\n{TEXT} One more.\n", encoding="utf-8")
    with pytest.raises(InputError, match="article_id differs"):
        gold_article(gold(), gold_dir / "t.json")


def test_fixture_gold_set_is_consistent() -> None:
    golds = load_gold_dir(GOLD_DIR)
    assert len(golds) >= 9 and (GOLD_DIR / "README.md").is_file()
    wikinews = 0
    for path, g in golds:
        article = gold_article(g, path)  # ids and sentence numbers agree with the article files
        assert "authored" in g.origin and g.actors and (g.claims or g.predictions or g.warnings), path
        assert len({a.name for a in g.actors}) == len(g.actors), path
        raw = (ARTICLES / g.article).read_text(encoding="utf-8")
        wikinews += "license: CC BY 2.5 (Wikinews)" in raw
        assert article.date is not None
    assert wikinews >= 8


# --------------------------------------------------------------------------- the command


@pytest.fixture
def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcessCLI:
    """`summarizer ...` in this process; `eval` needs no model."""
    return InProcessCLI(monkeypatch, capsys)


def test_cli_eval_prints_table_and_writes_json(_cli: InProcessCLI, tmp_path: Path) -> None:
    claims = [item(Claim, 1, "A1", [1], "The reaction of the West is zero.")]  # misses the article's claim
    gold_dir, out = _tiny_set(tmp_path, summary(claims=claims))
    done = _cli("eval", gold_dir, out, "--json", tmp_path / "report.json")
    assert done.returncode == 0, done.stderr
    assert "actors recall" in done.stdout and "grounding validity" in done.stdout and "100.0 %" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    totals = report["totals"]
    assert totals["claims"]["recall"] == 0.5 and totals["claims"]["precision"] == 1.0
    assert totals["grounding"]["validity"] == 1.0 and totals["timeframe"]["accuracy"] == 1.0
    assert report["per_article"][0]["missed"] == [{"kind": "claims", "sentences": [4],
                                                   "statement": "Prices rose sharply."}]
    markdown = _cli("eval", gold_dir, out, "--markdown")
    assert "| claims recall | 50.0 % | 1/2 gold |" in markdown.stdout
    assert (out / "eval.json").is_file()


def test_cli_eval_shows_what_verification_dropped_and_reasked(_cli: InProcessCLI, tmp_path: Path) -> None:
    record = verified({"speaker": 2, "support": 1}, {"kind": 1})
    gold_dir, out = _tiny_set(tmp_path, summary(verification=record))
    done = _cli("eval", gold_dir, out, "--markdown")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| dropped by", "| re-asked for"))]
    assert len(rows) == 8  # every check, both actions
    recorded = "over 1 article(s) with a verification record"
    assert f"| dropped by speaker check | 2 | items, {recorded} |" in rows
    assert f"| dropped by support check | 1 | items, {recorded} |" in rows
    assert f"| dropped by actors check | 0 | items, {recorded} |" in rows
    assert f"| re-asked for kind | 1 | answers, {recorded} |" in rows
    assert f"| re-asked for speaker | 0 | answers, {recorded} |" in rows
    totals = json.loads((out / "eval.json").read_text(encoding="utf-8"))["totals"]["verification"]
    assert (totals["dropped"]["speaker"], totals["reasked"]["kind"], totals["articles"]) == (2, 1, 1)
    table = _cli("eval", gold_dir, out)
    assert "dropped by speaker check" in table.stdout and "re-asked for kind" in table.stdout

    _write(out, summary())  # a result without a record: no count, and the table says so
    unrecorded = _cli("eval", gold_dir, out, "--markdown")
    assert "| dropped by speaker check | — | items, no result records verification |" in unrecorded.stdout


def test_cli_eval_usage_errors_exit_2(_cli: InProcessCLI, tmp_path: Path) -> None:
    gold_dir, _ = _tiny_set(tmp_path)
    missing_out = _cli("eval", gold_dir, tmp_path / "nope")
    assert missing_out.returncode == 2 and "no such folder" in missing_out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    no_gold = _cli("eval", empty, tmp_path / "out")
    assert no_gold.returncode == 2 and "no gold" in no_gold.stderr


def _from_gold(g: Gold, article: Article) -> ArticleSummary:
    """The gold annotation itself as an ArticleSummary: what a perfect model would answer."""
    ids = {a.name: f"A{i}" for i, a in enumerate(g.actors, 1)}

    def common(prefix: str, i: int, it: Any) -> dict[str, Any]:
        speaker = it.speakers[0]
        spans = [article.sentence(n) for n in it.sentences]
        return {"id": f"{prefix}{i}", "actor_id": ids.get(speaker), "actor": speaker if speaker in ids
                else "(article)", "statement": it.statement, "evidence": Evidence(sentences=[
                    SentenceSpan(sentence=s.n, start=s.start, end=s.end, text=s.text) for s in spans])}

    def timeframe(end: dt.date | None) -> Timeframe | None:
        return Timeframe(start=end, end=end, rule="gold") if end else None

    return ArticleSummary(
        article=ArticleMeta(id=article.id, sentences=len(article.sentences)), summary="s",
        actors=[Actor(id=ids[a.name], name=a.name, kind=a.kind, role="", aliases=a.aliases)
                for a in g.actors],
        claims=[Claim(**common("C", i, c)) for i, c in enumerate(g.claims, 1)],
        predictions=[Prediction(**common("P", i, p), timeframe_text=None, condition=None, certainty="likely",
                                timeframe=timeframe(p.timeframe_end))
                     for i, p in enumerate(g.predictions, 1)],
        warnings=[Warning(**common("W", i, w), addressees=[], consequence=None, condition=None)
                  for i, w in enumerate(g.warnings, 1)],
        provenance=summary().provenance,
    )  # fmt: skip


@pytest.mark.parametrize("path", sorted(GOLD_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_each_fixture_gold_scores_perfectly_against_itself(path: Path) -> None:
    g = load_gold(path)
    for i, a in enumerate(g.actors):  # no two gold actors share a name: matching would be ambiguous
        assert not any(names_match(a.names, b.names) for b in g.actors[i + 1 :]), a.name
    article = gold_article(g, path)
    result = evaluate_article(g, article, _from_gold(g, article))
    for name, tally in result.tallies.items():
        assert (tally.recall, tally.precision) == ((1.0, 1.0) if tally.gold else (None, None)), name
        assert name == "actors" or tally.attribution in (1.0, None), name
    assert result.timeframe["correct"] == result.timeframe["dated"]
    assert result.grounding["grounded"] == result.grounding["items"]
