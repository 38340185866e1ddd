"""What the service says about itself: whether it is well (for load balancers and admins), its
metrics, and the API's own description with Swagger UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from dispatcher.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gateway.deps import ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.web.pages import TEMPLATES, page_headers

router = APIRouter()

QUEUE_LAG_DEGRADED_S = 5.0


class Health(BaseModel):
    status: str
    role: str  # leader, standby (another instance dispatches), starting or stepped down


class Checks(BaseModel):
    database: bool
    broker: bool
    queue_lag_s: float  # how long the oldest waiting alarm or answer has waited
    role: str


class Status(BaseModel):
    status: str
    mqtt_connected: bool
    organisation: str
    open_alarms: int
    counters: dict[str, int]
    checks: Checks


@router.get("/api/health", response_model=Health, tags=["service"])
async def health(services: ServicesDep) -> Health:
    """For load balancers: no sign-in, and nothing but whether the service is well — the
    database answers, the broker is connected, alarms are not waiting in the queue."""
    checks = await services.health_checks()
    return Health(status=verdict(checks), role=checks["role"])


@router.get("/api/leader", response_model=Health, tags=["service"],
            responses={503: {"model": Health, "description": "this instance does not dispatch"}})
async def leader(services: ServicesDep) -> JSONResponse:
    """For load balancers with several instances: 200 only on the one that dispatches, 503 on
    a standby. A standby serves everything too (it relays actions to the leader); preferring
    the leader saves that step."""
    checks = await services.health_checks()
    body = Health(status=verdict(checks), role=checks["role"])
    return JSONResponse(body.model_dump(), status_code=200 if checks["role"] == "leader" else 503)


@router.get("/api/status", response_model=Status, tags=["service"])
async def status(services: ServicesDep,
                 _: Principal = Depends(require(Role.OPERATOR, Role.ADMIN))) -> Status:
    checks = await services.health_checks()
    open_alarms = len(services.dispatcher.open_alarms())
    return Status(status=verdict(checks), mqtt_connected=services.mqtt_connected,
                  organisation=services.organisation, open_alarms=open_alarms, counters=services.counters(),
                  checks=Checks(**checks))


@router.get("/metrics", include_in_schema=False)
async def metrics(services: ServicesDep, _: Principal = Depends(require(Role.ADMIN))) -> Response:
    """Prometheus text format; scrape with an admin's API token (or use CODE4_METRICS_HTTP)."""
    return Response(services.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)


@router.get("/api/openapi.json", include_in_schema=False)
async def openapi(request: Request, _: Principal = Depends(require())) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/api/docs", include_in_schema=False)
async def docs(_: Principal = Depends(require(page=True))) -> HTMLResponse:
    """Swagger UI served by code4 itself, under the same CSP as every page: nothing from outside."""
    return HTMLResponse(TEMPLATES.get_template("api_docs.html").render(), headers=page_headers())


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)  # browsers ask on every page; an error would be noise


def verdict(checks: dict[str, Any]) -> str:
    if checks["role"] == "standby":  # a standby holds no broker session and no queue
        return "ok" if checks["database"] else "degraded"
    well = checks["database"] and checks["broker"] and checks["queue_lag_s"] < QUEUE_LAG_DEGRADED_S
    return "ok" if well else "degraded"
