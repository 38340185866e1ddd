"""The HTTP routers are modules whose handlers get the running service through FastAPI's
`Depends` (gateway/deps.py), so a test can serve one router with fakes in place of the service."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from gateway import operations
from gateway.deps import TwilioWebhooks, services, twilio_webhooks
from gateway.identity import api as identity_api
from gateway.identity.accounts import Principal
from gateway.identity.roles import ROLES, Role
from gateway.webhooks import twilio

TOKEN = "c4_test"


class FakeAccounts:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def token_principal(self, token: str) -> Principal | None:
        return self.principal if token == TOKEN else None


def app_with(router: Any, fake: object) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[services] = lambda: fake
    return TestClient(app)


def health_of(role: str, *, database: bool = True, broker: bool = True) -> SimpleNamespace:
    async def health_checks() -> dict[str, Any]:
        return {"database": database, "broker": broker, "queue_lag_s": 0.0, "role": role}

    return SimpleNamespace(health_checks=health_checks)


def test_health_and_leader_read_the_service_they_are_given() -> None:
    leader = app_with(operations.router, health_of("leader"))
    assert leader.get("/api/health").json() == {"status": "ok", "role": "leader"}
    assert leader.get("/api/leader").status_code == 200
    standby = app_with(operations.router, health_of("standby", broker=False))
    assert standby.get("/api/health").json() == {"status": "ok", "role": "standby"}
    assert standby.get("/api/leader").status_code == 503
    away = app_with(operations.router, health_of("leader", database=False))
    assert away.get("/api/health").json()["status"] == "degraded"


def test_sign_in_and_role_checks_go_through_the_same_seam() -> None:
    jan = Principal(1, "jan", "Jan", frozenset({Role.OPERATOR}), "jan", "nl", None)
    client = app_with(identity_api.router, SimpleNamespace(accounts=FakeAccounts(jan)))
    assert client.get("/api/me").status_code == 401
    me = client.get("/api/me", headers={"Authorization": f"Bearer {TOKEN}"})
    assert me.status_code == 200 and me.json()["roles"] == ["operator"]
    refused = client.get("/api/users", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 403 and refused.json()["detail"] == "this needs the role admin"


def test_the_schema_lists_the_roles_an_account_can_hold() -> None:
    app = FastAPI()
    app.include_router(identity_api.router)
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["Role"]["enum"] == list(ROLES)
    assert schemas["UserIn"]["properties"]["roles"]["items"] == {"$ref": "#/components/schemas/Role"}


def test_twilio_webhooks_check_the_signature_with_the_settings_they_are_given() -> None:
    seen: list[str] = []

    async def first_time(key: str) -> bool:
        seen.append(key)
        return len(seen) == 1

    async def alarm(_: str) -> None:
        return None

    app = FastAPI()
    app.include_router(twilio.router)
    app.dependency_overrides[services] = lambda: SimpleNamespace(dispatcher=SimpleNamespace(alarm=alarm))
    app.dependency_overrides[twilio_webhooks] = lambda: TwilioWebhooks("secret", "https://code4.test", first_time)
    client = TestClient(app)
    path, fields = "/twilio/sms/status?p=a-1.1&r=1&u=page", {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert client.post(path, data=fields).status_code == 403
    signature = RequestValidator("secret").compute_signature(f"https://code4.test{path}", fields)
    assert client.post(path, data=fields, headers={"X-Twilio-Signature": signature}).status_code == 204
    wrong_key = RequestValidator("other").compute_signature(f"https://code4.test{path}", fields)
    assert client.post(path, data=fields, headers={"X-Twilio-Signature": wrong_key}).status_code == 403
