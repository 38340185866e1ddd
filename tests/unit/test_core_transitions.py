"""The transition table pinned: every allowed (status, event) pair, written out, so that a change
to `TRANSITIONS` shows up here as a changed line rather than slipping through."""

from __future__ import annotations

from typing import get_args

from dispatcher.core import TRANSITIONS
from dispatcher.core.machine import STEP_POLICY, Repeat, StepEnd

ALLOWED = {
    (None, "AlarmRaised"),
    ("NOTIFYING", "CancelRequested"), ("NOTIFYING", "CloseRequested"), ("NOTIFYING", "DeadlineReached"),
    ("NOTIFYING", "DeliveryFailed"), ("NOTIFYING", "CentreReported"), ("NOTIFYING", "EscalateRequested"),
    ("NOTIFYING", "Marked"),
    ("NOTIFYING", "NoteAdded"), ("NOTIFYING", "PoliceRequested"), ("NOTIFYING", "Pressed"),
    ("NOTIFYING", "Responded"), ("NOTIFYING", "Seen"),
    ("ACCEPTED", "CancelRequested"), ("ACCEPTED", "CloseRequested"), ("ACCEPTED", "DeadlineReached"),
    ("ACCEPTED", "DeliveryFailed"), ("ACCEPTED", "CentreReported"), ("ACCEPTED", "EscalateRequested"),
    ("ACCEPTED", "Marked"),
    ("ACCEPTED", "NoteAdded"), ("ACCEPTED", "PoliceRequested"), ("ACCEPTED", "Pressed"),
    ("ACCEPTED", "Responded"), ("ACCEPTED", "Seen"),
    ("ON_SCENE", "CancelRequested"), ("ON_SCENE", "CloseRequested"), ("ON_SCENE", "DeadlineReached"),
    ("ON_SCENE", "DeliveryFailed"), ("ON_SCENE", "CentreReported"), ("ON_SCENE", "EscalateRequested"),
    ("ON_SCENE", "Marked"),
    ("ON_SCENE", "NoteAdded"), ("ON_SCENE", "PoliceRequested"), ("ON_SCENE", "Pressed"),
    ("ON_SCENE", "Responded"), ("ON_SCENE", "Seen"),
    ("CLOSED", "CancelRequested"), ("CLOSED", "DeadlineReached"), ("CLOSED", "DeliveryFailed"),
    ("CLOSED", "CentreReported"),  # a stand-down's tries come after the close
    ("CLOSED", "NoteAdded"), ("CLOSED", "Pressed"), ("CLOSED", "Responded"), ("CLOSED", "Seen"),
}


def test_the_allowed_pairs_are_exactly_these() -> None:
    pairs = {(status.name if status is not None else None, event.__name__) for status, event in TRANSITIONS}
    assert pairs == ALLOWED
    assert len(TRANSITIONS) == len(ALLOWED)


def test_the_open_statuses_allow_the_same_events() -> None:
    open_events = [{event for status, event in ALLOWED if status == name} for name in ("NOTIFYING", "ACCEPTED",
                                                                                        "ON_SCENE")]
    assert open_events[0] == open_events[1] == open_events[2]


def test_every_reason_a_step_ends_has_a_row_in_the_step_policy() -> None:
    assert set(get_args(StepEnd)) == set(STEP_POLICY)
    waits = {reason for reason, rule in STEP_POLICY.items() if rule.last_step is Repeat.AT_DEADLINE}
    # A last step too few are present for starts each round short: repeating it now would loop.
    assert waits == {"all_declined", "nobody_reachable", "too_few_present"}, \
        "a round of declines, failures or a short step must not loop"
