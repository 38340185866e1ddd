"""Which standard event the alarm centre receives for what code4 knows: one table, both formats.

| code4                    | Contact ID (ADM-CID)         | SIA DCS | SIA restore |
| ------------------------ | ---------------------------- | ------- | ----------- |
| panic (`AlarmKind`)      | 122 silent panic             | HA      | HH          |
| assist (`AlarmKind`)     | 120 panic                    | PA      | PH          |
| duress (a fact)          | 121 duress                   | HA      | HH          |
| man_down (`AlarmKind`)   | 100 medical                  | MA      | MH          |
| no_movement (`AlarmKind`)| 101 personal emergency       | QA      | QH          |
| checkin_missed           | 102 fail to report in        | QA      | QH          |
| verified (BHV/operator)  | 139 verifier (new event)     | BV      | -           |
| cancel (false alarm)     | 406 cancel (new event)       | OC      | -           |
| periodic test            | 602 periodic test report     | RP      | -           |
| drill (a practice alarm) | 601 manual trigger test      | RX      | -           |

Why each:

- **panic: 122 silent panic / HA.** A code4 button is pressed by someone facing aggression, and it
  sounds nothing where they stand (a siren could make things worse). That is a silent hold-up
  alarm: Contact ID 122 is the silent panic, SIA DC-03's HA is "hold-up alarm: silent alarm, user
  under duress", and receivers that turn Contact ID into SIA codes (pysiaalarm among them) turn
  122 into HA, so the centre sees the same thing in either format. 123 (audible panic) is not
  used: code4 makes no alarm audible on site.
- **assist: 120 panic / PA.** A call for colleagues' help, manually raised, without the "under
  duress" of a hold-up: PA is "emergency assistance request, manually activated", 120 its
  Contact ID twin.
- **duress: 121 duress / HA.** When code4 knows the person was forced (a duress code or gesture),
  Contact ID has the exact event; SIA DC-03 has none apart from hold-up, so HA (as above, and as
  receivers translate 121).
- **man_down: 100 medical / MA.** The device says its wearer is lying down: most likely a fall or
  a collapse, for which the centre's medical procedure (ambulance) is the right one.
- **no_movement: 101 personal emergency / QA.** No movement for a while: someone may need help,
  cause unknown; 101 is the personal (pendant) emergency and QA the general emergency alarm.
- **checkin_missed: 102 fail to report in / QA.** A lone worker missed a check-in: Contact ID
  has this very event; SIA DC-03 has none for people, so the emergency alarm QA, with the text
  saying what happened.
- **verified: 139 / BV.** A BHV on scene or the control room confirmed that the police are
  needed (the Dutch police respond to a private alarm only once it is verified). Contact ID and
  SIA DC-03 define "verified" events only for intrusion (139 "intrusion verifier", BV "burglary
  verified: an alarm has occurred and been verified"); alarm centres route those as verified,
  police-needed alarms, which is exactly the meaning. It is sent as a new event in the same zone
  as the alarm it verifies, with a text that says who verified it. A centre that has agreed on
  another code changes this one row.
- **cancel: 406 cancel / OC.** The alarm was false and cancelled (by the person or the control
  room): Contact ID's "cancel" and SIA's "cancel report", so the centre stands down.
- **restore: qualifier 3 / the alarm's restore code.** The alarm is over (the incident is
  closed): the same Contact ID event with qualifier 3, and SIA's "alarm restore" for that
  family (xH), which is also what receivers make of a Contact ID restore.
- **periodic test: 602 / RP.** The periodic test report, for centres that want a test event in
  their records. Line supervision itself uses the DC-09 NULL message (`dc09.build_null`), which
  carries no event at all.
- **drill: 601 / RX.** An alarm in drill mode (a site or device set to `drill`) reaches the centre
  as a manual test, never as an alarm: the centre sees the path work end to end, and no police
  car is sent to an exercise. The text says what the alarm would have been.

Zone: the zone number of the place or device, agreed with the centre (ZZZ in Contact ID, the
number after the SIA code). Text: SIA DC-03's caption (`^text^`); the location also travels as
DC-09 extended data `[L...]`, the only place Contact ID has for text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from random import Random
from types import MappingProxyType
from typing import Final

from devices.kinds import AlarmKind
from escalation.alarm_centre.dc09 import (
    Dc09Error,
    Link,
    MessageType,
    build_message,
    contact_id_data,
    extended_data,
    sia_dcs_data,
)


class CentreEvent(StrEnum):
    PANIC = "panic"
    ASSIST = "assist"
    DURESS = "duress"
    MAN_DOWN = "man_down"
    NO_MOVEMENT = "no_movement"
    CHECKIN_MISSED = "checkin_missed"
    VERIFIED = "verified"
    CANCEL = "cancel"
    PERIODIC_TEST = "periodic_test"
    DRILL = "drill"


@dataclass(frozen=True, slots=True)
class StandardEvent:
    contact_id: int  # the Contact ID event code (EEE)
    sia: str  # the SIA DC-03 event code
    sia_restore: str | None  # its restore code; None: the event has no restore


EVENT_TABLE: Final[Mapping[CentreEvent, StandardEvent]] = MappingProxyType({
    CentreEvent.PANIC: StandardEvent(122, "HA", "HH"),
    CentreEvent.ASSIST: StandardEvent(120, "PA", "PH"),
    CentreEvent.DURESS: StandardEvent(121, "HA", "HH"),
    CentreEvent.MAN_DOWN: StandardEvent(100, "MA", "MH"),
    CentreEvent.NO_MOVEMENT: StandardEvent(101, "QA", "QH"),
    CentreEvent.CHECKIN_MISSED: StandardEvent(102, "QA", "QH"),
    CentreEvent.VERIFIED: StandardEvent(139, "BV", None),
    CentreEvent.CANCEL: StandardEvent(406, "OC", None),
    CentreEvent.PERIODIC_TEST: StandardEvent(602, "RP", None),
    CentreEvent.DRILL: StandardEvent(601, "RX", None),
})
"""The table of the module docstring, which says why each row is what it is."""

FOR_ALARM_KIND: Final[Mapping[AlarmKind, CentreEvent]] = MappingProxyType({
    AlarmKind.PANIC: CentreEvent.PANIC,
    AlarmKind.ASSIST: CentreEvent.ASSIST,
    AlarmKind.MAN_DOWN: CentreEvent.MAN_DOWN,
    AlarmKind.NO_MOVEMENT: CentreEvent.NO_MOVEMENT,
    AlarmKind.CHECKIN_MISSED: CentreEvent.CHECKIN_MISSED,
})
"""The event a new alarm of each kind becomes (every `AlarmKind` has one)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One thing to tell the centre: an event in a zone, new or restored, with its words."""

    event: CentreEvent
    zone: int
    text: str = ""  # what happened, in a few words (SIA caption)
    location: str = ""  # where (extended data [L...], both formats)
    restore: bool = False
    area: int = 1  # SIA `ri` / Contact ID partition

    def __post_init__(self) -> None:
        if self.restore and EVENT_TABLE[self.event].sia_restore is None:
            raise Dc09Error(f"{self.event} has no restore event")


def event_data(message_type: MessageType, account: str, occurrence: Occurrence) -> tuple[str, str]:
    """The data and extended data of `occurrence` in SIA DCS or Contact ID."""
    row = EVENT_TABLE[occurrence.event]
    extra = extended_data([("L", occurrence.location)]) if occurrence.location.strip() else ""
    if message_type is MessageType.SIA_DCS:
        code = row.sia_restore if occurrence.restore and row.sia_restore else row.sia
        data = sia_dcs_data(account, code, zone=occurrence.zone, area=occurrence.area, text=occurrence.text)
        return data, extra
    if message_type is MessageType.ADM_CID:
        data = contact_id_data(
            account, row.contact_id, restore=occurrence.restore, zone=occurrence.zone, partition=occurrence.area
        )
        return data, extra
    raise Dc09Error("a NULL message carries no event")


def event_message(
    link: Link,
    message_type: MessageType,
    sequence: int,
    occurrence: Occurrence,
    *,
    at: datetime | None,
    rng: Random | None = None,
) -> bytes:
    """The whole DC-09 message that tells the centre about `occurrence`."""
    data, extra = event_data(message_type, link.account, occurrence)
    return build_message(link, message_type, sequence, data, at=at, extra=extra, rng=rng)
