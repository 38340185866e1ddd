"""What is sent to people and devices: the payload of the core's notification effects.

Defined here, beside the notifiers that deliver them, so that channels never import the
dispatcher; the core builds these values and the channels render them in the recipient's
language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.kinds import AlarmKind
from escalation.ids import PageId, RecipientKey
from escalation.plan import Position, Route, Where


class Purpose(StrEnum):
    PAGE = "page"  # please come: the request an accept answers
    ROLE = "role"  # you accepted; this is your role
    UPDATE = "update"  # news for someone already coming (another responder, duress)
    STAND_DOWN = "stand_down"  # the alarm is over: do not come / you can stop
    INFORM = "inform"  # for the afdelingshoofd: an alarm in their team; nothing to answer
    VERIFY = "verify"  # for an alarm centre: a new fact that verifies the alarm (`Message.news`)


class FeedbackState(StrEnum):
    RECEIVED = "received"
    HELP_COMING = "help_coming"
    ON_SCENE = "on_scene"
    CLOSED = "closed"


@dataclass(frozen=True)
class Helper:
    """Someone coming, as shown to the person in danger and to other responders."""

    name: str
    role: int | None  # None for an outside contact such as the police


@dataclass(frozen=True)
class Message:
    """Everything a channel needs to write a page, SMS or call in the recipient's language."""

    alarm_uid: str
    device_id: str
    kind: AlarmKind
    silent: bool
    where: Where
    step_id: str
    code: str | None = None
    person_name: str | None = None  # the wearer of a mobile alarm
    position: Position | None = None
    role: int | None = None
    duress: bool = False
    unknown_device: bool = False
    helpers: tuple[Helper, ...] = ()
    outcome: str | None = None
    organisation: str = ""
    coming: bool = False  # the recipient has accepted (or, for a contact, confirmed)
    drill: bool = False
    note: str | None = None  # e.g. the lone worker's visit note
    approach: str | None = None  # agreed approach for a known visitor: responders only, never outside
    # What makes the alarm more than a button press, for the police (who come to a private alarm
    # once verified): "on_scene:<name>", "bhv_on_scene:<name>", "operator", "second_press", "duress".
    verified: tuple[str, ...] = ()
    news: str | None = None  # with Purpose.VERIFY: the one fact this message is about (as in `verified`)


@dataclass(frozen=True)
class Notify:
    page_id: PageId
    recipient: RecipientKey
    name: str
    language: str
    route_index: int
    route: Route
    purpose: Purpose
    message: Message


@dataclass(frozen=True)
class Notice:
    """A message outside any alarm — a device fault, to the site's technical contact — tried on
    each route in turn until one delivers."""

    notice_id: str
    recipient: RecipientKey
    name: str
    routes: tuple[Route, ...]
    text: str
    location: str
    subject: str  # what it is about: the device id


@dataclass(frozen=True)
class Feedback:
    """To the device that raised the alarm."""

    device_id: str
    device_alarm_id: str
    state: FeedbackState
    helpers: tuple[Helper, ...] = ()
    reason: str | None = None  # cancelled | resolved | false_alarm | wrong_pin | pin_required | …
    language: str = "nl"
    drill: bool = False
