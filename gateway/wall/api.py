"""The wall's one data endpoint: what a wall display shows (gateway/wall/views.py), with the
server's `now`, so the page counts times from the server's clock.

| route | who |
| --- | --- |
| GET /api/wall | display, operator |
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from gateway.board.views import device_views
from gateway.deps import ServicesDep
from gateway.identity.accounts import Principal
from gateway.presence.api import SITE_ID
from gateway.wall.access import wall_reader
from gateway.wall.views import WallView, is_night, parse_night, wall_alarms, wall_faults, wall_present

router = APIRouter(prefix="/api")
READER = wall_reader()


@router.get("/wall", response_model=WallView, tags=["wall display"])
async def wall(services: ServicesDep,
               site: str | None = Query(None, pattern=SITE_ID, description="one site only"),
               night: str | None = Query(None, max_length=16, description="dim between, local time: 22:00-07:00 "
                                         "(the default) or off"),
               silent: bool = Query(False, description="show silent and duress alarms as 'silent alarm' (a wall "
                                    "in a closed room); a public wall leaves them out"),
               _: Principal = Depends(READER)) -> WallView:
    """Open alarms (no person names), device faults and who is present (first name and initial)."""
    directory = services.dispatcher.directory
    try:
        hours = parse_night(night)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if site is not None and site not in directory.sites:
        raise HTTPException(404, f"no site {site!r} in the agreement file")
    now = services.clock.now()
    site_name = directory.sites[site].name if site else None
    return WallView(
        now=now, night=is_night(now, hours, directory.org.tz),
        alarms=wall_alarms(services.dispatcher.open_alarms(), site=site, show_silent=silent),
        faults=wall_faults(device_views(directory, services.devices.facts()), site_name=site_name),
        present=wall_present(directory, services.presence.entries(now), site=site),
    )
