"""What an alarm is about: the one list every part uses (the protocol, the agreement file's
`kinds`, the core's severe kinds, the texts). Plain data: the core may import it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class AlarmKind(StrEnum):
    PANIC = "panic"
    ASSIST = "assist"
    MAN_DOWN = "man_down"  # the device says its wearer is lying down
    NO_MOVEMENT = "no_movement"
    CHECKIN_MISSED = "checkin_missed"  # raised by code4 for a lone worker's visit, never by a device

    def __repr__(self) -> str:
        # As the text it is on the wire: validation errors list 'panic', not <AlarmKind.PANIC: 'panic'>.
        return repr(self.value)


DeviceAlarmKind = Literal[AlarmKind.PANIC, AlarmKind.ASSIST, AlarmKind.MAN_DOWN, AlarmKind.NO_MOVEMENT]
"""The kinds a device may send in an alarm payload."""
DEVICE_KINDS: tuple[AlarmKind, ...] = get_args(DeviceAlarmKind)
AGGRESSION_KINDS = frozenset({AlarmKind.PANIC, AlarmKind.ASSIST})
"""Someone is being threatened (not a fall): responders establish the kind of aggression first (the Leidraad)."""
