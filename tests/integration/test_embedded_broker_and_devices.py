"""The embedded amqtt broker (for machines without Mosquitto), and devices reporting on
themselves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devices.endpoint import MqttEndpoint
from dispatcher.clock import FakeClock
from gateway.app import Code4Service
from gateway.mqtt.broker import EmbeddedAmqtt
from gateway.settings import Settings
from simulators.devices import SimButton, SimPager
from tests.conftest import TESTORG
from tests.integration.harness import Harness


async def test_code4_runs_on_the_embedded_amqtt_broker(tmp_path: Path, clock: FakeClock) -> None:
    broker = EmbeddedAmqtt()
    await broker.start()
    settings = Settings(mqtt_url=broker.url, database_url=f"sqlite:///{tmp_path / 'c.db'}", http="127.0.0.1:0",
                        data_dir=tmp_path / "var", config=TESTORG)
    service = Code4Service(settings, clock=clock)
    await service.start()
    endpoint = MqttEndpoint.parse(broker.url)
    # amqtt runs in this event loop: connect the (blocking) simulators from a thread.
    sanne = await asyncio.to_thread(SimPager(endpoint, "pager-sanne").connect)
    button = await asyncio.to_thread(SimButton(endpoint, "knop-balie-1").connect)
    try:
        alarm_id = button.press()
        await asyncio.to_thread(button.feedback, "received", alarm_id)
        page = await asyncio.to_thread(sanne.page)
        assert page["location"].startswith("Balie 1")
    finally:
        await asyncio.to_thread(sanne.close)
        await asyncio.to_thread(button.close)
        await service.stop()
        await broker.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_heartbeats_and_last_wills_are_recorded(code4: Harness) -> None:
    assert code4.service is not None
    button = code4.button("knop-balie-1")
    button.heartbeat(battery=0.31, rssi=-70)
    pager = code4.pager("pager-jan")
    pager.client.socket().close()  # a dead connection: the broker publishes the last will "offline"
    knop = await code4.device_reported("knop-balie-1", lambda s: s.battery is not None)
    assert (knop.online, knop.battery, knop.rssi) == (True, 0.31, -70)
    assert knop.last_heartbeat_at == code4.clock.now()
    await code4.device_reported("pager-jan", lambda s: s.online is False)
