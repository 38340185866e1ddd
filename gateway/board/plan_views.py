"""Where an alarm is on its floor plan, as the board, the alarm page and the responder pages
draw it: the plan's address and size, the location, the gathering point and the site's fixed
devices on that plan (so the board can show those in fault). Positions come from the
agreement file as it is now; the plan image itself is served by gateway/board/plans.py."""

from __future__ import annotations

from pydantic import BaseModel

from escalation.directory import Directory
from escalation.plan import Where
from escalation.plan_places import PlacedPlan, plan_of


class PlanDevice(BaseModel):
    id: str
    x: float
    y: float


class PlanRef(BaseModel):
    id: str  # site or site/zone
    url: str  # the image; for a responder, behind their signed link
    width: float
    height: float
    at: tuple[float, float] | None  # the alarm's location
    gathering_at: tuple[float, float] | None
    devices: list[PlanDevice]


def plan_ref(directory: Directory, where: Where, *, url: str | None = None) -> PlanRef | None:
    """The plan that shows `where` (None: no plan, or the place is gone from the file)."""
    site = directory.sites.get(where.site_id or "")
    zone = next((z for z in site.zones if z.id == where.zone_id), None) if site else None
    if site is None or zone is None or (placed := plan_of(site, zone)) is None:
        return None
    location = next((loc for loc in zone.locations if loc.id == where.location_id), None)
    gathering = location.gathering_at if location and location.gathering_at else zone.gathering_at
    return PlanRef(id=placed.id, url=url or f"/plans/{placed.id}", width=placed.plan.width,
                   height=placed.plan.height, at=location.at if location else None, gathering_at=gathering,
                   devices=_devices_on(directory, site.id, placed))


def _devices_on(directory: Directory, site_id: str, placed: PlacedPlan) -> list[PlanDevice]:
    site = directory.sites[site_id]
    spots: dict[str, tuple[float, float] | None] = {}
    for zone in site.zones:
        if plan_of(site, zone) == placed:
            spots.update({f"{site.id}/{loc.id}": loc.at for loc in zone.locations})
    found = []
    for device in directory.org.devices:
        ref = device.location or ""
        key = ref if "/" in ref else f"{site.id}/{ref}"
        if key in spots and (spot := device.at or spots[key]) is not None:
            x, y = spot
            found.append(PlanDevice(id=device.id, x=x, y=y))
    return found
