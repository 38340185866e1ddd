"""The control room's pages: the live board, an alarm's detail and the device board.
Server-rendered; the board's live part is a small script (static/board.js) fed by the same API
(gateway/board/api.py) and its event stream.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from dispatcher.visibility import sees_duress
from gateway.board.fieldmap import allow_tiles, map_context
from gateway.board.views import alarm_view, chain_view, device_views, local_time, timeline_view
from gateway.deps import Pages, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.web.i18n import BOARD
from gateway.web.i18n_map import MAP
from gateway.web.pages import script_json

router = APIRouter(include_in_schema=False)

ALARM_PAGE_WORDS = ("close_confirm", "resolved", "cancelled", "false_alarm_outcome", "drill_outcome")
DEVICES = (Role.OPERATOR, Role.ADMIN)


@router.get("/board")
async def board(request: Request, services: ServicesDep, pages: Pages,
                principal: Principal = Depends(require(Role.OPERATOR, page=True))) -> Response:
    lang = pages.language(request, principal)
    config = {"csrf": principal.csrf_token, "lang": lang, "t": BOARD[lang],
              "tz": services.dispatcher.directory.org.timezone}  # times on the board: the organisation's
    return pages.render(request, "board.html", principal, config=script_json(config), mw=MAP[lang])


@router.get("/board/alarms/{uid}")
async def alarm_page(uid: str, request: Request, services: ServicesDep, pages: Pages,
                     principal: Principal = Depends(require(Role.OPERATOR, Role.COORDINATOR, page=True))) -> Response:
    found = await asyncio.to_thread(services.store.alarm_with_timeline, uid)
    if found is None:
        raise HTTPException(404, f"no alarm {uid}")
    incident, state, entries = found
    lang = pages.language(request, principal)
    duress = sees_duress(principal.roles)
    view = alarm_view(incident, state, duress=duress, directory=services.dispatcher.directory)
    # Only the words its script needs: the whole dictionary would name what some may not see.
    config = {"csrf": principal.csrf_token, "lang": lang, "uid": uid,
              "t": {word: BOARD[lang][word] for word in ALARM_PAGE_WORDS}}
    response = pages.render(request, "alarm.html", principal, alarm=view, chain=chain_view(state),
                            timeline=timeline_view(entries, lang, duress=duress, approach=True),
                            operator=principal.has(Role.OPERATOR),
                            config=script_json(config), when=local_time(services.dispatcher.directory),
                            field_map=map_context(services, [state], lang, link=False), mw=MAP[lang])
    return allow_tiles(response, services.settings.map_tiles)  # the field map's tiles (board/fieldmap.py)


@router.get("/board/devices")
async def devices_page(request: Request, services: ServicesDep, pages: Pages,
                       principal: Principal = Depends(require(*DEVICES, page=True))) -> Response:
    directory = services.dispatcher.directory
    views = device_views(directory, services.devices.facts())
    return pages.render(request, "devices.html", principal, devices=views, when=local_time(directory))


@router.get("/board/devices/{device_id}")
async def device_page(device_id: str, request: Request, services: ServicesDep, pages: Pages,
                      principal: Principal = Depends(require(*DEVICES, page=True))) -> Response:
    directory = services.dispatcher.directory
    view = next((v for v in device_views(directory, services.devices.facts()) if v.id == device_id), None)
    if view is None:
        raise HTTPException(404, f"no device {device_id}")
    events = await asyncio.to_thread(services.store.device_events, device_id)
    return pages.render(request, "device.html", principal, device=view, events=events, when=local_time(directory))
