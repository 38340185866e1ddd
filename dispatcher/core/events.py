"""What can happen to an alarm. Events are facts handed to `decide`; they carry no time.

The time an event is processed is the `now` argument of `decide`, so replaying events with
the same times gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from devices.kinds import AlarmKind
from escalation.plan import Plan, Position


class Response(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    ON_SCENE = "on_scene"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    FALSE_ALARM = "false_alarm"
    DRILL = "drill"

    def __repr__(self) -> str:
        # As the text it is on the wire: validation errors list 'drill', not <Outcome.DRILL: 'drill'>.
        return repr(self.value)


NOT_REAL: tuple[Outcome, ...] = (Outcome.CANCELLED, Outcome.FALSE_ALARM, Outcome.DRILL)
"""How an alarm that was no incident closes: no aftercare, no place among the incidents."""


@dataclass(frozen=True)
class AlarmRaised:
    """The first press of an alarm the service has not seen before."""

    uid: str
    device_id: str
    device_alarm_id: str
    press: int
    kind: AlarmKind
    silent: bool
    plan: Plan
    position: Position | None = None
    device_time: datetime | None = None
    note: str | None = None  # what the device knew, e.g. a lone worker's visit note
    unreadable: str | None = None  # the device pressed but its payload could not be read: why
    approach: str | None = None  # the agreed approach for a known visitor of this room at this time


@dataclass(frozen=True)
class Pressed:
    """The device sent the alarm again: the same press (a repeat) or a higher one (a new press)."""

    press: int


@dataclass(frozen=True)
class CancelRequested:
    """A cancel from the device. The shell never hands the core a PIN: only its digest
    (escalation/pins.py), compared with the digests frozen in the plan."""

    pin_digest: str | None


@dataclass(frozen=True)
class Responded:
    """A responder answered a page. `channel`/`address` say how, and must match the page's
    routes (a pager cannot answer for someone else's page); channel "operator" is the control
    room answering on someone's behalf, with `actor` naming the operator."""

    page_id: str
    response: Response
    channel: str
    address: str
    actor: str | None = None


@dataclass(frozen=True)
class DeadlineReached:
    timer: int  # the state's timer token when the deadline was set; an old one is ignored


@dataclass(frozen=True)
class DeliveryFailed:
    """A channel could not deliver a notification (after its own retries)."""

    page_id: str
    route: int
    purpose: str
    reason: str


@dataclass(frozen=True)
class CentreAttempt:
    """One try to hand an event to an alarm centre's receiver, and what came back."""

    receiver: str  # host:port
    sequence: int
    outcome: str  # ACK, NAK, DUH, unmatched, malformed, silence, refused
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class CentreReported:
    """What the alarm-centre channel did with one notification: every try, and whether a
    receiver acknowledged it. An acknowledged alarm is the centre confirming it has it."""

    page_id: str
    route: int
    purpose: str
    event: str  # the standard event sent, as the centre sees it ("HA 001", "E122 01 001")
    attempts: tuple[CentreAttempt, ...]
    delivered: bool


@dataclass(frozen=True)
class EscalateRequested:
    actor: str


@dataclass(frozen=True)
class PoliceRequested:
    """The control room wants the outside contact (police) called now."""

    actor: str


@dataclass(frozen=True)
class Seen:
    """An operator has seen the alarm on the board."""

    actor: str


@dataclass(frozen=True)
class Marked:
    """The control room marks a running alarm as a drill or a false alarm; closing it later
    takes that as its outcome unless told otherwise."""

    label: Outcome  # DRILL or FALSE_ALARM
    actor: str


@dataclass(frozen=True)
class NoteAdded:
    actor: str
    text: str


@dataclass(frozen=True)
class CloseRequested:
    outcome: Outcome | None  # None: the outcome the alarm was marked with, else resolved
    actor: str
    note: str | None = None


Event = (
    AlarmRaised | Pressed | CancelRequested | Responded | DeadlineReached | DeliveryFailed | CentreReported
    | EscalateRequested | PoliceRequested | Seen | Marked | NoteAdded | CloseRequested
)
