"""Towns, districts and offices named in a question (spaCy EntityRuler) and the region they select."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.answer import Answerer
from knowledge.model import load_knowledge
from knowledge.places import Place, PlaceFinder, spellings, town_aliases


@pytest.fixture(scope="module")
def finder(kb_root: Path) -> PlaceFinder:
    return PlaceFinder(load_knowledge(kb_root))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich wohne in Teststadt, wo ist die Ausländerbehörde?",
         [Place("Teststadt", "town", "kreis-test"), Place("Ausländerbehörde", "office", "auslaenderbehoerde")]),
        ("ich wohne in teststadt", [Place("teststadt", "town", "kreis-test")]),  # typed in lower case
        ("Teststadt'ta oturuyorum, Jobcenter nerede?",  # Turkish suffix after an apostrophe
         [Place("Teststadt", "town", "kreis-test"), Place("Jobcenter", "office", "jobcenter")]),
        ("Termin bei der Auslaenderbehoerde im Kreis Anders",
         [Place("Auslaenderbehoerde", "office", "auslaenderbehoerde"), Place("Kreis Anders", "region", "kreis-other")]),
        ("أسكن في Anderstadt", [Place("Anderstadt", "town", "kreis-other")]),
        ("Was macht das KI?", [Place("KI", "office", "kommunales-integrationszentrum")]),
        ("bilmiyorum ki", []),  # Turkish "ki" is a word, only "KI" is the office
        ("How much does naturalisation cost?", []),  # "Much" is a town, but here it is a word
        ("I live in Much", [Place("Much", "town", "kreis-other")]),
    ],
)
def test_places_are_found(finder: PlaceFinder, text: str, expected: list[Place]) -> None:
    assert finder.find(text) == expected


def test_a_region_only_when_the_places_agree(finder: PlaceFinder) -> None:
    assert finder.region("Ich wohne in Teststadt") == "kreis-test"
    assert finder.region("Ich ziehe von Teststadt nach Anderstadt") is None  # which one? ask
    assert finder.region("Wo ist die Ausländerbehörde?") is None


def test_spellings_and_aliases() -> None:
    assert spellings("Dülmen") == ["Dülmen", "Dulmen", "Duelmen"]
    assert town_aliases("Emmerich am Rhein") == ["Emmerich am Rhein", "Emmerich"]
    assert town_aliases("Hennef (Sieg)") == ["Hennef (Sieg)", "Hennef"]
    assert "St. Augustin" in town_aliases("Sankt Augustin")


def test_the_answerer_takes_the_region_from_the_town(answerer: Answerer) -> None:
    local = answerer.answer("Ich wohne in Teststadt. Wo muss ich den Antrag auf Einbürgerung stellen?")
    assert local.region == "kreis-test" and local.entry_id == "kreis-test-naturalisation-where-to-apply"
    assert not local.ask_town and local.to_contract()["region"] == "kreis-test"
    other = answerer.answer("Ich wohne in Anderstadt. Wo muss ich den Antrag auf Einbürgerung stellen?")
    assert other.entry_id == "kreis-other-naturalisation-where-to-apply"
    # The session's region wins over a town in the text; no town: the state-wide answer asks for it.
    assert answerer.answer("Ich wohne in Anderstadt. Wo muss ich den Antrag auf Einbürgerung stellen?",
                           region="kreis-test").region == "kreis-test"
    plain = answerer.answer("Wo muss ich den Antrag auf Einbürgerung stellen?")
    assert plain.region is None and plain.ask_town
    assert answerer.answer("Was macht die Einbürgerungsbehörde?").offices == ["einbuergerungsbehoerde"]


def test_the_real_content_knows_goch_is_in_kreis_kleve(real: Answerer) -> None:  # real var/cache, no isolation
    answer = real.answer("Ich wohne in Goch. Wo finde ich das Kommunale Integrationszentrum?")
    assert answer.region == "kreis-kleve" and answer.entry_id == "kleve-welcome-center"
    assert answer.answer is not None and "02821 85-493" in answer.answer
    turkish = real.answer("Goch'ta oturuyorum, tercüman lazım, Kreis Kleve'de dolmetscher var mı?")
    assert turkish.region == "kreis-kleve" and turkish.entry_id == "kleve-interpreter-pool"
    assert real.answer("Ich wohne in Dülmen, wo ist das Integrationszentrum?").entry_id == "coesfeld-integration-center"
    assert real.answer("how much does the integration course cost").region is None  # Much, Rhein-Sieg-Kreis
