"""What people read and hear: the police call that gets a private alarm answered, the
afdelingshoofd's notice, and Dutch without English in it."""

from __future__ import annotations

import re

import pytest

from escalation import texts
from escalation.fault_notices import FAULTS
from escalation.notices import Helper, Message, Purpose
from escalation.plan import Position, Where
from escalation.texts import (
    app_link_text,
    contact_sms_text,
    page_text,
    sms_text,
    voice_contact_script,
    voice_page_script,
)

COUNTER = Where("stadhuis", "Gemeentehuis Wormer", "Koetserstraat 1, 1531 NX Wormer", "publiekshal", "Publiekshal",
                "balie-1", "Balie 1", "Trap naast de lift")
FIELD = Position(lat=52.497, lon=4.812, accuracy_m=9)


def message(**kw: object) -> Message:
    base: dict[str, object] = {"alarm_uid": "20261130-abcde", "device_id": "knop-1", "kind": "assist",
                               "silent": True, "where": COUNTER, "step_id": "politie",
                               "organisation": "Gemeente Wormerland"}
    return Message(**{**base, **kw})  # type: ignore[arg-type]


def test_the_police_hear_what_where_and_who_verified_it() -> None:
    said = voice_contact_script(message(verified=("bhv_on_scene:Jan de Vries", "operator"),
                                        helpers=(Helper("Jan de Vries", 1),)), "nl")
    assert "Een medewerker vraagt om assistentie." in said
    assert "Waar: Balie 1, Publiekshal, Gemeentehuis Wormer. Adres: Koetserstraat 1, 1531 NX Wormer." in said
    assert "Geverifieerd: Jan de Vries, BHV-er, is ter plaatse. Onze centrale post heeft het alarm beoordeeld" in said
    assert "gevraagd gemaakt" not in said


def test_an_unverified_alarm_is_called_unverified_and_duress_and_a_second_press_are_named() -> None:
    assert "nog niet geverifieerd" in voice_contact_script(message(), "nl")
    said = voice_contact_script(message(verified=("second_press", "duress")), "nl")
    assert "tweede keer op de alarmknop gedrukt" in said and "onder dwang ingetrokken" in said


def test_the_police_never_hear_coordinates() -> None:
    field = message(where=Where(), person_name="Piet Jansen", position=FIELD, note="Huisbezoek Dorpsstraat 12, Wormer")
    said = voice_contact_script(field, "nl")
    assert not re.search(r"\d+[.,]\d{3,}", said), said
    assert "Het gaat om Piet Jansen." in said and "Dorpsstraat 12" in said
    assert "positie" not in voice_page_script(field, "nl"), "no coordinates read to a responder either"
    assert "52.49700,4.81200" in page_text(Purpose.PAGE, field, "nl"), "written, the position helps"


def test_the_afdelingshoofd_is_told_for_information_with_the_person() -> None:
    informed = message(code="4", kind="panic", person_name="Sanne de Jong")
    text = sms_text(Purpose.INFORM, informed, "nl")
    assert text.startswith("Ter informatie, voor jou als afdelingshoofd. Code 4: paniekalarm, stil alarm. Balie 1")
    assert "Medewerker: Sanne de Jong." in text and "Antwoord" not in text, "nothing to answer"
    link = app_link_text(informed, "nl", "https://x/r/abc", Purpose.INFORM)
    assert "Bekijk het alarm: https://x/r/abc" in link and "antwoorden" not in link


def test_a_known_visitors_approach_reaches_the_page() -> None:
    text = page_text(Purpose.PAGE, message(code="4", approach="Rustig benaderen, niet aanraken"), "nl")
    assert "Bekende bezoeker, afgesproken aanpak: Rustig benaderen, niet aanraken." in text


def dutch_strings() -> list[str]:
    found: list[str] = []
    for table in (texts.KIND, texts.ROLE, texts.OUTCOME, texts.WORDS, texts.SMS, texts.VOICE, texts.CONTACT_KIND,
                  texts.VERIFIED, FAULTS):
        found += [str(v) for v in table["nl"].values()]
    return found


# English words that crept into Dutch lines before ("(… for …)", "offline", "on scene").
ENGLISH = re.compile(r"\b(for|the|and|offline|online|scene|cancel(led)?|please|alarm button|call)\b", re.I)


@pytest.mark.parametrize("text", dutch_strings())
def test_dutch_lines_hold_no_english_words(text: str) -> None:
    assert not ENGLISH.search(text), text


def test_code4s_own_post_is_never_called_meldkamer() -> None:
    # "Meldkamer" is the police's; code4's control room is the centrale post.
    assert not any("meldkamer" in text.lower() for text in dutch_strings())


def test_the_police_sms_gives_the_visits_address_in_writing_not_coordinates() -> None:
    field = message(where=Where(), person_name="Piet Jansen", position=FIELD, verified=("operator",),
                    note="Huisbezoek Dorpsstraat 12, Wormer")
    text = contact_sms_text(field, "nl")
    assert text.startswith("Dit is een automatisch alarmbericht van Gemeente Wormerland.")
    assert "Bij het bezoek staat genoteerd: Huisbezoek Dorpsstraat 12, Wormer." in text
    assert "Onze centrale post heeft het alarm beoordeeld" in text
    assert text.endswith("Antwoord 1 om de ontvangst te bevestigen. [BCDE]")
    assert "52.49" not in text and "4.812" not in text and "Positie" not in text
    assert "Druk op 1" not in text and "ik kom" not in text


def test_the_police_sms_without_a_visit_gives_the_places_address_and_never_coordinates() -> None:
    at_counter = contact_sms_text(message(where=COUNTER, position=FIELD), "nl")
    assert "Adres: Koetserstraat 1, 1531 NX Wormer." in at_counter and "52.49" not in at_counter
    nowhere = contact_sms_text(message(where=Where(), person_name="Piet Jansen", position=FIELD), "en")
    assert "We know the position, but not an address." in nowhere and "52.49" not in nowhere
