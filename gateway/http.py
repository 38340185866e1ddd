"""The HTTP app: the API, the control room's pages, the one-tap responder pages and Twilio's
webhooks, each with its own way of knowing who asks (session or token, signed link, Twilio
signature). Every router is a module; what its handlers need comes from gateway/deps.py."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dispatcher.service import NotDispatching
from gateway import deps, operations
from gateway.board import api as board_api
from gateway.board import fieldmap
from gateway.board import pages as board_pages
from gateway.board import plans as board_plans
from gateway.board import targets as board_targets
from gateway.deps import Services, TwilioWebhooks
from gateway.identity import api as identity_api
from gateway.identity import device_api
from gateway.identity import pages as identity_pages
from gateway.identity.auth import NotSignedIn, PageForbidden, current_principal, login_redirect
from gateway.presence import api as presence_api
from gateway.presence import pages as presence_pages
from gateway.records import api as records_api
from gateway.records import approaches
from gateway.records import pages as record_pages
from gateway.responder import app as responder_app
from gateway.responder import callouts
from gateway.responder import page as responder_page
from gateway.wall import api as wall_api
from gateway.wall import pages as wall_pages
from gateway.web.document import truthful
from gateway.web.edge import BodyLimits, LimitedBodies, Scope, StorableText
from gateway.web.pages import forbidden_page
from gateway.webhooks import twilio as twilio_webhooks

STATIC = Path(__file__).parent / "static"
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI's files, shipped in a package
IMPORT_PATH = "/api/incidents/import"  # a year of records at once: the one route with a larger body limit


def create_app(services: Services, *, twilio: TwilioWebhooks | None = None, secure_cookies: bool = False,
               limits: BodyLimits | None = None) -> FastAPI:
    """The app for one running service; Twilio's webhooks only when Twilio is configured."""
    app = FastAPI(
        title="code4",
        description="Alarm and assistance dispatch: alarms, operator actions, incident records, devices, users. "
                    "Sign in with a session (the pages) or `Authorization: Bearer <API token>`.",
        version=version("code4"),
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.openapi = truthful(app)  # type: ignore[method-assign]  # FastAPI's documented way to adapt the document
    app.state.services = services  # for gateway/deps.py
    app.state.secure_cookies = secure_cookies
    app.state.twilio = twilio
    # Added last runs first: bodies are bounded before their text is checked, both before any route.
    app.add_middleware(StorableText)
    app.add_middleware(LimitedBodies, limits=limits or BodyLimits(), signed_in=_signed_in)
    app.add_exception_handler(NotDispatching, _standby)
    app.add_exception_handler(NotSignedIn, _to_login)
    app.add_exception_handler(PageForbidden, _forbidden)
    for router in (operations.router, identity_api.router, board_api.router, callouts.router,
                   identity_pages.router, board_pages.router, responder_page.router):
        app.include_router(router)
    app.include_router(board_targets.router)  # the response-time targets' current month
    app.include_router(fieldmap.router)  # the field alarms' map
    app.include_router(board_plans.router)  # floor plan images and the admin page that places locations
    for router in (records_api.router, record_pages.router, approaches.router):  # gateway/records/
        app.include_router(router)
    for router in (presence_api.router, presence_pages.router):  # gateway/presence/
        app.include_router(router)
    for router in (responder_app.router, device_api.router):  # the installable responder app
        app.include_router(router)
    for router in (wall_api.router, wall_pages.router):  # the wall display
        app.include_router(router)
    if twilio is not None:
        app.include_router(twilio_webhooks.router)
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")  # before /static
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _standby(_: Request, exc: Exception) -> Response:
    # No instance dispatches just now (a relayed action waited in vain): ask again shortly.
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})


async def _to_login(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotSignedIn)
    return RedirectResponse(login_redirect(exc.next_path), status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageForbidden)
    return forbidden_page(request, getattr(request.state, "principal", None), exc.roles)


async def _signed_in(scope: Scope) -> bool:
    """Whether the request carries a valid token or session (remembered for its handler)."""
    request = Request(scope)
    return await current_principal(request, deps.services(request).accounts) is not None
