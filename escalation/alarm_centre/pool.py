"""One transmitter per alarm-centre contact, shared by the alarm channel and line supervision,
so that both number their messages from one sequence, as a receiver expects of one line.

Built from the agreement file as it is when a message goes: after a reload that changed the
contract (another receiver, a new key) the next message uses it, and the numbering and the
receiver's learnt clock carry on.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from escalation.alarm_centre.centres import KeySource, route_settings
from escalation.alarm_centre.transmitter import Transmitter
from escalation.model import Contact


class Transmitters:
    def __init__(self, keys: KeySource, now: Callable[[], datetime],
                 first_sequence: Callable[[], int] = lambda: secrets.randbelow(9999) + 1) -> None:
        # A random first number: after a restart, the receiver does not take our first messages
        # for repeats of the ones it acknowledged before.
        self._keys, self._now, self._first = keys, now, first_sequence
        self._by_contact: dict[str, Transmitter] = {}

    def for_contact(self, contact: Contact) -> Transmitter:
        """The transmitter for this centre as the file says now (raises `CentreUnusable`)."""
        settings = route_settings(contact, self._keys)
        current = self._by_contact.get(contact.id)
        if current is not None and current.settings == settings:
            return current
        fresh = Transmitter(settings, now=self._now, first_sequence=self._first())
        if current is not None:
            fresh.continue_from(current)
        self._by_contact[contact.id] = fresh
        return fresh
