"""A local Web Push service: the phones' push service (FCM, Mozilla autopush, Apple) for tests
and demos, speaking the protocol code4 speaks to the real ones.

* `POST /_sim/subscriptions` makes a subscription as a browser's `pushManager.subscribe` would:
  an endpoint here, and the keys of a fresh P-256 key pair and auth secret (`p256dh`, `auth`),
  whose private half stays here;
* `POST /push/{id}` takes a push (RFC 8030): it checks the VAPID JWT (RFC 8292: `Authorization:
  vapid t=…,k=…`, ES256 signature by key `k`, `aud` this service's origin, `exp` in the future
  and at most 24 h ahead), the `TTL` header and `Content-Encoding: aes128gcm`, decrypts the body
  with http-ece and the subscription's private key (RFC 8291), and keeps what it read;
* it answers 201, or what it is told for that subscription (`POST /_sim/subscriptions/{id}/answer`
  with `{"status": 410}` or `{"statuses": [503, 503]}` for the next pushes), or 404 for one
  it does not know; `GET /_sim/subscriptions/{id}/pushes` lists the pushes it read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from py_vapid.jwt import decode

from simulators.local_server import LocalServer

MAX_BODY = 4096  # RFC 8030: a push service need take no more
MAX_CLAIM_S = 24 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    payload: dict[str, Any]
    ttl: int
    urgency: str | None
    topic: str | None
    status: int


@dataclass
class SimSubscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answers: list[int] = field(default_factory=list)  # the next answers, first first
    always: int | None = None  # then this answer for every push
    pushes: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why a push was refused (400/401/403)

    @property
    def p256dh(self) -> str:
        return _b64(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def next_answer(self) -> int:
        if self.answers:
            return self.answers.pop(0)
        return self.always or 201



class PushServiceSimulator:
    def __init__(self) -> None:
        self.subscriptions: dict[str, SimSubscription] = {}
        self._changed = asyncio.Condition()
        self.app = self._build_app()
        self._local = LocalServer(self.app)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        return self._local.port

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self._local.start(host, port)

    async def stop(self) -> None:
        await self._local.stop()

    # ---- what tests do ---------------------------------------------------------------------------

    def subscribe(self) -> dict[str, Any]:
        """A new subscription, as `PushSubscription.toJSON()` gives it."""
        sub = SimSubscription(secrets.token_urlsafe(12), ec.generate_private_key(ec.SECP256R1()),
                              secrets.token_bytes(16))
        self.subscriptions[sub.id] = sub
        return {"endpoint": f"{self.origin}/push/{sub.id}", "keys": {"p256dh": sub.p256dh, "auth": _b64(sub.auth)}}

    def answer(self, subscription_id: str, status: int | None = None, *, then: list[int] | None = None) -> None:
        sub = self.subscriptions[subscription_id]
        sub.answers = list(then or [])
        sub.always = status

    async def pushes(self, subscription_id: str, count: int, limit: float = 10.0) -> list[Received]:
        """Once `count` pushes came (whatever was answered), all of them."""
        sub = self.subscriptions[subscription_id]
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(sub.pushes) >= count), limit)
        return list(sub.pushes)

    # ---- the protocol -----------------------------------------------------------------------------

    def _check_vapid(self, authorization: str) -> None:
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise HTTPException(401, "VAPID authorization required")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t", ""), parts.get("k", "")
        try:
            claims = decode(token, key)  # verifies the ES256 signature with `k`
        except Exception:
            raise HTTPException(403, "VAPID signature does not verify") from None
        if not isinstance(claims, dict) or claims.get("aud") != self.origin:
            raise HTTPException(403, "VAPID aud is not this push service")
        exp = claims.get("exp")
        if not isinstance(exp, int) or not time.time() < exp <= time.time() + MAX_CLAIM_S:
            raise HTTPException(403, "VAPID claim expired or too far ahead")

    async def _push(self, subscription_id: str, request: Request) -> Response:
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            return Response(status_code=404)
        try:
            self._check_vapid(request.headers.get("authorization", ""))
            ttl = request.headers.get("ttl", "")
            if not ttl.isdigit():
                raise HTTPException(400, "TTL header required")
            if request.headers.get("content-encoding", "").lower() != "aes128gcm":
                raise HTTPException(415, "aes128gcm only")
            body = await request.body()
            if len(body) > MAX_BODY:
                raise HTTPException(413, "payload too large")
            try:
                plain = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm")
            except Exception:
                raise HTTPException(400, "payload does not decrypt") from None
        except HTTPException as exc:
            sub.refused.append(str(exc.detail))
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        status = sub.next_answer()
        async with self._changed:
            sub.pushes.append(Received(json.loads(plain), int(ttl), request.headers.get("urgency"),
                                       request.headers.get("topic"), status))
            self._changed.notify_all()
        return Response(status_code=status, headers={"Location": f"{self.origin}/message/{secrets.token_hex(8)}"}
                        if status == 201 else {})

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="local push service", openapi_url=None, docs_url=None, redoc_url=None)

        @app.post("/push/{subscription_id}")
        async def push(subscription_id: str, request: Request) -> Response:
            return await self._push(subscription_id, request)

        @app.post("/_sim/subscriptions")
        async def subscribe() -> dict[str, Any]:
            return self.subscribe()

        @app.post("/_sim/subscriptions/{subscription_id}/answer", status_code=204)
        async def answer(subscription_id: str, request: Request) -> None:
            if subscription_id not in self.subscriptions:
                raise HTTPException(404, "no such subscription")
            data = json.loads(await request.body() or b"{}")
            self.answer(subscription_id, data.get("status"), then=data.get("statuses"))

        @app.get("/_sim/subscriptions/{subscription_id}/pushes")
        async def pushes(subscription_id: str) -> list[dict[str, Any]]:
            sub = self.subscriptions.get(subscription_id)
            if sub is None:
                raise HTTPException(404, "no such subscription")
            return [{"payload": r.payload, "ttl": r.ttl, "urgency": r.urgency, "status": r.status} for r in sub.pushes]

        return app
