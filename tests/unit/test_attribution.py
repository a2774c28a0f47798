"""Who says what, by the rules of news writing (`grounding/attribution.py`), and the sentence-first candidates.

The articles here are authored by hand for these tests; each sentence shows one shape of attribution.
"""

from __future__ import annotations

from summarizer.article.model import Article
from summarizer.grounding.attribution import attribute, content_of, named_sources
from summarizer.grounding.candidates import find_candidates, items_from_candidates, with_sources
from summarizer.grounding.kinds import kinds_in
from summarizer.schema import ActorDraft

ACTORS = [
    ActorDraft(id="A1", name="Lloyd Austin", kind="person", role="U.S. defense secretary"),
    ActorDraft(id="A2", name="Vladimir Putin", kind="person", aliases=["Putin"]),
    ActorDraft(id="A3", name="Steve Whitmore", kind="person"),
    ActorDraft(id="A4", name="Los Angeles Sheriff's office", kind="organization"),
    ActorDraft(id="A5", name="Mark Rathbun", kind="person"),
    ActorDraft(id="A6", name="Church of Scientology", kind="organization", aliases=["Scientology"]),
]
TEXT = (
    "Austin said Putin showed weakness when he turned to North Korea. "  # 1: "X said"
    "“The gambit shows how badly Putin’s war has gone,” he said. "  # 2: pronoun after a quote naming Putin
    "Steve Whitmore, a representative for the Los Angeles Sheriff's office, told reporters that the case was "
    "theft. "  # 3: appositive
    "According to Rathbun the property was returned by mail. "  # 4: according to
    "Rathbun stated,\n"  # 5: introduces a quotation (its own line, as in the article it is taken from)
    "“Daniel was picked up by an investigator. "  # 6: the quotation opens
    "He was taken to an office. "  # 7: inside it
    "He was interrogated for two hours.” "  # 8: it closes
    "Montalvo had read that the claims made about him were lies. "  # 9: "claims" is a noun here
    "The church was founded in 1954."  # 10: narration
)


def article() -> Article:
    return Article.from_text(TEXT, title="Authored attribution test")


def test_each_shape_of_attribution_names_its_speaker() -> None:
    found = attribute(article(), ACTORS)
    speakers = {n: a.speakers[0] for n, a in found.items()}
    assert speakers == {1: "A1", 2: "A1", 3: "A3", 4: "A5", 5: "A5", 6: "A5", 7: "A5", 8: "A5"}
    assert 9 not in found and 10 not in found


def test_a_quotation_over_three_sentences_is_one_candidate_in_its_own_words() -> None:
    found = find_candidates(article(), ACTORS)
    quote = next(c for c in found if c.sentences[0] == 6)
    assert quote.sentences == (6, 7, 8) and quote.speakers == ("A5",)
    assert quote.statement.startswith("Daniel was picked up by an investigator.")
    assert not any(5 in c.sentences for c in found)  # "Rathbun stated," says nothing by itself


def test_content_leaves_the_attribution_out_and_keeps_the_words() -> None:
    art = article()
    found = attribute(art, ACTORS)
    assert content_of(art.sentences[2].text, found[3]) == "The case was theft."
    assert content_of(art.sentences[3].text, found[4]) == "The property was returned by mail."
    assert content_of(art.sentences[1].text, found[2]).startswith("The gambit shows how badly")


def test_kinds_follow_the_words() -> None:
    assert kinds_in("Troops will join the fight in the coming days.") == ("predictions", "claims")
    assert kinds_in("The team won a silver medal last year.") == ("claims",)
    assert kinds_in("He warned that the troops would become targets.")[0] == "warnings"
    assert kinds_in("This could put people's safety at risk.")[0] == "warnings"
    assert kinds_in("Seventeen years ago this would not have been possible.") == ("claims",)
    assert "predictions" not in kinds_in("Devocht would help him.")  # a sentence-first label needs a firm marker
    assert "predictions" in kinds_in("Devocht would help him.", lenient=True)  # a model's prediction may use it


def test_items_are_labelled_by_their_words_and_cite_their_sentences() -> None:
    art = Article.from_text("Austin said the troops will join the fight in the coming days. "
                            "He warned they would become targets if they fight. The minister met reporters.")
    items = items_from_candidates(art, find_candidates(art, ACTORS))
    assert [(p.sentences, p.timeframe) for p in items.predictions] == [([1], "in the coming days")]
    assert [(w.sentences, w.actor, w.condition) for w in items.warnings] == [([2], "A1", "if they fight")]
    assert items.claims == []


def test_sources_the_actor_list_missed_are_added() -> None:
    art = Article.from_text("The Deseret News said the hashtag had become a phenomenon. "
                            "Shadow Home Secretary Yvette Cooper said the plan had failed. Officials said little.")
    assert named_sources(art, ACTORS) == [("Deseret News", "organization"), ("Yvette Cooper", "person")]
    actors = with_sources(art, ACTORS)
    assert [(a.id, a.name) for a in actors[len(ACTORS):]] == [("A7", "Deseret News"), ("A8", "Yvette Cooper")]
    assert {c.speakers[0] for c in find_candidates(art, actors)} == {"A7", "A8"}


def test_a_source_named_by_surname_is_added_with_the_full_name_the_article_gave_first() -> None:
    art = Article.from_text("Image: Mark Rathbun. Rathbun wrote that the drives were returned. "
                            "Critics said little.")
    assert named_sources(art, []) == [("Mark Rathbun", "person")]


def test_a_quotation_is_the_statement_and_an_inverted_source_leaves_what_came_before() -> None:
    actors = [ActorDraft(id="A1", name="Habib Essid", kind="person"),
              ActorDraft(id="A2", name="Tom Forte", kind="person")]
    art = Article.from_text("“Our nation is in danger,” Essid declared in a televised address Wednesday evening. "
                            "The combination of the two has been steady, said Tom Forte, who follows Amazon.")
    found = attribute(art, actors)
    assert content_of(art.sentences[0].text, found[1]) == "Our nation is in danger."
    assert content_of(art.sentences[1].text, found[2]) == "The combination of the two has been steady."


def test_a_phrase_quoted_inside_reported_speech_is_not_the_whole_statement() -> None:
    actors = [ActorDraft(id="A1", name="Barack Obama", kind="person", aliases=["Obama"])]
    art = Article.from_text("Obama spoke on Friday. He admitted \"politics in this town\" meant there were few "
                            "options available. Obama said: “We will not give in to this threat.”")
    found = attribute(art, actors)
    assert "few options available" in content_of(art.sentences[1].text, found[2])
    assert content_of(art.sentences[2].text, found[3]) == "We will not give in to this threat."
