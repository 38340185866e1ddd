"""Floor plan images, for signed-in users who see alarms or manage the service, and the admin
page that tells the plan coordinates of a click (so placing locations needs no drawing tool).

A plan is an image the organisation supplied: an SVG may hold scripts. It is only ever shown as
an image (<img>, or <image> inside the board's own SVG), where scripts do not run, and served
with a sandboxing Content-Security-Policy so that opening its address directly runs nothing
either. Responders get their alarm's plan behind their signed link (gateway/responder/page.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from escalation.floorplans import FloorPlan
from escalation.plan_places import all_plans, plan_by_id
from gateway.deps import Pages, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role

router = APIRouter(include_in_schema=False)

VIEWERS = (Role.OPERATOR, Role.COORDINATOR, Role.ADMIN)


def plan_response(plan: FloorPlan) -> Response:
    return Response(plan.data, media_type=plan.media_type, headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": "inline",
    })


@router.get("/plans/{site_id}")
@router.get("/plans/{site_id}/{zone_id}")
async def plan_image(site_id: str, services: ServicesDep, zone_id: str | None = None,
                     _: Principal = Depends(require(*VIEWERS))) -> Response:
    plan = plan_by_id(services.dispatcher.directory.org, f"{site_id}/{zone_id}" if zone_id else site_id)
    if plan is None:
        raise HTTPException(404, "no such plan")
    return plan_response(plan)


@router.get("/admin/plans")
async def plans_page(request: Request, services: ServicesDep, pages: Pages,
                     principal: Principal = Depends(require(Role.ADMIN, page=True))) -> Response:
    directory = services.dispatcher.directory
    plans = []
    for placed in all_plans(directory.org):
        site_id, _, zone_id = placed.id.partition("/")
        site = directory.sites[site_id]
        zones = [z for z in site.zones if z.id == zone_id] if zone_id else [z for z in site.zones if z.plan is None]
        plans.append({"id": placed.id, "source": placed.plan.source, "width": placed.plan.width,
                      "height": placed.plan.height, "name": ", ".join([site.name, *(z.name for z in zones)]),
                      "places": [(loc.name, loc.at) for z in zones for loc in z.locations if loc.at is not None]})
    return pages.render(request, "plans.html", principal, plans=plans)
