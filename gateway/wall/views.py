"""What a wall display shows: open alarms, device faults and who is present, for people who
read it from across the room — and for visitors reading over a shoulder.

Discretion. A wall hangs where anyone may read it. It never names the person who raised an
alarm, nor the responders (a count only), and knows nothing of duress beyond what it hides.
A silent alarm (a silent press, or the duress PIN, which showed the device a cancel) must not
be given away to whoever stands at the reception, who may be the aggressor: a `public` wall
(the default) leaves such alarms out altogether; a wall in a closed room (the BHV room,
`silent=show`) shows them as "stil alarm" with the place and the times, never the kind or
the word duress. Present people appear by first name and initial, as on the kiosk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from dispatcher.core import AlarmState
from dispatcher.presence import PresentEntry, short_name
from escalation.directory import Directory
from gateway.board.views import DeviceView

NIGHT = re.compile(r"^([01]?\d|2[0-3])(?::([0-5]\d))?-([01]?\d|2[0-3])(?::([0-5]\d))?$")
DEFAULT_NIGHT = "22:00-07:00"


class WallAlarm(BaseModel):
    uid: str
    kind: str  # the press's kind; "silent" for a silent or duress alarm on a wall that shows them
    silent: bool
    site: str | None
    zone: str | None
    location: str | None
    raised_at: datetime
    deadline: datetime | None  # the current step's: the countdown
    step: int
    steps: int
    step_code: str | None
    unanswered: bool
    coming: int  # responders who accepted


class WallFault(BaseModel):
    id: str
    type: str
    location: str | None
    faults: list[str]


class WallPresent(BaseModel):
    site: str
    site_name: str
    names: list[str]


class WallView(BaseModel):
    now: datetime
    night: bool
    alarms: list[WallAlarm]
    faults: list[WallFault]
    present: list[WallPresent]


def parse_night(value: str | None) -> tuple[time, time] | None:
    """"22-7", "22:00-07:30"; "off" or "" for never. Raises ValueError otherwise."""
    value = DEFAULT_NIGHT if value is None else value.strip()
    if value in ("", "off"):
        return None
    found = NIGHT.match(value)
    if found is None:
        raise ValueError("night: HH:MM-HH:MM or off")
    start_h, start_m, end_h, end_m = found.groups()
    return time(int(start_h), int(start_m or 0)), time(int(end_h), int(end_m or 0))


def is_night(now: datetime, night: tuple[time, time] | None, tz: ZoneInfo) -> bool:
    """By the organisation's clock; a span past midnight (22:00-07:00) wraps."""
    if night is None:
        return False
    start, end = night
    local = now.astimezone(tz).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def wall_alarms(states: Iterable[AlarmState], *, site: str | None, show_silent: bool) -> list[WallAlarm]:
    """Open alarms, the unanswered first, then the oldest."""
    shown = []
    for state in states:
        where = state.plan.where
        if site is not None and where.site_id != site:
            continue
        hushed = state.silent or state.duress
        if hushed and not show_silent:
            continue
        shown.append(WallAlarm(
            uid=state.uid, kind="silent" if hushed else state.kind, silent=hushed, site=where.site_name,
            zone=where.zone_name, location=where.location_name, raised_at=state.raised_at,
            deadline=state.deadline, step=state.step + 1, steps=len(state.plan.steps),
            step_code=state.current_step.code, unanswered=state.unanswered, coming=len(state.responders),
        ))
    return sorted(shown, key=lambda a: (not a.unanswered, a.raised_at))


def wall_faults(devices: Iterable[DeviceView], *, site_name: str | None) -> list[WallFault]:
    return [WallFault(id=d.id, type=d.type, location=d.location, faults=d.faults) for d in devices
            if d.faults and (site_name is None or d.site == site_name)]


def wall_present(directory: Directory, entries: Iterable[PresentEntry], *, site: str | None) -> list[WallPresent]:
    by_site: dict[str, list[str]] = {}
    for entry in entries:
        person = directory.people.get(entry.person_id)
        if person is not None and (site is None or entry.site_id == site):
            by_site.setdefault(entry.site_id, []).append(short_name(person.name))
    return [WallPresent(site=s.id, site_name=s.name, names=sorted(by_site[s.id], key=str.lower))
            for s in directory.org.sites if s.id in by_site]
