"""A capable model is not capped: an article with 40 attributed statements keeps all 40 (and 40 actors).

`MAX_ITEMS` / `MAX_ACTORS` used to bound every response model, so a hosted model could return at most 8 claims
and 12 actors; the caps are now the embedded model's grammar only (`models/embedded/grammar.LIST_CAPS`). This
goes through the real openai + instructor stack and `summarize()` against the loopback server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loopback import LoopbackServer, Reply

from summarizer import RetryPolicy, summarize
from summarizer.article.model import Article

FAST = RetryPolicy(transport_retries=1, reasks=1, initial_wait=0.01, max_wait=0.05)

# Authored by hand for this test (the article is invented; the town, its bridge and its people do not exist).
# One row per speaker: name, who they are, the verb of speech, and what they said. Sentence k + 2 of the article
# is "<name>, <role>, <verb> that <what>." and the authored answer's claim k is that speaker saying <what>:
# the actor is the speaker the sentence names, the statement restates the sentence's content in its own words,
# and it cites that sentence, so every claim is one a faithful model would give.
SPEAKERS: tuple[tuple[str, str, str, str], ...] = (
    ("Margaret Okafor", "who chairs the Alder Street residents' association", "said",
     "floodwater reached the ground floors of 120 homes on Alder Street last March"),
    ("Tomasz Wierzbicki", "the council's chief engineer", "told the hearing",
     "inspectors found corrosion on 14 of the bridge's 22 steel girders"),
    ("Priya Raghunathan", "a pharmacist on Quay Road", "said",
     "deliveries to her pharmacy now take forty minutes longer because of the weight limit"),
    ("Declan Fitzgerald", "the harbour master", "reported",
     "cargo traffic through the port fell by a fifth during the first closure"),
    ("Ingrid Solberg", "a cycling campaigner", "said",
     "the temporary ferry carried more than 3,000 bicycles in its first month"),
    ("Kwame Asante", "who runs a bakery near the station", "complained",
     "the bakery's takings dropped by a third while the footpath was shut"),
    ("Lucia Benedetti", "the head teacher of Riverside Primary School", "said",
     "85 pupils cross the bridge on foot every morning"),
    ("Haruto Nakamura", "an engineering lecturer at Millbrook College", "explained",
     "the bridge was designed in 1958 for much lighter lorries"),
    ("Fatima Al-Sayed", "the chair of the chamber of commerce", "said",
     "forty businesses signed a letter asking for the repairs to be done at night"),
    ("Bernard Kowalczyk", "a retired bus driver", "recalled",
     "the number 7 bus used to reach the hospital in twelve minutes"),
    ("Siobhan Gallagher", "a nurse at Millbrook General Hospital", "said",
     "ambulance crews had been rerouted through the industrial estate"),
    ("Olusegun Adeyemi", "the county's transport director", "estimated",
     "the diversion added six kilometres to the average journey"),
    ("Annika Lindqvist", "a local historian", "noted",
     "the original stone piers date from a toll bridge opened in 1847"),
    ("Rafael Mendoza", "the owner of a removals firm", "said",
     "his vans were fined twice for using the closed lane"),
    ("Chen Jiahui", "a councillor for the east ward", "confirmed",
     "residents had submitted more than 600 written objections"),
    ("Gareth Pritchard", "the council's finance officer", "said",
     "the repair budget stood at four million pounds"),
    ("Yasmin Haddad", "a taxi driver", "said",
     "fares to the railway station had doubled since the diversion began"),
    ("Niamh O'Sullivan", "a wildlife officer", "told the hearing",
     "a colony of bats roosts under the northern arch of the bridge"),
    ("Viktor Hrabal", "a structural surveyor hired by the residents", "said",
     "the deck showed cracks wider than two millimetres"),
    ("Aisha Mwangi", "the manager of the food bank", "said",
     "volunteers from the west bank could no longer reach the food bank's warehouse on time"),
    ("Lars Eriksen", "a ferry operator", "said",
     "his boats made 48 crossings a day at the peak of the last closure"),
    ("Mei Ling Tan", "a dentist on Bridge Parade", "said",
     "a quarter of her patients had cancelled appointments in January"),
    ("Patrick Doherty", "the chief of the local fire brigade", "explained",
     "fire engines from the east station had to use the ring road"),
    ("Svetlana Petrova", "a parent from the Hillside estate", "said",
     "her children now leave home half an hour earlier for school"),
    ("Emeka Nwosu", "the council's road safety officer", "reported",
     "there were nine collisions on the diversion route in February"),
    ("Helga Brandt", "a member of the civic society", "said",
     "the civic society had collected old photographs of the bridge for an exhibition"),
    ("Diego Alvarez", "the chef at a riverside restaurant", "said",
     "the restaurant lost its lunchtime trade from office workers across the river"),
    ("Ruth Abernethy", "a solicitor representing the market traders", "argued",
     "the market traders had not been consulted before the weight limit was imposed"),
    ("Jamal Whitaker", "a youth worker", "said",
     "the skate park beside the bridge had been fenced off since November"),
    ("Agnieszka Nowak", "an accountant who commutes by train", "said",
     "the footbridge at the railway station was crowded every morning"),
    ("Tobias Lindemann", "the operations manager at the recycling depot", "said",
     "the depot's collection lorries were making two extra trips a week"),
    ("Grace Mensah", "a councillor for the harbour ward", "said",
     "she had received more complaints about the bridge than about any other issue"),
    ("Henrik Dahl", "an engineer from the company that built the bridge", "said",
     "the girders were last repainted in 1996"),
    ("Oksana Shevchenko", "a volunteer driver for elderly residents", "said",
     "she drove pensioners to the clinic by a longer route twice a week"),
    ("Callum McIntyre", "the manager of Millbrook Rovers", "said",
     "match-day crowds of about 2,000 supporters usually walked across the bridge"),
    ("Leila Farahani", "an architect", "recalled",
     "the council had rejected a proposal for a separate footbridge in 2015"),
    ("Samuel Oduya", "a fruit seller at the market", "said",
     "his stall on the east bank sold half as much fruit as the previous summer"),
    ("Beatriz Carvalho", "the director of the community choir", "said",
     "choir rehearsals had moved to a church hall on the west bank"),
    ("Dmitri Volkov", "a lorry driver", "said",
     "the weight limit signs were placed too late for drivers to turn around"),
    ("Eleanor Whitfield", "the leader of the council", "said",
     "the council had commissioned a full survey of the bridge in April"),
)
FIRST = 3  # the article's sentence that the first speaker's statement is in
TEXT = " ".join([
    "Millbrook's council held a public hearing on Tuesday evening about the future of the Harbour Street bridge.",
    "More than 200 people filled the town hall, and forty of them spoke.",
    *(f"{name}, {role}, {verb} that {what}." for name, role, verb, what in SPEAKERS),
    "The council said it would publish its decision next month.",
])
ARTICLE = Article.from_text(TEXT, title="Forty voices on the Harbour Street bridge", date=dt.date(2025, 3, 4))


def _statement(what: str) -> str:
    return what[0].upper() + what[1:] + "."


def _answer() -> dict[str, Any]:
    """The authored answer: every speaker an actor, each with the one claim its sentence makes."""
    actors = [{"id": f"A{k}", "name": name, "kind": "person", "role": role.removeprefix("who "), "aliases": []}
              for k, (name, role, _, _) in enumerate(SPEAKERS, 1)]
    claims = [{"actor": f"A{k}", "statement": _statement(what), "sentences": [k + FIRST - 1], "quote": None}
              for k, (_, _, _, what) in enumerate(SPEAKERS, 1)]
    return {"actors": actors, "claims": claims, "predictions": [], "warnings": [],
            "summary": "At a public hearing on the Harbour Street bridge in Millbrook, forty residents, traders "
                       "and officials described what its closure and weight limit had cost them."}


def test_the_article_is_as_authored() -> None:
    assert len(SPEAKERS) == 40 and len({name for name, *_ in SPEAKERS}) == 40
    assert len(ARTICLE.sentences) == 43
    for k, (name, _, verb, what) in enumerate(SPEAKERS, 1):
        sentence = ARTICLE.sentence(k + FIRST - 1).text
        assert sentence.startswith(f"{name},") and f" {verb} that {what}." in sentence


def test_forty_faithful_claims_and_forty_actors_all_come_back(loopback: LoopbackServer) -> None:
    loopback.script(Reply.tool_call(_answer()))
    result = summarize(ARTICLE, base_url=loopback.base_url, api_key="test-key", model="gpt-4o-mini", policy=FAST)

    assert len(loopback.chat_requests) == 1, "the answer was re-asked"
    assert len(result.actors) == 40
    assert sorted(a.name for a in result.actors) == sorted(name for name, *_ in SPEAKERS)
    assert len(result.claims) == 40
    for k, (claim, (name, _, _, what)) in enumerate(zip(result.claims, SPEAKERS, strict=True), 1):
        assert claim.actor == name
        assert claim.statement == _statement(what)
        assert [s.sentence for s in claim.evidence.sentences] == [k + FIRST - 1]
        assert claim.evidence.sentences[0].text.startswith(f"{name},")


def test_the_server_is_sent_no_bound_on_actors_or_items(loopback: LoopbackServer) -> None:
    loopback.script(Reply.tool_call(_answer()))
    summarize(ARTICLE, base_url=loopback.base_url, api_key="test-key", model="gpt-4o-mini", policy=FAST)

    (tool,) = loopback.chat_requests[0].body["tools"]
    props = tool["function"]["parameters"]["properties"]
    for name in ("actors", "claims", "predictions", "warnings"):
        assert props[name]["type"] == "array"
        assert "maxItems" not in props[name], f"{name} is capped for a server model"
