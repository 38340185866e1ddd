"""The rules of dispatcher/visibility.py: who learns of duress and of offenders' names."""

from __future__ import annotations

from typing import Any

from dispatcher.incidents.access import Access
from dispatcher.visibility import (
    responder_told_of_duress,
    sees_duress,
    sees_offenders,
    story_ends_at_cancel,
    timeline_for,
)

DURESS_ALARM: list[tuple[str, dict[str, Any]]] = [
    ("alarm_raised", {"kind": "panic", "note": "Dorpsstraat 12"}),
    ("accepted", {"recipient": "Sanne de Jong", "role": 1}),
    ("duress", {}),
    ("escalated", {"from": "collega", "to": "bhv", "reason": "duress"}),
    ("step_started", {"step": "bhv", "code": "4", "reason": "duress"}),
    ("cancel_ignored_after_duress", {}),
    ("note", {"text": "Dwang-PIN gebruikt"}),
    ("closed", {"outcome": "resolved", "note": "Dwang, politie ter plaatse"}),
]


def test_the_control_room_sees_every_entry_as_it_is() -> None:
    assert timeline_for(DURESS_ALARM, duress=True, running=True) == [data for _, data in DURESS_ALARM]


def test_everyone_else_sees_a_severe_alarm_and_none_of_the_control_rooms_words() -> None:
    shown = timeline_for(DURESS_ALARM, duress=False, running=False)
    assert shown == [
        {"kind": "panic", "note": "Dorpsstraat 12"},  # the device's own note (a visit) is not the control room's
        {"recipient": "Sanne de Jong", "role": 1},
        None,
        {"from": "collega", "to": "bhv", "reason": "severe"},
        {"step": "bhv", "code": "4", "reason": "severe"},
        None,
        None,
        {"outcome": "resolved"},
    ]
    assert "dwang" not in str(shown).lower() and "duress" not in str(shown)


def test_notes_on_an_alarm_without_duress_stay_visible() -> None:
    plain = [("alarm_raised", {"kind": "panic"}), ("note", {"text": "Klant weg"}),
             ("closed", {"outcome": "resolved", "note": "Rustig afgelopen"})]
    assert timeline_for(plain, duress=False, running=True) == [data for _, data in plain]


def test_while_a_duress_alarm_runs_its_story_ends_at_the_cancel_for_everyone_else() -> None:
    running = DURESS_ALARM[:-1]  # not closed yet
    assert timeline_for(running, duress=False, running=True) == [
        {"kind": "panic", "note": "Dorpsstraat 12"}, {"recipient": "Sanne de Jong", "role": 1},
        None, None, None, None, None]
    assert story_ends_at_cancel(running, duress=False, running=True)
    assert not story_ends_at_cancel(running, duress=True, running=True)
    assert not story_ends_at_cancel(running, duress=False, running=False)
    assert not story_ends_at_cancel([("alarm_raised", {}), ("accepted", {})], duress=False, running=True)


def test_a_wrong_pin_ends_the_story_too_while_the_alarm_runs() -> None:
    """The device showed "cancelled": whoever may be watching the record must see the same."""
    entries = [("alarm_raised", {"kind": "panic"}), ("cancel_refused", {"reason": "pin_required"}),
               ("cancel_refused", {"reason": "wrong_pin", "attempts": 1, "limit": 3}),
               ("accepted", {"recipient": "Sanne de Jong", "role": 1})]
    assert timeline_for(entries, duress=False, running=True) == [
        {"kind": "panic"}, {"reason": "pin_required"}, None, None]
    assert story_ends_at_cancel(entries, duress=False, running=True)
    assert timeline_for(entries, duress=False, running=False) == [data for _, data in entries], "once closed, all"
    assert timeline_for(entries, duress=True, running=True) == [data for _, data in entries], "the control room"


def test_roles_combine() -> None:
    assert sees_duress({"operator"}) and sees_duress({"coordinator", "operator"})
    assert not any(sees_duress(roles) for roles in ({"coordinator"}, {"employee"}, {"responder"}, {"admin"}, set()))


def test_offenders_names_are_the_coordinators() -> None:
    assert sees_offenders(Access.FULL)
    assert not any(sees_offenders(a) for a in (Access.INVOLVED, Access.ALARM, Access.NONE))


def test_a_responder_who_is_not_coming_is_not_told() -> None:
    assert responder_told_of_duress(coming=True, asked=False)
    assert responder_told_of_duress(coming=False, asked=True)
    assert not responder_told_of_duress(coming=False, asked=False)
