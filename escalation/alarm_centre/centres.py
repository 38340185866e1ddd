"""From an alarm-centre contact in the agreement file to what the transmitter needs.

The file holds the contract (receivers, account, line, format, zones); the AES key is read
from the environment variable the file names, so no key is ever in the file or the database.
Anything missing or wrong becomes a `CentreUnusable` with a sentence for the operator: the
channel then fails over to the fallback route, and supervision shows the path as failed.
"""

from __future__ import annotations

from collections.abc import Callable

from escalation.alarm_centre.dc09 import Dc09Error, Link, MessageType, parse_key
from escalation.alarm_centre.transmitter import Receiver, RouteSettings, Transport
from escalation.model import AlarmCentre, Contact
from escalation.plan import Where

KeySource = Callable[[str], "str | None"]
"""An environment variable's value by name (`os.environ.get`)."""

FORMATS = {"sia-dcs": MessageType.SIA_DCS, "adm-cid": MessageType.ADM_CID}


class CentreUnusable(Exception):
    """The agreement file or the environment does not give what the centre's path needs."""


def _receiver(address: str) -> Receiver:
    host, _, port = address.rpartition(":")
    return Receiver(host.strip("[]"), int(port))


def route_settings(contact: Contact, keys: KeySource) -> RouteSettings:
    """The transmitter's settings for this alarm-centre contact, as the file and environment say now."""
    centre = contact.alarm_centre
    if centre is None:
        raise CentreUnusable(f"{contact.id} is not an alarm centre")
    key = None
    if centre.key_env:
        hex_key = keys(centre.key_env)
        if not hex_key:
            raise CentreUnusable(f"the AES key of {contact.id} is not set: environment variable {centre.key_env}")
        try:
            key = parse_key(hex_key)
        except Dc09Error as exc:
            raise CentreUnusable(f"the AES key in {centre.key_env} is unusable: {exc}") from None
    try:
        link = Link(account=centre.account, line=centre.line, receiver=centre.receiver, key=key)
    except Dc09Error as exc:
        raise CentreUnusable(f"{contact.id}: {exc}") from None
    receivers = [_receiver(address) for address in centre.receivers]
    return RouteSettings(
        primary=receivers[0], backup=receivers[1] if len(receivers) > 1 else None, link=link,
        transport=Transport(centre.transport), message_type=FORMATS[centre.format],
        timeout=float(centre.timeout), attempts_per_receiver=centre.attempts,
    )


def longest_send(centre: AlarmCentre) -> float:
    """Seconds one event may take before every receiver has had every try (all silent)."""
    return float(len(centre.receivers) * centre.attempts * centre.timeout)


def zone_number(centre: AlarmCentre, device_id: str, where: Where) -> int:
    """The zone agreed with the centre: the device's own, else its location's, zone's or
    site's (the most precise the file gives), else `default_zone`."""
    site = where.site_id
    candidates = [device_id]
    if site:
        candidates += [f"{site}/{where.location_id}" if where.location_id else "",
                       f"{site}/{where.zone_id}" if where.zone_id else "", site]
    return next((centre.zones[ref] for ref in candidates if ref and ref in centre.zones), centre.default_zone)
