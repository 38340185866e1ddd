"""Which agreed approach an alarm carries: the place (a location, or a whole zone) and the
window (start inclusive, end exclusive, ended early by hand)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.approaches import (
    Approach,
    ApproachBook,
    ApproachPlace,
    InvalidApproach,
    approach_for,
    check_text,
    check_window,
    parse_place,
)
from escalation.check import load_organisation
from escalation.directory import Directory
from escalation.plan import Where
from tests.conftest import TESTORG

T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 14:00 in Amsterdam
ROOM_A = Where(site_id="stadhuis", zone_id="spreekkamers", location_id="spreekkamer-a")
BALIE_1 = Where(site_id="stadhuis", zone_id="publiekshal", location_id="balie-1")
MOBILE_IN_HAL = Where(site_id="stadhuis", zone_id="publiekshal")


def agreement(place: ApproachPlace, *, note: str = "Rustig benaderen, geen uniform", start: datetime = T0,
              minutes: int = 60, ident: int = 1, ended_at: datetime | None = None) -> Approach:
    return Approach(id=ident, place=place, starts_at=start, ends_at=start + timedelta(minutes=minutes),
                    visitor="cliënt 14:00", note=note, made_by="Carla", made_at=T0 - timedelta(days=1),
                    ended_at=ended_at)


ROOM = ApproachPlace("stadhuis", "spreekkamer-a", None, "Spreekkamer A")
HAL = ApproachPlace("stadhuis", None, "publiekshal", "Publiekshal")


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    flagged = agreement(ROOM)
    assert approach_for([flagged], ROOM_A, T0 - timedelta(seconds=1)) is None
    assert approach_for([flagged], ROOM_A, T0) == flagged
    assert approach_for([flagged], ROOM_A, T0 + timedelta(minutes=59, seconds=59)) == flagged
    assert approach_for([flagged], ROOM_A, T0 + timedelta(minutes=60)) is None


def test_another_room_or_another_site_gets_nothing() -> None:
    flagged = agreement(ROOM)
    assert approach_for([flagged], BALIE_1, T0) is None
    assert approach_for([flagged], Where(site_id="elders", zone_id="spreekkamers", location_id="spreekkamer-a"),
                        T0) is None
    assert approach_for([flagged], Where(), T0) is None, "an unknown device has no place"


def test_a_zone_agreement_covers_its_locations_and_a_mobile_alarm_in_the_zone() -> None:
    flagged = agreement(HAL)
    assert approach_for([flagged], BALIE_1, T0) == flagged
    assert approach_for([flagged], MOBILE_IN_HAL, T0) == flagged
    assert approach_for([flagged], ROOM_A, T0) is None


def test_an_agreement_ended_by_hand_no_longer_applies() -> None:
    ended = agreement(ROOM, ended_at=T0 + timedelta(minutes=10))
    assert approach_for([ended], ROOM_A, T0 + timedelta(minutes=9)) == ended
    assert approach_for([ended], ROOM_A, T0 + timedelta(minutes=10)) is None


def test_the_room_goes_before_its_zone_then_the_appointment_going_on_now() -> None:
    zone = agreement(HAL, note="zone", ident=1)
    room = agreement(ApproachPlace("stadhuis", "balie-1", None, "Balie 1"), note="kamer", ident=2, minutes=120)
    later = agreement(ApproachPlace("stadhuis", "balie-1", None, "Balie 1"), note="later", ident=3,
                      start=T0 + timedelta(minutes=30))
    assert approach_for([zone, room], BALIE_1, T0).note == "kamer"  # type: ignore[union-attr]
    assert approach_for([zone, room, later], BALIE_1, T0 + timedelta(minutes=40)).note == "later"  # type: ignore[union-attr]


def test_places_come_from_the_agreement_file() -> None:
    loaded, _ = load_organisation(TESTORG)
    directory = Directory(loaded.organisation)
    assert parse_place(directory, "stadhuis/spreekkamer-a") == ApproachPlace(
        "stadhuis", "spreekkamer-a", None, "Spreekkamer A, Spreekkamers, Stadhuis Testdorp")
    assert parse_place(directory, "publiekshal").zone_id == "publiekshal"
    for wrong in ("", "stadhuis/kelder", "x" * 200, "../../etc"):
        with pytest.raises(InvalidApproach):
            parse_place(directory, wrong)


def test_windows_and_texts_are_bounded() -> None:
    check_window(T0, T0 + timedelta(hours=1), T0)
    for start, end in ((T0, T0), (T0, T0 - timedelta(hours=1)), (T0 - timedelta(hours=2), T0 - timedelta(hours=1)),
                       (T0, T0 + timedelta(days=15))):
        with pytest.raises(InvalidApproach):
            check_window(start, end, T0)
    assert check_text("note", "  Rustig\nbenaderen  ", 300) == "Rustig benaderen"
    for bad in ("", "   ", "x" * 301):
        with pytest.raises(InvalidApproach):
            check_text("note", bad, 300)


async def test_the_book_follows_the_database_and_keeps_its_copy_when_it_is_away() -> None:
    """Another instance adds an agreement: the book has it after the next read. The database
    away: the last copy stays and alarms still get their note."""
    stored: list[Approach] = []
    away = False

    def load(_now: datetime) -> list[Approach]:
        if away:
            raise ConnectionError("database away")
        return list(stored)

    book = ApproachBook(load=load, now=lambda: T0)
    rounds = 0

    async def sleep(_seconds: float) -> None:
        nonlocal rounds, away
        rounds += 1
        if rounds == 1:
            stored.append(agreement(ROOM))  # made elsewhere
        elif rounds == 2:
            assert book.note_for(ROOM_A, T0) == "Rustig benaderen, geen uniform"
            away = True
        elif rounds == 3:
            raise asyncio.CancelledError

    assert book.note_for(ROOM_A, T0) is None
    with pytest.raises(asyncio.CancelledError):
        await book.run(sleep=sleep)
    assert book.note_for(ROOM_A, T0) == "Rustig benaderen, geen uniform", "kept while the database is away"
