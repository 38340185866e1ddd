"""The HTTP app: the API, the control room's pages, the one-tap responder pages and Twilio's
webhooks, each with its own way of knowing who asks (session or token, signed link, Twilio
signature)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dispatcher.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from dispatcher.service import NotDispatching
from gateway.api import api_router
from gateway.board.pages import TEMPLATES, _page_headers, board_router
from gateway.deps import Services
from gateway.identity.accounts import Principal
from gateway.identity.auth import NotSignedIn, PageForbidden, current_principal, login_redirect, require
from gateway.records import api as records_api
from gateway.records import pages as record_pages
from gateway.web.edge import BodyLimits, LimitedBodies, Scope, StorableText
from gateway.web.i18n import BOARD

STATIC = Path(__file__).parent / "static"
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI's files, shipped in a package
IMPORT_PATH = "/api/incidents/import"  # a year of records at once: the one route with a larger body limit


def create_app(services: Services, *, routers: Sequence[APIRouter] = (), secure_cookies: bool = False,
               limits: BodyLimits | None = None) -> FastAPI:
    app = FastAPI(
        title="code4",
        description="Alarm and assistance dispatch: alarms, operator actions, incident records, devices, users. "
                    "Sign in with a session (the pages) or `Authorization: Bearer <API token>`.",
        version=version("code4"),
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.accounts = services.accounts
    app.state.services = services  # for gateway/deps.py
    app.state.secure_cookies = secure_cookies
    # Added last runs first: bodies are bounded before their text is checked, both before any route.
    app.add_middleware(StorableText)
    app.add_middleware(LimitedBodies, limits=limits or BodyLimits(), signed_in=_signed_in)

    @app.get("/api/openapi.json", include_in_schema=False)
    async def openapi(_: Principal = Depends(require())) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    async def docs(_: Principal = Depends(require(page=True))) -> HTMLResponse:
        """Swagger UI served by code4 itself, under the same CSP as every page: nothing from outside."""
        return HTMLResponse(TEMPLATES.get_template("api_docs.html").render(), headers=_page_headers())

    @app.get("/metrics", include_in_schema=False)
    async def metrics(_: Principal = Depends(require("admin"))) -> Response:
        """Prometheus text format; scrape with an admin's API token (or use CODE4_METRICS_HTTP)."""
        return Response(services.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)  # browsers ask on every page; an error would be noise

    @app.exception_handler(NotDispatching)
    async def standby(_: Request, exc: NotDispatching) -> Response:
        # No instance dispatches just now (a relayed action waited in vain): ask again shortly.
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(NotSignedIn)
    async def to_login(_: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse(login_redirect(exc.next_path), status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden) -> Response:
        principal = getattr(request.state, "principal", None)
        lang = principal.language if principal else "nl"
        message = BOARD[lang]["forbidden"].format(roles=" / ".join(exc.roles))
        body = TEMPLATES.get_template("forbidden.html").render(t=BOARD[lang], lang=lang, user=principal,
                                                               path=request.url.path, message=message)
        return HTMLResponse(body, status_code=403, headers=_page_headers())

    app.include_router(api_router(services))
    app.include_router(records_api.router)
    app.include_router(board_router(services, secure_cookies=secure_cookies))
    app.include_router(record_pages.router)
    for router in routers:
        app.include_router(router)
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")  # before /static
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _signed_in(scope: Scope) -> bool:
    """Whether the request carries a valid token or session (remembered for its handler)."""
    return await current_principal(Request(scope)) is not None
