"""Web Push as a channel, against a local push service that speaks the protocol (it checks the
VAPID JWT and decrypts every payload with http-ece): a push reaches the phone and its action
answers the call; a push left unanswered moves the person to their pager; an expired
subscription is removed and the person told in the app; a busy push service is retried, then
the next route. And the app's device sign-in, revoked by its user or an admin."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from simulators.push_service import PushServiceSimulator
from tests.integration.harness import OPERATOR_PASSWORD, Harness

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def code4(push_code4: Harness) -> Harness:
    return push_code4


class AppPhone:
    """A phone with the app: signed in once (its device cookie), subscribed at the push service."""

    def __init__(self, code4: Harness, username: str) -> None:
        assert code4.service is not None
        self.client = httpx.AsyncClient(base_url=code4.service.http_url, timeout=10)
        self.username = username
        self.csrf = ""

    async def sign_in(self) -> httpx.Response:
        return await self.client.post("/app/api/sign-in", json={"username": self.username,
                                                                "password": OPERATOR_PASSWORD, "device": "Pixel"})

    async def state(self) -> httpx.Response:
        answer = await self.client.get("/app/api/state")
        if answer.status_code == 200:
            self.csrf = answer.json()["csrf"]
        return answer

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})


async def responder(code4: Harness, username: str, person: str) -> int:
    assert code4.service is not None
    return await asyncio.to_thread(code4.service.accounts.add_user, username, OPERATOR_PASSWORD, ["responder"],
                                   person_id=person)


async def subscribed_phone(code4: Harness, push_service: PushServiceSimulator, person: str) -> tuple[AppPhone, str]:
    await responder(code4, person, person)
    phone = AppPhone(code4, person)
    assert (await phone.sign_in()).status_code == 200
    assert (await phone.state()).status_code == 200
    subscription = push_service.subscribe()
    assert (await phone.post("/app/api/push", subscription)).status_code == 204
    return phone, subscription["endpoint"].rsplit("/", 1)[1]


@SQLITE
async def test_a_push_reaches_the_phone_and_its_action_answers_the_call(
        code4: Harness, push_service: PushServiceSimulator) -> None:
    phone, jan = await subscribed_phone(code4, push_service, "jan")
    pager = code4.pager("pager-jan")
    code4.button("knop-balie-1").press()
    [push] = await push_service.pushes(jan, 1)
    # Decrypted by the push service with the subscription's key: the page, its actions, high urgency.
    assert push.urgency == "high" and push.ttl == 60 and push.status == 201
    assert push.payload["purpose"] == "page" and "Balie 1" in push.payload["body"]
    assert [a["title"] for a in push.payload["actions"]] == ["Ik kom", "Kan niet"]
    # "Ik kom" on the notification: the service worker posts the answer with the page's signed link.
    async with httpx.AsyncClient(timeout=10) as worker:
        answered = await worker.post(push.payload["answer"], json={"response": "accept"})
    assert answered.status_code == 200 and answered.json()["status"] == "accepted"
    alarm = await code4.alarm_when(lambda a: any(r["name"] == "Jan de Vries" for r in a["responders"]))
    assert alarm["step"]["id"] == "bhv"
    # The role follows by push too; the pager was never needed, not even after the push's 30 s.
    pushes = await push_service.pushes(jan, 2)
    assert pushes[1].payload["purpose"] == "role" and "actions" not in pushes[1].payload
    await code4.advance(31)
    await code4.settled()
    assert pager.pages() == []
    state = (await phone.state()).json()
    assert state["calls"][0]["status"] == "accepted" and state["calls"][0]["role"] == 1


@SQLITE
async def test_a_push_not_answered_in_time_moves_the_person_to_their_pager(
        code4: Harness, push_service: PushServiceSimulator) -> None:
    _, jan = await subscribed_phone(code4, push_service, "jan")
    pager = code4.pager("pager-jan")
    code4.button("knop-balie-1").press()
    await push_service.pushes(jan, 1)
    await code4.settled()  # delivered: the push's 30 s run from here
    await code4.advance(29)
    await code4.settled()
    assert pager.pages() == [], "still within the push's 30 s"
    await code4.advance(1)
    page = await code4.wait(pager.page, lambda p: p["code"] == "4")
    assert "Balie 1" in page["location"]
    [alarm] = await code4.alarms()
    record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
    failed = [e for e in record["timeline"] if e["kind"] == "channel_failed"]
    assert [(e["channel"], e["data"]["next"]) for e in failed] == [("push", "pager")]
    assert "niet beantwoord" in failed[0]["text"] or "not answered" in failed[0]["text"]


@SQLITE
@pytest.mark.parametrize("status", [404, 410])
async def test_an_expired_subscription_is_removed_and_the_person_told_at_their_next_sign_in(
        code4: Harness, push_service: PushServiceSimulator, status: int) -> None:
    phone, jan = await subscribed_phone(code4, push_service, "jan")
    push_service.answer(jan, status)
    pager = code4.pager("pager-jan")
    code4.button("knop-balie-1").press()
    await code4.wait(pager.page, lambda p: p["code"] == "4")  # at once: no waiting for the 30 s
    assert len(await push_service.pushes(jan, 1)) == 1
    state = (await phone.state()).json()
    assert state["push_lapsed"] == 1 and state["push_subscribed"] is False
    assert (await phone.state()).json()["push_lapsed"] == 0, "told once"
    # The next alarm does not try the dead subscription: Jan has no push route any more.
    assert code4.service is not None and "jan" not in code4.service.push_book.people()  # type: ignore[union-attr]


@SQLITE
async def test_a_busy_push_service_is_tried_again(code4: Harness, push_service: PushServiceSimulator) -> None:
    _, jan = await subscribed_phone(code4, push_service, "jan")
    push_service.answer(jan, None, then=[429, 503])
    pager = code4.pager("pager-jan")
    code4.button("knop-balie-1").press()
    pushes = await push_service.pushes(jan, 3)
    assert [p.status for p in pushes] == [429, 503, 201]
    await code4.settled()
    assert pager.pages() == []


@SQLITE
async def test_a_push_service_that_stays_busy_gives_way_to_the_next_route(
        code4: Harness, push_service: PushServiceSimulator) -> None:
    _, jan = await subscribed_phone(code4, push_service, "jan")
    push_service.answer(jan, 503)
    pager = code4.pager("pager-jan")
    code4.button("knop-balie-1").press()
    await code4.wait(pager.page, lambda p: p["code"] == "4")  # after the outbox's 2 s of retries here
    assert len(push_service.subscriptions[jan].pushes) >= 2
    assert push_service.subscriptions[jan].refused == []


async def test_the_push_service_refuses_a_wrong_vapid_signature(push_service: PushServiceSimulator) -> None:
    subscription = push_service.subscribe()
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(subscription["endpoint"], content=b"x", headers={
            "Authorization": "vapid t=a.b.c,k=BAAA", "TTL": "60", "Content-Encoding": "aes128gcm"})
    assert answer.status_code == 403


@SQLITE
async def test_a_revoked_device_is_signed_out_and_gets_no_pushes(
        code4: Harness, push_service: PushServiceSimulator) -> None:
    phone, _ = await subscribed_phone(code4, push_service, "jan")
    other = AppPhone(code4, "jan")
    assert (await other.sign_in()).status_code == 200 and (await other.state()).status_code == 200
    devices = (await phone.state()).json()["devices"]
    assert len(devices) == 2
    # Jan signs his other phone out from this one.
    theirs = next(d for d in devices if not d["this"])
    assert (await phone.post(f"/app/api/devices/{theirs['id']}/revoke")).status_code == 204
    assert (await other.state()).status_code == 401
    # A device session is sent to /app only, and needs its CSRF token for changes.
    assert (await phone.client.post("/app/api/push", json={})).status_code == 403
    # An admin revokes the phone that was left (lost): signed out, and Jan no longer reachable by push.
    assert code4.service is not None
    admin_id = await asyncio.to_thread(code4.service.accounts.add_user, "beheer", OPERATOR_PASSWORD, ["admin"])
    admin = (await asyncio.to_thread(code4.service.accounts.create_token, admin_id, "t"))[1]
    mine = next(d for d in devices if d["this"])
    jan_id = (await asyncio.to_thread(code4.service.accounts.user_named, "jan")).id  # type: ignore[union-attr]
    listed = (await code4.call(admin, f"/api/users/{jan_id}/devices")).json()
    assert [d["revoked"] for d in listed] == [False, True]
    responder_token = await code4.add_user("kees", ["responder"], person="jan")
    assert (await code4.call(responder_token, f"/api/devices/{mine['id']}", method="DELETE")).status_code == 403
    assert (await code4.call(admin, f"/api/devices/{mine['id']}", method="DELETE")).status_code == 204
    assert (await phone.state()).status_code == 401
    assert "jan" not in code4.service.push_book.people()  # type: ignore[union-attr]


@SQLITE
async def test_english_speakers_get_english_actions_and_only_push_services_are_taken(
        code4: Harness, push_service: PushServiceSimulator) -> None:
    phone, lisa = await subscribed_phone(code4, push_service, "lisa")
    # An address that is no push service is refused: code4 posts to no address a user chooses.
    keys = push_service.subscribe()["keys"]
    for endpoint in ("https://evil.example/push/1", "http://127.0.0.1:1/push/1", f"{push_service.origin}x/push/1"):
        answer = await phone.post("/app/api/push", {"endpoint": endpoint, "keys": keys})
        assert answer.status_code == 422, endpoint
    code4.button("knop-balie-1").press()
    [push] = await push_service.pushes(lisa, 1)
    assert [a["title"] for a in push.payload["actions"]] == ["I'm coming", "Can't come"]
    assert push.payload["lang"] == "en"


@SQLITE
async def test_push_as_the_last_channel_is_repeated_until_answered(
        code4: Harness, push_service: PushServiceSimulator) -> None:
    _, piet = await subscribed_phone(code4, push_service, "piet")
    code4.button("knop-balie-1").press()
    [first] = await push_service.pushes(piet, 1)
    await code4.settled()
    await code4.advance(30)
    pushes = await push_service.pushes(piet, 2)  # the same page again, not "unreachable"
    assert pushes[1].payload["page_id"] == first.payload["page_id"] and pushes[1].topic == first.topic
    [alarm] = await code4.alarms()
    record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
    assert not [e for e in record["timeline"] if e["kind"] in ("channel_failed", "unreachable")
                and e["data"]["recipient"] == "Piet Jansen"]
    async with httpx.AsyncClient(timeout=10) as worker:
        assert (await worker.post(first.payload["answer"], json={"response": "accept"})).status_code == 200
    after = len(await push_service.pushes(piet, 3))  # his role
    await code4.advance(30)
    await code4.settled()
    await asyncio.sleep(0.2)
    assert len(push_service.subscriptions[piet].pushes) == after, "answered: no more repeats"
    assert [p.payload["purpose"] for p in push_service.subscriptions[piet].pushes] == ["page", "page", "role"]
