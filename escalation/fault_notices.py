"""Telling a site's technical contact that a device can no longer be trusted, and when it
is well again: by pager when they carry one, else by SMS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from devices.protocol import PagePayload, Topics, encode
from escalation.channels import DeliveryFailure, Publisher, TemporaryFailure
from escalation.directory import Directory
from escalation.privacy import mask_phone
from escalation.twilio_api import TwilioApi

log = structlog.get_logger("code4.devices")

FAULTS = {
    "nl": {"offline": "offline", "silent": "geen teken van leven", "battery_low": "batterij bijna leeg",
           "untested": "al lang niet getest", "fault": "Storing", "restored": "Hersteld", "solved": "opgelost"},
    "en": {"offline": "offline", "silent": "no sign of life", "battery_low": "battery low",
           "untested": "not tested for a long time", "fault": "Fault", "restored": "Restored", "solved": "solved"},
}


def fault_text(device_id: str, where: str, raised: tuple[str, ...], cleared: tuple[str, ...], language: str,
               battery: float | None) -> str:
    words = FAULTS["en" if language == "en" else "nl"]
    place = f" ({where})" if where else ""
    if raised:
        listed = ", ".join(words[f] + (f" ({battery:.0%})" if f == "battery_low" and battery is not None else "")
                           for f in raised)
        return f"{words['fault']} {device_id}{place}: {listed}."
    return f"{words['restored']} {device_id}{place}: {', '.join(words[f] for f in cleared)} {words['solved']}."


class FaultNotifier:
    def __init__(self, directory: Callable[[], Directory], *, publisher: Publisher, topics: Topics,
                 sms: TwilioApi | None, now: Callable[[], datetime]) -> None:
        self._directory = directory
        self._publisher = publisher
        self._topics = topics
        self._sms = sms
        self._now = now

    async def __call__(self, device_id: str, raised: tuple[str, ...], cleared: tuple[str, ...], facts: Any) -> None:
        directory = self._directory()
        device = directory.devices.get(device_id)
        if device is None:
            return
        place = directory.location(device.location) if device.location else None
        site = place.site if place else None
        contact_id = (site.technical_contact if site else None) or next(
            (s.technical_contact for s in directory.org.sites if s.technical_contact), None)
        if contact_id is None:
            return
        person = directory.people.get(contact_id)
        contact = directory.contacts.get(contact_id)
        language = (person or contact).language if (person or contact) else "nl"
        wearer = directory.people.get(device.person or "")
        where = place.describe() if place else (wearer.name if wearer else "")
        text = fault_text(device_id, where, raised, cleared, language, facts.battery)
        pagers = directory.pagers_by_person.get(person.id, []) if person else []
        try:
            if pagers:
                page = PagePayload(page_id=f"fault-{device_id}-{int(self._now().timestamp())}", alarm_id="fault",
                                   code="storing", text=text, location=where or device_id)
                await self._publisher.publish(self._topics.device(pagers[0], "page"), encode(page), qos=1)
                channel = "pager"
            elif self._sms is not None and (phone := (person or contact).phone if (person or contact) else None):
                await self._sms.send_sms(to=phone, body=text, status_callback=None)
                channel = "sms"
            else:
                log.warning("technical contact has no pager, and no SMS is configured", contact=contact_id)
                return
        except (DeliveryFailure, TemporaryFailure) as exc:
            log.warning("could not tell the technical contact", contact=contact_id, error=mask_phone(str(exc)))
            return
        log.info("technical contact told", contact=contact_id, device_id=device_id, channel=channel)
