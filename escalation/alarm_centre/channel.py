"""The alarm-centre channel: an alarm, what verifies it and its end, as SIA DC-09 events.

A step reaches a contact of kind `alarm_centre` on route `alarm_centre`; this channel turns
each notification into standard events (`events.EVENT_TABLE`) and hands them to the centre's
transmitter, which waits for the receiver's ACK, retries and switches to the backup receiver.
Every try is reported to the dispatcher (`report`), so the alarm's timeline shows each
transmission, ACK, NAK and switch of receiver; only an ACK counts as delivered. When no
receiver acknowledges, the notification fails (`DeliveryFailure`) and the alarm moves on to the
contact's next route: its fallback's phone line, the police.

What each purpose becomes:

- PAGE: the alarm (duress: 121/HA), then, when something already verifies it, a verified
  event (139/BV) saying what. In drill mode one manual test (601/RX) and nothing else.
- VERIFY: the new fact (`Message.news`): duress as a duress event, anything else (a second
  press, a BHV-er or colleague on scene, the control room) as a verified event.
- STAND_DOWN: cancelled or false: the cancel event (406/OC); otherwise the alarm's restore.
- ROLE, UPDATE, INFORM: nothing; a centre has no role and is told news as VERIFY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from escalation.alarm_centre.centres import CentreUnusable, longest_send, zone_number
from escalation.alarm_centre.dc09 import MessageType
from escalation.alarm_centre.events import EVENT_TABLE, FOR_ALARM_KIND, CentreEvent, Occurrence
from escalation.alarm_centre.pool import Transmitters
from escalation.alarm_centre.transmitter import Delivery
from escalation.channels import DeliveryFailure
from escalation.model import AlarmCentre, Contact
from escalation.notices import Message, Notice, Notify, Purpose
from escalation.plan import ChannelKind, Route
from escalation.texts import KIND, lang

log = structlog.get_logger("code4.alarm_centre")

CentreBook = Callable[[str], "Contact | None"]
"""A recipient key ("contact:pac") to its contact as the agreement file says now."""


@dataclass(frozen=True)
class Transmission:
    """What happened to one event for one notification: for the alarm's timeline."""

    notify: Notify
    event: str  # as the centre sees it: "HA 017", "E122 017"
    delivery: Delivery


Report = Callable[[Transmission], None]

CANCELLED = frozenset({"cancelled", "false_alarm"})
# A centre's screen shows 64 characters of text: the facts in a few words each.
FACTS = {
    "nl": {"bhv_on_scene": "BHV ter plaatse ({name})", "on_scene": "collega ter plaatse ({name})",
           "operator": "centrale post: politie nodig", "second_press": "tweede keer gedrukt",
           "duress": "onder dwang ingetrokken"},
    "en": {"bhv_on_scene": "first responder on scene ({name})", "on_scene": "colleague on scene ({name})",
           "operator": "control room: police needed", "second_press": "pressed a second time",
           "duress": "cancelled under duress"},
}
WORDS = {
    "nl": {"verified": "geverifieerd", "drill": "OEFENING", "cancelled": "ingetrokken", "over": "afgesloten"},
    "en": {"verified": "verified", "drill": "DRILL", "cancelled": "cancelled", "over": "closed"},
}


def _fact_text(fact: str, language: str) -> str:
    kind, _, name = fact.partition(":")
    template = FACTS[language].get(kind)
    return template.format(name=name) if template else kind


def _alarm_event(message: Message) -> CentreEvent:
    return CentreEvent.DURESS if message.duress else FOR_ALARM_KIND[message.kind]


def _location(message: Message) -> str:
    # The room first: the centre knows the subscriber's address, and the text is cut at 64 characters.
    parts = [message.where.describe(), message.where.address or ""]
    position = message.position
    if position is not None and position.lat is not None and position.lon is not None:
        parts.append(f"{position.lat:.5f},{position.lon:.5f}")
    return ", ".join(p for p in parts if p) or message.device_id


def occurrences(notify: Notify, centre: AlarmCentre) -> list[Occurrence]:
    """The events one notification becomes (see the module docstring)."""
    message, language = notify.message, lang(notify.language)
    zone = zone_number(centre, message.device_id, message.where)
    what = KIND[language].get(message.kind, message.kind)
    person = f" - {message.person_name}" if message.person_name else ""
    location = _location(message)
    words = WORDS[language]
    if message.drill:
        if notify.purpose is Purpose.PAGE:
            return [Occurrence(CentreEvent.DRILL, zone, f"{words['drill']}: {what}{person}", location)]
        return []
    alarm = Occurrence(_alarm_event(message), zone, f"{what}{person}", location)
    if notify.purpose is Purpose.PAGE:
        facts = [f for f in message.verified if f != "duress"]
        verified = [Occurrence(CentreEvent.VERIFIED, zone, f"{words['verified']}: "
                               + "; ".join(_fact_text(f, language) for f in facts), location)] if facts else []
        return [alarm, *verified]
    if notify.purpose is Purpose.VERIFY and message.news:
        if message.news == "duress":
            return [Occurrence(CentreEvent.DURESS, zone, _fact_text("duress", language), location)]
        return [Occurrence(CentreEvent.VERIFIED, zone,
                           f"{words['verified']}: {_fact_text(message.news, language)}", location)]
    if notify.purpose is Purpose.STAND_DOWN:
        if message.outcome in CANCELLED:
            return [Occurrence(CentreEvent.CANCEL, zone, f"{what} {words['cancelled']}", location)]
        return [Occurrence(alarm.event, zone, f"{what} {words['over']}", location, restore=True)]
    return []


def event_label(message_type: MessageType, occurrence: Occurrence) -> str:
    """The event as the centre's screen shows it: the SIA code or the Contact ID event, and the zone."""
    row = EVENT_TABLE[occurrence.event]
    if message_type is MessageType.ADM_CID:
        return f"{'R' if occurrence.restore else 'E'}{row.contact_id:03d} {occurrence.zone:03d}"
    code = row.sia_restore if occurrence.restore and row.sia_restore else row.sia
    return f"{code} {occurrence.zone:03d}"


class AlarmCentreChannel:
    name = ChannelKind.ALARM_CENTRE

    def __init__(self, centres: CentreBook, transmitters: Transmitters, report: Report,
                 known_down: Callable[[str], bool] = lambda _centre: False) -> None:
        self._centres, self._transmitters, self._report = centres, transmitters, report
        # Line supervision found no receiver answering: one try each, then the police line at once
        # (still a try: the path may have come back since the last link test).
        self._known_down = known_down

    def time_budget(self, notify: Notify) -> float | None:
        """How long this notification may take: every try on every receiver (the outbox must
        not cut it short and send it again)."""
        contact = self._centres(notify.route.address)
        if contact is None or contact.alarm_centre is None:
            return None
        return longest_send(contact.alarm_centre) * max(1, len(self._planned(notify, contact.alarm_centre)))

    def _planned(self, notify: Notify, centre: AlarmCentre) -> list[Occurrence]:
        try:
            return occurrences(notify, centre)
        except (KeyError, ValueError):
            return []

    async def send(self, notify: Notify) -> str | None:
        contact = self._centres(notify.route.address)
        if contact is None or contact.alarm_centre is None:
            raise DeliveryFailure(f"{notify.route.address} is no alarm centre in the agreement file")
        try:
            transmitter = self._transmitters.for_contact(contact)
        except CentreUnusable as exc:
            raise DeliveryFailure(str(exc)) from None
        down = self._known_down(contact.id)
        for index, occurrence in enumerate(occurrences(notify, contact.alarm_centre)):
            label = event_label(transmitter.settings.message_type, occurrence)
            delivery = await transmitter.send(occurrence, attempts_per_receiver=1 if down else None)
            self._report(Transmission(notify, label, delivery))
            if delivery.delivered:
                log.info("alarm centre acknowledged", centre=contact.id, centre_event=label,
                         receiver=str(delivery.receiver), sequence=delivery.sequence, purpose=notify.purpose.value)
                continue
            tried = ", ".join(f"{a.receiver} {a.outcome}" for a in delivery.attempts)
            if index == 0:  # the centre does not have what this is about: the next route must carry it
                raise DeliveryFailure(f"{contact.name} did not acknowledge {label} ({tried})")
            # The alarm itself is there; a verification that did not arrive is on the timeline, for
            # the control room to phone through.
            log.warning("alarm centre did not acknowledge", centre=contact.id, centre_event=label, tried=tried)
            break
        return None

    async def send_notice(self, notice: Notice, route: Route) -> None:
        raise DeliveryFailure("an alarm centre takes alarms, not device notices")
