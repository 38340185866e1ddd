"""Telling a site's technical contact that a device can no longer be trusted, and when it is
well again: a notice by pager when they carry one, else (or when the pager fails) by SMS.

Pure: the device watch decides that a fault changed; this says to whom and what. The notice
goes out through the outbox like every other message — stored, retried, moved to the next
route — so a slow SMS gateway never holds up supervision, let alone an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from escalation.directory import Directory
from escalation.ids import RecipientKey
from escalation.notices import Notice
from escalation.plan import ChannelKind, Route

FAULTS = {
    "nl": {"offline": "geen verbinding", "silent": "geen teken van leven", "battery_low": "batterij bijna leeg",
           "untested": "te lang niet getest",
           "centre_down": "geen ontvanger bereikbaar, alarmen gaan naar de terugvalroute",
           "centre_primary": "hoofdontvanger antwoordt niet", "centre_backup": "reserveontvanger antwoordt niet",
           "centre_unusable": "verbinding niet bruikbaar, zie het logboek",
           "fault": "Storing", "restored": "Hersteld", "solved": "opgelost"},
    "en": {"offline": "offline", "silent": "no sign of life", "battery_low": "battery low",
           "untested": "not tested for a long time",
           "centre_down": "no receiver answers, alarms take the fallback route",
           "centre_primary": "primary receiver not answering", "centre_backup": "backup receiver not answering",
           "centre_unusable": "path unusable, see the log",
           "fault": "Fault", "restored": "Restored", "solved": "solved"},
}


def fault_text(subject: str, where: str, raised: tuple[str, ...], cleared: tuple[str, ...], language: str,
               battery: float | None) -> str:
    words = FAULTS["en" if language == "en" else "nl"]
    place = f" ({where})" if where else ""
    if raised:
        listed = ", ".join(words[f] + (f" ({battery:.0%})" if f == "battery_low" and battery is not None else "")
                           for f in raised)
        return f"{words['fault']} {subject}{place}: {listed}."
    return f"{words['restored']} {subject}{place}: {', '.join(words[f] for f in cleared)} {words['solved']}."


def fault_notice(directory: Directory, device_id: str, raised: tuple[str, ...], cleared: tuple[str, ...],
                 battery: float | None, now: datetime) -> Notice | None:
    """The notice to the device's site's technical contact (else the first site's), or None
    when there is nobody to tell or no way to reach them."""
    device = directory.devices.get(device_id)
    if device is None:
        return None
    place = directory.location(device.location) if device.location else None
    site = place.site if place else None
    wearer = directory.people.get(device.person or "")
    where = place.describe() if place else (wearer.name if wearer else "")
    return _notice(directory, site.technical_contact if site else None, Fault(device_id, where, raised, cleared),
                   battery, now)


def centre_fault_notice(directory: Directory, contact_id: str, raised: tuple[str, ...], cleared: tuple[str, ...],
                        now: datetime) -> Notice | None:
    """The notice about the path to an alarm centre (a contact, serving every site) to the
    first site's technical contact, or None as for a device."""
    centre = directory.contacts.get(contact_id)
    if centre is None:
        return None
    return _notice(directory, None, Fault(contact_id, centre.name, raised, cleared), None, now)


@dataclass(frozen=True)
class Fault:
    """What changed of one supervised subject (a device, an alarm centre's path) and where it is."""

    subject: str
    where: str
    raised: tuple[str, ...]
    cleared: tuple[str, ...]


def _notice(directory: Directory, technical_contact: str | None, fault: Fault, battery: float | None,
            now: datetime) -> Notice | None:
    """To `technical_contact`, else the first site's: by pager when they carry one, and SMS."""
    contact_id = technical_contact or next(
        (s.technical_contact for s in directory.org.sites if s.technical_contact), None)
    if contact_id is None:
        return None
    person = directory.people.get(contact_id)
    contact = directory.contacts.get(contact_id)
    who = person or contact
    if who is None:
        return None
    key = RecipientKey.person(who.id) if person else RecipientKey.contact(who.id)
    routes = [Route(ChannelKind.PAGER, pager)
              for pager in directory.pagers_by_person.get(person.id, [])[:1]] if person else []
    if who.phone:
        routes.append(Route(ChannelKind.SMS, key))
    if not routes:
        return None
    text = fault_text(fault.subject, fault.where, fault.raised, fault.cleared, who.language, battery)
    return Notice(notice_id=f"fault-{fault.subject}-{int(now.timestamp())}", recipient=key, name=who.name,
                  routes=tuple(routes), text=text, location=fault.where, subject=fault.subject)
