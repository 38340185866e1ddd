"""Which floor plan shows a place, where on it, and `code4 check`'s errors for positions that
fall outside their plan or have no plan to be on."""

from __future__ import annotations

from dataclasses import dataclass

from escalation.floorplans import FloorPlan
from escalation.loader import Issue, LineMap
from escalation.model import Organisation, Site, Zone


@dataclass(frozen=True)
class PlacedPlan:
    """A plan as pages refer to it: `id` is `site` or `site/zone` (the URL /plans/{id})."""

    id: str
    plan: FloorPlan


def plan_of(site: Site, zone: Zone | None) -> PlacedPlan | None:
    """The zone's own plan, else the site's."""
    if zone is not None and zone.plan is not None:
        return PlacedPlan(f"{site.id}/{zone.id}", zone.plan)
    if site.plan is not None:
        return PlacedPlan(site.id, site.plan)
    return None


def plan_by_id(org: Organisation, plan_id: str) -> FloorPlan | None:
    site_id, _, zone_id = plan_id.partition("/")
    site = next((s for s in org.sites if s.id == site_id), None)
    if site is None:
        return None
    if not zone_id:
        return site.plan
    zone = next((z for z in site.zones if z.id == zone_id), None)
    return zone.plan if zone is not None else None


def all_plans(org: Organisation) -> list[PlacedPlan]:
    found = [PlacedPlan(s.id, s.plan) for s in org.sites if s.plan is not None]
    found += [PlacedPlan(f"{s.id}/{z.id}", z.plan) for s in org.sites for z in s.zones if z.plan is not None]
    return found


def plan_issues(org: Organisation, lines: LineMap) -> list[Issue]:
    """Every `at` and `gathering_at` must lie on the plan it refers to."""
    issues: list[Issue] = []

    def check(path: tuple[str | int, ...], point: tuple[float, float] | None, placed: PlacedPlan | None) -> None:
        if point is None:
            return
        if placed is None:
            issues.append(lines.issue(path, "a position needs a plan: give the zone or its site a `plan:`"))
        elif not placed.plan.contains(*point):
            plan = placed.plan
            issues.append(lines.issue(path, f"position [{point[0]:g}, {point[1]:g}] lies outside plan "
                                            f"{plan.source!r} (0..{plan.width:g} x 0..{plan.height:g})"))

    locations: dict[str, tuple[tuple[float, float] | None, PlacedPlan | None]] = {}
    for si, site in enumerate(org.sites):
        for zi, zone in enumerate(site.zones):
            placed = plan_of(site, zone)
            zone_path = ("sites", si, "zones", zi)
            check((*zone_path, "gathering_at"), zone.gathering_at, placed)
            for li, loc in enumerate(zone.locations):
                check((*zone_path, "locations", li, "at"), loc.at, placed)
                check((*zone_path, "locations", li, "gathering_at"), loc.gathering_at, placed)
                locations[f"{site.id}/{loc.id}"] = locations[loc.id] = (loc.at, placed)
    for di, device in enumerate(org.devices):
        if device.at is not None:
            if not device.location:
                issues.append(lines.issue(("devices", di, "at"),
                                          "only a device with a `location` has a place on a plan"))
                continue
            _, placed = locations.get(device.location, (None, None))
            check(("devices", di, "at"), device.at, placed)
    return issues
