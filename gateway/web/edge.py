"""What the HTTP edge refuses before any handler runs.

- Request bodies over their limit get 413: at once by `Content-Length`, or by counting a
  chunked body as it arrives. The whole body is read (within its limit and time) before the
  app sees the request, so no handler ever parses more than the limit, and a body that
  trickles in too slowly gets 408.
- A request head (request line and headers) must arrive within a deadline and within
  `MAX_HEAD_BYTES`: uvicorn by itself waits for ever on a connection that never finishes its
  head, so a few hundred such connections (slowloris) would hold the service.
- Text that the database cannot store is refused with 400 wherever it comes: NUL characters
  (PostgreSQL text and JSON refuse them), unpaired surrogates (not UTF-8 at all) and JSON's
  non-standard NaN and Infinity. Otherwise such a value would fail deep inside, e.g. as a
  note on an alarm that the dispatcher then cannot store.

Forwarded headers (`X-Forwarded-For`) are uvicorn's, switched on only for the proxies named in
`CODE4_TRUSTED_PROXIES` (see gateway/app.py).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import h11
import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

log = structlog.get_logger("code4.http")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_HEAD_BYTES = 16 * 1024  # request line and headers; h11 answers 400 beyond it


@dataclass(frozen=True)
class BodyLimits:
    default: int = 64 * 1024
    # (method, path) → a larger limit, granted only to a signed-in request (see `LimitedBodies`).
    larger: Mapping[tuple[str, str], int] = field(default_factory=dict)
    timeout_s: float = 30.0


class LimitedBodies:
    """Pure ASGI middleware: the app sees a request only once its whole body is here, within
    its limit and its time. `signed_in` tells whether a request carries valid credentials:
    strangers never get more than the default limit, whatever the route."""

    def __init__(self, app: App, *, limits: BodyLimits,
                 signed_in: Callable[[Scope], Awaitable[bool]] | None = None) -> None:
        self.app = app
        self.limits = limits
        self.signed_in = signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _framing(scope)
        if declared is None and not chunked:
            await self.app(scope, receive, send)  # no body
            return
        limit = await self._limit(scope)
        if declared is not None and not chunked:
            if not declared.isdigit():
                await _refuse(send, 400, "Content-Length is not a number")
                return
            if int(declared) > limit:
                await _refuse(send, 413, f"request body too large: at most {limit} bytes here")
                return
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                body = await _read_body(receive, limit)
        except _TooLarge:
            await _refuse(send, 413, f"request body too large: at most {limit} bytes here")
            return
        except TimeoutError:
            log.warning("request refused: body too slow", security=True, path=scope["path"],
                        remote=(scope.get("client") or ("-",))[0])
            await _refuse(send, 408, "request body too slow")
            return
        if body is None:
            return  # the client left
        await self.app(scope, _replay(body, receive), send)

    async def _limit(self, scope: Scope) -> int:
        larger = self.limits.larger.get((scope["method"], scope["path"]))
        if larger is None or larger <= self.limits.default:
            return self.limits.default
        if self.signed_in is not None and not await self.signed_in(scope):
            return self.limits.default
        return larger


def _framing(scope: Scope) -> tuple[bytes | None, bool]:
    """(Content-Length, whether chunked): how the request says its body comes."""
    declared, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return declared, chunked


class _TooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message; after it, the client's own messages (its disconnect)."""
    return _replay_message({"type": "http.request", "body": body, "more_body": False}, receive)


async def _refuse(send: Send, status: int, detail: str) -> None:
    """Answer and close: the rest of the body is never read."""
    payload = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


class StorableText:
    """Pure ASGI middleware, inside `LimitedBodies` (it needs the whole body at hand): refuses
    a path, query or body carrying text the database cannot store."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _refuse(send, 400, "the address holds a NUL character")
            return
        if _framing(scope) == (None, False):
            await self.app(scope, receive, send)  # no body
            return
        message = await receive()  # the whole body: `LimitedBodies` gathered it
        body = message.get("body", b"") if message["type"] == "http.request" else b""
        if body and (problem := _unstorable(_content_type(scope), body)):
            await _refuse(send, 400, problem)
            return
        await self.app(scope, _replay_message(message, receive), send)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable(content_type: str, body: bytes) -> str | None:
    if content_type == "application/x-www-form-urlencoded":
        return "the form holds a NUL character" if b"%00" in body or b"\x00" in body else None
    if not (content_type == "application/json" or content_type.endswith("+json")):
        return None
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except _NotJson as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None  # not JSON at all: the handler says so
    try:
        return _bad_text(data)
    except RecursionError:
        return "the JSON is nested too deeply"


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _bad_text(value: Any) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "the JSON holds a NUL character"
        return "the JSON holds an unpaired surrogate (not Unicode text)" if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        for item in value:
            if problem := _bad_text(item):
                return problem
    return None


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _replay_message(first: Message, receive: Receive) -> Receive:
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return first

    return replayed


class HeadTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head.

    uvicorn arms a timer only between requests (keep-alive), and any byte cancels it; a
    connection that sends half a request line and then nothing stays open for ever. Here the
    deadline starts when a connection opens or a new request's first bytes arrive, further
    bytes do not move it, and the head's completion (h11 leaves IDLE) ends it.
    """

    head_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn does
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            self._stop_head_timer()  # the head is complete (or the connection is done)
        elif self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        if self.conn.trailing_data[0]:  # part of a head came; a browser's unused spare connection sends nothing
            log.warning("connection closed: request head too slow", security=True,
                        remote=self.client[0] if self.client else None, limit_s=self.head_timeout_s)
        self.transport.close()


def head_timeout_protocol(seconds: float) -> type[H11Protocol]:
    """The protocol class to give uvicorn (`Config(http=…)`) for a head deadline of `seconds`."""
    return type("HeadTimeoutH11", (HeadTimeoutH11,), {"head_timeout_s": seconds})
