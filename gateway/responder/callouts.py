"""Which open alarms a signed-in person has a page for: their call-outs to answer (responders)
and the alarms they are informed of "ter informatie" (the afdelingshoofd of the team, whatever
their role), for /me and the one-tap page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dispatcher.core import AlarmState, Page


@dataclass(frozen=True)
class MyCallout:
    state: AlarmState
    page: Page  # the latest page to this person for this alarm
    inform: bool


def my_callouts(states: Iterable[AlarmState], person_key: str, *, responder: bool) -> list[MyCallout]:
    """Oldest alarm first. A responder sees the pages they can answer; anyone linked to a person
    sees the alarms they are informed of. A page to answer goes before an inform page."""
    found = []
    for state in sorted(states, key=lambda s: s.raised_at):
        pages = [p for p in state.pages if p.recipient == person_key]
        answerable = [p for p in pages if p.asks]
        informed = [p for p in pages if p.inform]
        if responder and answerable:
            found.append(MyCallout(state, answerable[-1], False))
        elif informed:
            found.append(MyCallout(state, informed[-1], True))
    return found
