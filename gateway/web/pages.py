"""What every server-rendered page shares: the templates, the reader's language and the
security headers. The one-tap responder page has its own (a nonce, no referrer): see
gateway/responder/page.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.web.i18n import BOARD, is_language

if TYPE_CHECKING:  # web/ is the floor the concerns stand on: it imports none of them
    from gateway.identity.accounts import Principal

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                        autoescape=select_autoescape(["html"]))
LANG_COOKIE = "code4_lang"


class Renderer:
    """Renders the pages in the reader's language (?lang= sticks in a cookie), with the
    security headers every page carries."""

    def __init__(self, *, secure_cookies: bool) -> None:
        self.secure_cookies = secure_cookies

    def language(self, request: Request, principal: Principal | None) -> str:
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        if is_language(asked):
            return asked
        return principal.language if principal else "nl"

    def render(self, request: Request, name: str, principal: Principal | None, status: int = 200,
               **context: Any) -> HTMLResponse:
        lang = self.language(request, principal)
        body = TEMPLATES.get_template(name).render(t=BOARD[lang], lang=lang, user=principal,
                                                   path=request.url.path, **context)
        response = HTMLResponse(body, status_code=status, headers=page_headers())
        if is_language(chosen := request.query_params.get("lang")):
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax",
                                secure=self.secure_cookies, httponly=True)
        return response


def page_headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def script_json(data: dict[str, Any]) -> str:
    """JSON to sit inside a <script type="application/json"> block: no '<' can end it."""
    return json.dumps(data).replace("<", "\\u003c")


def forbidden_page(request: Request, principal: Principal | None, roles: tuple[str, ...]) -> HTMLResponse:
    """A page the reader's roles do not open: says which roles would, in their language."""
    lang = principal.language if principal else "nl"
    message = BOARD[lang]["forbidden"].format(roles=" / ".join(roles))
    body = TEMPLATES.get_template("forbidden.html").render(t=BOARD[lang], lang=lang, user=principal,
                                                           path=request.url.path, message=message)
    return HTMLResponse(body, status_code=403, headers=page_headers())
