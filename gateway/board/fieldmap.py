"""The map of field alarms: mobile alarms and missed check-ins at their last position, with the
visit's address when known and the device's trail of the last minutes (devices/trail.py).

Leaflet is served by code4 itself (static/vendor/leaflet, BSD-2-Clause); the tiles come from
the configured tile server (CODE4_MAP_TILES), whose origin the page's Content-Security-Policy
then allows for images. Without one the map is a plain background with a scale, the positions
and the addresses as labels. Shown on `/board/map` (every open field alarm) and on an alarm's
detail page; only to those who see the board.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from devices.trail import WINDOW, TrailPoint
from dispatcher.core.state import AlarmState
from gateway.deps import Pages, Services, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.web.i18n_map import MAP
from gateway.web.pages import script_json

router = APIRouter(include_in_schema=False)
MARKERS = "/board/map/markers"
OPEN_LIMIT = 500  # the board's page size at most: more open field alarms than this is no map's problem

# The words the map's script needs.
SCRIPT_WORDS = ("map_unknown_address", "map_accuracy")


def address_of(state: AlarmState) -> str | None:
    """What to go by: the visit's note (a lone worker notes the address they visit), else the
    place the agreement file knows. The police get the same words, never coordinates."""
    where = state.plan.where
    return state.note or where.address or where.describe() or None


def marker(state: AlarmState, trail: list[TrailPoint]) -> dict[str, Any] | None:
    """One alarm on the map, or None when it has no coordinates. The marker stands where the
    device last reported itself: after the press, that is the newest point of its trail."""
    position = state.position
    if position is None or position.lat is None or position.lon is None:
        return None
    newest = trail[-1] if trail and trail[-1].at >= state.raised_at else None
    lat, lon, accuracy_m = ((newest.lat, newest.lon, newest.accuracy_m) if newest
                            else (position.lat, position.lon, position.accuracy_m))
    return {"uid": state.uid, "lat": lat, "lon": lon, "accuracy_m": accuracy_m,
            "address": address_of(state), "person": state.plan.device.person_name,
            "href": f"/board/alarms/{state.uid}", "trail": [[p.lat, p.lon] for p in trail]}


def markers_of(services: Services, states: list[AlarmState]) -> list[dict[str, Any]]:
    return [m for s in states
            if (m := marker(s, services.devices.trail(s.device_id) if s.status != "closed" else []))]


def map_context(services: Services, states: list[AlarmState], lang: str, *, link: bool) -> dict[str, Any] | None:
    """What the `_field_map.html` partial needs, or None when no alarm has a position. Only open
    alarms get a trail: an old alarm's place is the stored one, not where the device is now."""
    markers = markers_of(services, states)
    if not markers:
        return None
    settings = services.settings
    words = MAP[lang]
    # The overview follows the workers as they move (polling MARKERS); an alarm's page stays put.
    config = {"tiles": settings.map_tiles, "attribution": settings.map_attribution, "link": link,
              "poll": MARKERS if link else None, "markers": markers, "t": {w: words[w] for w in SCRIPT_WORDS}}
    return {"markers": markers, "tiles": settings.map_tiles, "json": script_json(config),
            "trail_minutes": int(WINDOW.total_seconds() // 60)}


def tile_origin(tiles: str | None) -> str | None:
    """The tile server's origin for img-src; a {s} subdomain becomes a wildcard."""
    if not tiles:
        return None
    parts = urlsplit(tiles)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def allow_tiles(response: Response, tiles: str | None) -> Response:
    """Lets the page load images from the tile server, and from nowhere else."""
    origin = tile_origin(tiles)
    policy = response.headers.get("Content-Security-Policy")
    if origin and policy:
        response.headers["Content-Security-Policy"] = policy.replace("img-src 'self' data:",
                                                                      f"img-src 'self' data: {origin}", 1)
    return response


async def open_alarms(services: Services) -> list[AlarmState]:
    """From the store, as the board reads them: a standby instance shows them too (with the
    trails it knows)."""
    _, rows = await asyncio.to_thread(services.store.alarm_page, state="open", site=None, since=None, until=None,
                                      limit=OPEN_LIMIT, offset=0)
    return [state for _, state in rows]


@router.get("/board/map")
async def field_map(request: Request, services: ServicesDep, pages: Pages,
                    principal: Principal = Depends(require(Role.OPERATOR, page=True))) -> Response:
    lang = pages.language(request, principal)
    context = map_context(services, await open_alarms(services), lang, link=True)
    response = pages.render(request, "field_map.html", principal, field_map=context, mw=MAP[lang])
    return allow_tiles(response, services.settings.map_tiles)


@router.get(MARKERS)
async def field_markers(services: ServicesDep,
                        _: Principal = Depends(require(Role.OPERATOR))) -> JSONResponse:
    """The open field alarms' markers now, for the overview to follow."""
    return JSONResponse(markers_of(services, await open_alarms(services)), headers={"Cache-Control": "no-store"})
