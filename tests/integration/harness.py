"""code4 in-process against a real broker and database, driven by simulated devices.

The service uses a FakeClock: escalation deadlines move only when a test calls `advance`,
so a 45-second step costs no waiting. Everything else (MQTT, the database) is real.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from devices.endpoint import MqttEndpoint
from dispatcher.clock import FakeClock
from dispatcher.outbox import RetryPolicy
from gateway.app import Code4Service
from gateway.mqtt.broker import Mosquitto, free_port
from gateway.settings import Settings
from simulators.devices import SimButton, SimDevice, SimPager
from simulators.twilio_server import TwilioSimulator
from tests.conftest import TESTORG

T = TypeVar("T")


OPERATOR_PASSWORD = "correct horse battery staple"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-auth-token-not-secret"
TWILIO_FROM = "+3197010000000"


class Harness:
    def __init__(self, *, mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path,
                 config: Path = TESTORG, twilio: bool = False, link_ttl_s: int = 7200,
                 mqtt_url: str | None = None, mqtt_ca_file: Path | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        self.mosquitto = mosquitto
        self.database_url = database_url
        self.clock = clock
        self.tmp_path = tmp_path
        self.config = config
        self.client_id = f"code4-test-{uuid.uuid4().hex[:8]}"
        self.service: Code4Service | None = None
        self.port = free_port()
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.link_ttl_s = link_ttl_s
        self.mqtt_url = mqtt_url or mosquitto.url  # code4's own account on a secured broker
        self.mqtt_ca_file = mqtt_ca_file
        self.extra_settings = settings or {}  # any other Settings field, e.g. {"trusted_proxies": [...]}
        self.twilio: TwilioSimulator | None = (
            TwilioSimulator(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN,
                            sms_webhook=f"{self.public_url}/twilio/sms/inbound", gather_wait=5.0)
            if twilio else None
        )
        self._devices: list[SimDevice] = []
        self.token: str | None = None

    @property
    def endpoint(self) -> MqttEndpoint:
        return MqttEndpoint.parse(self.mosquitto.url)

    def settings(self) -> Settings:
        twilio: dict[str, object] = {}
        if self.twilio is not None:
            twilio = {"twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN, "twilio_from": TWILIO_FROM,
                      "twilio_api_base": self.twilio.api_base}
        return Settings(
            mqtt_url=self.mqtt_url, mqtt_ca_file=self.mqtt_ca_file, database_url=self.database_url,
            http=f"127.0.0.1:{self.port}",
            public_url=self.public_url, data_dir=self.tmp_path / "var", config=self.config,
            mqtt_client_id=self.client_id, link_ttl_s=self.link_ttl_s,
            **twilio, **self.extra_settings,  # type: ignore[arg-type]
        )

    async def start(self) -> Code4Service:
        if self.twilio is not None and not self.twilio.port:
            await self.twilio.start()
            if self.twilio.port == self.port:  # the system handed code4's port to the phones: take another
                self.port = free_port()
                self.public_url = f"http://127.0.0.1:{self.port}"
                self.twilio.sms_webhook = f"{self.public_url}/twilio/sms/inbound"
        self.service = Code4Service(self.settings(), clock=self.clock, retry=RetryPolicy(page_give_up_after=2.0),
                                    watch_interval=3600)
        await self.service.start()
        if self.token is None:  # the same database across restarts: one operator, one token
            accounts = self.service.accounts
            user_id = await asyncio.to_thread(accounts.add_user, "ria", OPERATOR_PASSWORD, ["operator"],
                                              display_name="Ria Meldkamer")
            _, self.token = await asyncio.to_thread(accounts.create_token, user_id, "tests")
        return self.service

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
            self.service = None

    async def close(self) -> None:
        await self.stop()
        for device in self._devices:
            device.close()
        if self.twilio is not None:
            await self.twilio.stop()

    def button(self, device_id: str, *, repeat_every: float = 3.0, password: str | None = None) -> SimButton:
        button = SimButton(self._endpoint_for(device_id, password), device_id, repeat_every=repeat_every)
        self._devices.append(button.connect())
        return button

    def pager(self, device_id: str, *, password: str | None = None, **kwargs: Any) -> SimPager:
        pager = SimPager(self._endpoint_for(device_id, password), device_id, **kwargs)
        self._devices.append(pager.connect())
        return pager

    def _endpoint_for(self, device_id: str, password: str | None) -> MqttEndpoint:
        if password is None:
            return self.endpoint
        return MqttEndpoint(self.endpoint.host, self.endpoint.port, device_id, password)

    async def wait(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking simulator wait without stopping the service's event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)

    async def api(self, path: str, *, method: str = "GET", json: Any = None, **params: str) -> Any:
        """The API as the operator Ria, with her API token."""
        assert self.service is not None
        async with httpx.AsyncClient(base_url=self.service.http_url, timeout=10,
                                     headers={"Authorization": f"Bearer {self.token}"}) as client:
            response = await client.request(method, path, params=params, json=json)
            response.raise_for_status()
            return response.json()

    async def add_user(self, username: str, roles: list[str], *, person: str | None = None,
                       name: str | None = None) -> str:
        """A user with an API token; returns the token."""
        assert self.service is not None
        accounts = self.service.accounts
        user_id = await asyncio.to_thread(accounts.add_user, username, OPERATOR_PASSWORD, roles, person_id=person,
                                          display_name=name)
        return (await asyncio.to_thread(accounts.create_token, user_id, "tests"))[1]

    async def call(self, token: str, path: str, *, method: str = "GET", json: Any = None,
                   **params: str) -> httpx.Response:
        """The API as someone else, answer unchecked (for access tests)."""
        assert self.service is not None
        async with httpx.AsyncClient(base_url=self.service.http_url, timeout=10,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            return await client.request(method, path, params=params, json=json)

    async def alarms(self, state: str = "open") -> list[dict[str, Any]]:
        return (await self.api("/api/alarms", state=state))["items"]  # type: ignore[no-any-return]

    async def alarm_when(self, predicate: Callable[[dict[str, Any]], bool], limit: float = 10) -> dict[str, Any]:
        """The first open alarm (as the API shows it) for which `predicate` holds, once it does."""
        for _ in range(int(limit / 0.02)):
            for alarm in await self.alarms():
                if predicate(alarm):
                    return alarm
            await asyncio.sleep(0.02)
        raise AssertionError(f"no open alarm became as expected; now: {await self.alarms()}")

    async def eventually(self, probe: Callable[[], Any], limit: float = 10) -> Any:
        """`probe()`'s first result that is not None (it may be a coroutine function), polled."""
        for _ in range(int(limit / 0.05)):
            found = probe()
            if asyncio.iscoroutine(found):
                found = await found
            if found is not None:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing as expected within {limit} s")

    async def device_reported(self, device_id: str, predicate: Callable[[Any], bool], limit: float = 10) -> Any:
        """The stored status of a device once `predicate` holds for it."""
        assert self.service is not None
        for _ in range(int(limit / 0.05)):
            await self.service.devices.flush()
            for status in await asyncio.to_thread(self.service.store.device_statuses):
                if status.device_id == device_id and predicate(status):
                    return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"{device_id} never reported as expected")

    async def wait_events(self, device_id: str, kind: str, limit: float = 10) -> list[Any]:
        """The device's events once one of `kind` is among them."""
        assert self.service is not None
        for _ in range(int(limit / 0.05)):
            events = await asyncio.to_thread(self.service.store.device_events, device_id)
            if any(e.kind == kind for e in events):
                return events
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} event for {device_id}")

    async def seen_now(self, device_id: str, limit: float = 10) -> None:
        """Until code4 has taken in a message from the device at the current (fake) time."""
        assert self.service is not None
        for _ in range(int(limit / 0.01)):
            facts = self.service.devices.facts().get(device_id)
            if facts is not None and facts.last_seen_at == self.clock.now():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{device_id} was not heard at {self.clock.now()}")

    async def settled(self) -> None:
        """Until every decided message has been handed to the broker."""
        assert self.service is not None
        store = self.service.store
        for _ in range(200):
            if not await asyncio.to_thread(store.unsent):
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the outbox did not empty")
