"""Two instances on one PostgreSQL: the standby's board follows the alarms the leader stores,
and an action taken on the standby (an operator's, a responder's answer) is carried out by the
leader, with its result (or its refusal) answered on the standby."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.conftest import _postgres_database
from tests.integration.harness import Harness

pytestmark = pytest.mark.postgres
LINK_KEY = "one-key-for-both-instances"


@pytest.fixture
async def pair(mosquitto: Mosquitto, clock: FakeClock, tmp_path: Path) -> AsyncIterator[tuple[Harness, Harness]]:
    for url in _postgres_database():
        leader = Harness(mosquitto=mosquitto, database_url=url, clock=clock, tmp_path=tmp_path / "a",
                         settings={"secret_key": LINK_KEY})
        standby = Harness(mosquitto=mosquitto, database_url=url, clock=clock, tmp_path=tmp_path / "b",
                          settings={"secret_key": LINK_KEY})
        await leader.start()
        standby.token = leader.token  # one database: Ria's token works on both
        await standby.start()
        try:
            yield leader, standby
        finally:
            await standby.close()
            await leader.close()


async def until(condition: Callable[[], bool], limit: float = 10) -> None:
    for _ in range(int(limit / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def test_an_operator_on_the_standby_sees_the_alarm_and_acts_through_the_leader(
        pair: tuple[Harness, Harness]) -> None:
    leader, standby = pair
    assert (leader.service and leader.service.role, standby.service and standby.service.role) == ("leader", "standby")
    jan = leader.pager("pager-jan")
    leader.button("knop-balie-1").press(kind="man_down")
    await leader.wait(jan.page)
    [alarm] = await leader.alarms()
    uid = alarm["uid"]
    assert standby.service is not None
    followed = standby.service.dispatcher
    await until(lambda: uid in {state.uid for state in followed.open_alarms()})  # the standby's board has it
    for _ in range(100):  # and its device list what the leader stored of the button
        devices = {d["id"]: d for d in await standby.api("/api/devices")}
        if devices["knop-balie-1"]["last_seen_at"] is not None:
            break
        await asyncio.sleep(0.05)
    assert devices["knop-balie-1"]["online"] is True

    noted = await standby.api(f"/api/alarms/{uid}/notes", method="POST", json={"text": "Balie gebeld"})
    assert noted["uid"] == uid
    timeline = (await leader.api(f"/api/alarms/{uid}"))["timeline"]
    assert any("Balie gebeld" in str(entry) for entry in timeline), "the leader carried the note out and stored it"

    closed = await standby.api(f"/api/alarms/{uid}/close", method="POST", json={"outcome": "resolved"})
    assert closed["status"] == "closed"
    assert leader.service is not None and uid not in {s.uid for s in leader.service.dispatcher.open_alarms()}
    async with httpx.AsyncClient(base_url=standby.service.http_url, timeout=15,
                                 headers={"Authorization": f"Bearer {standby.token}"}) as client:
        again = await client.post(f"/api/alarms/{uid}/escalate")
    assert again.status_code == 409, "a refusal by the leader is the standby's answer"
    assert uid not in {state.uid for state in followed.open_alarms()}


async def test_when_the_leader_stops_the_standby_takes_over_and_acts_itself(pair: tuple[Harness, Harness]) -> None:
    leader, standby = pair
    jan = leader.pager("pager-jan")
    leader.button("knop-balie-1").press(kind="man_down")
    await leader.wait(jan.page)
    [alarm] = await leader.alarms()
    await leader.stop()  # the leader is gone; the standby takes the lease within about 2.5 s
    assert standby.service is not None
    await until(lambda: standby.service is not None and standby.service.role == "leader", limit=15)
    seen = await standby.api(f"/api/alarms/{alarm['uid']}/seen", method="POST")
    assert seen["uid"] == alarm["uid"], "the former standby dispatches and acts itself"
