"""Is there a path to help from every place, for every device type, at every hour of the week?

The week is cut into segments at every minute where any `when` (agreement or duty roster)
switches; within a segment nothing changes, so one evaluation per segment is exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from escalation.directory import Directory, Place
from escalation.model import Device
from escalation.pins import PinDigests
from escalation.plan import Plan
from escalation.planning import plan_for_place
from escalation.weekly import MINUTES_PER_WEEK, describe_minute

BASE_KIND = "panic"


@dataclass(frozen=True)
class Context:
    """Something that can raise an alarm: a location with its device type, or a mobile alarm."""

    label: str
    path: tuple[str | int, ...]  # where it is declared in the file, for error lines
    place: Place
    device_id: str
    device: Device | None
    device_type: str | None


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    plan: Plan

    @property
    def reachable(self) -> bool:
        return any(step.targets for step in self.plan.steps)


@dataclass(frozen=True)
class ContextCoverage:
    context: Context
    kind: str
    segments: tuple[Segment, ...]

    def gaps(self) -> list[tuple[int, int]]:
        return _ranges(s for s in self.segments if not s.reachable)

    def fallback_only(self) -> list[tuple[int, int]]:
        return _ranges(s for s in self.segments if s.plan.fallback)


def contexts(directory: Directory) -> list[Context]:
    found: list[Context] = []
    by_place: dict[str, list[Device]] = {}  # resolved once: a site may have thousands of devices
    for device in directory.org.devices:
        if device.location and (key := _place_key(directory, device)) is not None:
            by_place.setdefault(key, []).append(device)
    for place in directory.all_places():
        here = by_place.get(place.key, [])
        types = sorted({d.type for d in here}) or ["fixed_button"]
        for device_type in types:
            sample = next((d for d in here if d.type == device_type), None)
            assert place.site is not None
            found.append(Context(
                label=f"{place.key} ({device_type})",
                path=_location_path(directory, place),
                place=place,
                device_id=sample.id if sample else f"({device_type} at {place.key})",
                device=sample,
                device_type=device_type,
            ))
    for index, device in enumerate(directory.org.devices):
        if device.type == "mobile_alarm":
            wearer = directory.people.get(device.person or "")
            found.append(Context(
                label=f"mobile alarm {device.id} ({wearer.name if wearer else device.person})",
                path=("devices", index),
                place=Place(),
                device_id=device.id,
                device=device,
                device_type=device.type,
            ))
    found.append(Context("unknown device", ("fallback",), Place(), "(unknown)", None, None))
    return found


def week_segments(directory: Directory) -> list[tuple[int, int]]:
    cuts = {0, MINUTES_PER_WEEK}
    schedules = [a.match.when for a in directory.org.agreements] + [r.when for r in directory.org.duty]
    for schedule in schedules:
        if schedule is not None:
            cuts |= schedule.boundaries()
    ordered = sorted(cuts)
    return list(itertools.pairwise(ordered))


def kinds_to_check(directory: Directory) -> list[str]:
    kinds = {BASE_KIND}
    for agreement in directory.org.agreements:
        kinds.update(agreement.match.kinds or [])
    return sorted(kinds)


def coverage(directory: Directory) -> list[ContextCoverage]:
    segments = week_segments(directory)
    pins = PinDigests.ephemeral()  # plans looked at, never stored
    result = []
    for context in contexts(directory):
        for kind in kinds_to_check(directory):
            result.append(ContextCoverage(context, kind, tuple(
                Segment(start, end, plan_for_place(
                    directory, device_id=context.device_id, device=context.device,
                    place=context.place, kind=kind, minute=start, pins=pins,
                ))
                for start, end in segments
            )))
    return result


def unused_agreements(directory: Directory, covered: list[ContextCoverage]) -> list[str]:
    used = {s.plan.agreement_id for c in covered for s in c.segments}
    return [a.id for a in directory.org.agreements if a.id not in used and a.id != directory.org.fallback]


def describe_ranges(ranges: list[tuple[int, int]], *, dutch: bool = True) -> str:
    if ranges == [(0, MINUTES_PER_WEEK)]:
        return "the whole week"
    return ", ".join(f"{describe_minute(a, dutch=dutch)}–{describe_minute(b, dutch=dutch)}" for a, b in ranges)


def _ranges(segments: Iterable[Segment]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for segment in segments:
        if merged and merged[-1][1] == segment.start:
            merged[-1] = (merged[-1][0], segment.end)
        else:
            merged.append((segment.start, segment.end))
    # A range that ends the week and one that starts it are one range over Sunday night.
    if len(merged) > 1 and merged[0][0] == 0 and merged[-1][1] == MINUTES_PER_WEEK:
        merged[-1] = (merged[-1][0], merged[0][1])  # ends on a weekday after the week wraps
        merged.pop(0)
    return merged


def _place_key(directory: Directory, device: Device) -> str | None:
    try:
        return directory.location(device.location or "").key
    except LookupError:
        return None


def _location_path(directory: Directory, place: Place) -> tuple[str | int, ...]:
    for si, site in enumerate(directory.org.sites):
        for zi, zone in enumerate(site.zones):
            for li, loc in enumerate(zone.locations):
                if place.site is site and place.zone is zone and loc.id == place.location_id:
                    return ("sites", si, "zones", zi, "locations", li)
    return ("sites",)

