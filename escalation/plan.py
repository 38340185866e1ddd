"""The chain frozen onto an alarm when it starts.

A plan is plain data: the agreement's steps with their recipients already resolved (who is
on duty, who works in that zone) and every address needed to reach them. The dispatcher core
runs an alarm from its plan alone, so reloading the agreement file mid-alarm changes nothing
for alarms already running, and a restart needs nothing but the stored plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from escalation.ids import RecipientKey


class ChannelKind(StrEnum):
    """How a recipient is reached."""

    PAGER = "pager"
    SMS = "sms"
    VOICE = "voice"
    APP = "app"  # an SMS with a link to the one-tap page
    ALARM_CENTRE = "alarm_centre"  # SIA DC-09 to a certified alarm centre (a contact of that kind)
    PUSH = "push"  # Web Push to the responder app on the person's phones (escalation/push)


PHONE_CHANNELS = frozenset({ChannelKind.SMS, ChannelKind.VOICE, ChannelKind.APP})
"""Channels that reach a phone number: their route's address is the recipient key."""
CONTACT_CHANNELS = frozenset({ChannelKind.SMS, ChannelKind.VOICE})
"""What reaches an outside contact by phone: no pager, and no app link to accept with."""


@dataclass(frozen=True)
class Route:
    """One way to reach a recipient: a channel and the address on it. Phone channels name the
    recipient, not the number: the number comes from the agreement file when the message goes,
    so no stored plan or outbox row holds a phone number."""

    channel: ChannelKind
    address: str  # pager device id, or on a phone channel the recipient key ("person:jan")
    # On alarm_centre: the centre's contact key. After it, an alarm centre's routes are the phone
    # routes of its `fallback` contact (the police), addressed to that contact's key.


@dataclass(frozen=True)
class Recipient:
    key: RecipientKey
    name: str
    language: str = "nl"
    bhv: bool = False  # BHV-trained: may take role 1 or 2

    @property
    def is_contact(self) -> bool:
        return self.key.is_contact


@dataclass(frozen=True)
class StepTarget:
    recipient: RecipientKey
    routes: tuple[Route, ...]  # in the step's channel order: the next one is the fallback


@dataclass(frozen=True)
class PlanStep:
    id: str
    code: str | None
    channels: tuple[ChannelKind, ...]
    ack_timeout_s: int | None  # None only on the last step, which then repeats
    required: int
    targets: tuple[StepTarget, ...]
    unreachable: tuple[str, ...] = ()  # names that matched but have no address on these channels
    alongside: bool = False  # starts with the step before it and is not waited for
    presence: bool = False  # some targets count only those present at the site when the alarm started

    @property
    def short(self) -> bool:
        """Fewer people present (and reachable) than the step needs: waiting would not help."""
        return self.presence and len(self.targets) < self.required


@dataclass(frozen=True)
class Position:
    """Where a mobile alarm says it is: coordinates, a named zone, or both."""

    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    zone: str | None = None


@dataclass(frozen=True)
class Where:
    site_id: str | None = None
    site_name: str | None = None
    address: str | None = None
    zone_id: str | None = None
    zone_name: str | None = None
    location_id: str | None = None
    location_name: str | None = None
    gathering_point: str | None = None

    def describe(self) -> str:
        parts = [p for p in (self.location_name, self.zone_name, self.site_name) if p]
        return ", ".join(parts)


@dataclass(frozen=True)
class AlarmDevice:
    id: str
    type: str | None  # None for a device the agreement file does not know
    person: RecipientKey | None = None  # the person in danger: the wearer, or who works at the button
    person_name: str | None = None
    cancel_pin_digest: str | None = None  # escalation/pins.py: never the PIN itself
    duress_pin_digest: str | None = None
    language: str = "nl"  # of what the device shows: its wearer's, else the organisation's

    @property
    def known(self) -> bool:
        return self.type is not None


@dataclass(frozen=True)
class Plan:
    organisation: str
    agreement_id: str
    fallback: bool  # the fallback agreement applied because nothing else matched
    steps: tuple[PlanStep, ...]
    severe_step: int | None  # index of on_severe
    repeat_every_s: int
    recipients: tuple[Recipient, ...]
    where: Where
    device: AlarmDevice
    drill: bool = False  # the site or device is in drill mode: every message says so
    informed: tuple[StepTarget, ...] = ()  # the afdelingshoofd: told at once, takes no role

    def recipient(self, key: str) -> Recipient:
        for recipient in self.recipients:
            if recipient.key == key:
                return recipient
        raise KeyError(key)
