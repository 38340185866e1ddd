"""An alarm through the whole service to an alarm centre over SIA DC-09, on real sockets.

The primary receiver is pysiaalarm's (a DC-09 receiver code4's developers did not write); the
backup, and the receivers that NAK, stay silent or are down, are code4's own simulator. The
police line behind the centre is the local Twilio-compatible server.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pysiaalarm import SIAAccount
from pysiaalarm.aio import SIAClient
from pysiaalarm.event import SIAEvent
from pysiaalarm.utils import CommunicationsProtocol

from dispatcher.clock import FakeClock
from escalation.alarm_centre.dc09 import parse_key
from gateway.mqtt.broker import Mosquitto
from simulators.alarm_centre import AlarmCentre, Mode
from simulators.twilio_server import TwilioSimulator
from tests.conftest import FIXTURES
from tests.integration.harness import Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ACCOUNT = "A1B2C3"
KEY_TEXT = "0123456789ABCDEF" * 2  # pysiaalarm uses a key's characters as its bytes
POLICE = "+31880000000"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Pysia:
    """pysiaalarm's asyncio TCP receiver, collecting what it decodes."""

    def __init__(self, *, encrypted: bool) -> None:
        self.port = _free_port()
        self.events: list[SIAEvent] = []
        account = SIAAccount(ACCOUNT, KEY_TEXT if encrypted else None)
        self.client = SIAClient("127.0.0.1", self.port, [account], self._received, protocol=CommunicationsProtocol.TCP)

    async def _received(self, event: SIAEvent) -> None:
        if "NULL" not in str(event.message_type):  # line supervision's link tests: not events
            self.events.append(event)

    def codes(self) -> list[str | None]:
        return [event.code for event in self.events]


@pytest.fixture
async def receivers() -> AsyncIterator[list[Any]]:
    started: list[Any] = []
    yield started
    for receiver in started:
        await (receiver.client.async_stop() if isinstance(receiver, Pysia) else receiver.stop())


async def _pysia(started: list[Any], *, encrypted: bool) -> Pysia:
    receiver = Pysia(encrypted=encrypted)
    await receiver.client.async_start()
    started.append(receiver)
    return receiver


async def _simulator(started: list[Any], mode: Mode, *, encrypted: bool) -> int:
    if mode is Mode.DOWN:
        return _free_port()
    centre = AlarmCentre(mode=mode, key=parse_key(KEY_TEXT.encode().hex()) if encrypted else None)
    await centre.start()
    started.append(centre)
    return centre.port


@pytest.fixture
def centre_service(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    async def start(primary: int, backup: int, *, encrypted: bool = True, fmt: str = "sia-dcs") -> Harness:
        if encrypted:
            monkeypatch.setenv("CODE4_TEST_PAC_KEY", KEY_TEXT.encode().hex())
        text = (FIXTURES / "centreorg.yaml").read_text().replace("{primary}", str(primary)) \
            .replace("{backup}", str(backup)).replace("{format}", fmt)
        if not encrypted:
            text = text.replace("      key_env: CODE4_TEST_PAC_KEY\n", "")
        config = tmp_path / "centreorg.yaml"
        config.write_text(text)
        harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                          config=config, twilio=True)
        await harness.start()
        return harness

    return start


@pytest.fixture
async def started(centre_service: Callable[..., Any]) -> AsyncIterator[list[Harness]]:
    harnesses: list[Harness] = []
    yield harnesses
    for harness in harnesses:
        await harness.close()


async def _timeline(harness: Harness, alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return (await harness.api(f"/api/incidents/{alarm['incident_id']}"))["timeline"]  # type: ignore[no-any-return]


async def _timeline_when(harness: Harness, alarm: dict[str, Any], predicate: Callable[[list[dict[str, Any]]], bool],
                         limit: float = 15) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        entries = await _timeline(harness, alarm)
        return entries if predicate(entries) else None
    return await harness.eventually(check, limit)


def _tries(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["data"]["event"], e["data"]["receiver"].rsplit(":", 1)[1], e["data"]["outcome"])
            for e in entries if e["kind"] == "centre_transmission"]


async def _man_down(harness: Harness) -> dict[str, Any]:
    harness.button("knop-balie-1").press(kind="man_down")  # severe: straight to the alarm centre
    return await harness.alarm_when(lambda a: a["step"]["id"] == "meldkamer")


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "aes256"])
async def test_the_centre_gets_the_alarm_its_verification_and_its_end(
    receivers: list[Any], centre_service: Callable[..., Any], started: list[Harness], encrypted: bool,
) -> None:
    pysia = await _pysia(receivers, encrypted=encrypted)
    backup = await _simulator(receivers, Mode.ACK, encrypted=encrypted)
    harness = await centre_service(pysia.port, backup, encrypted=encrypted)
    started.append(harness)
    alarm = await _man_down(harness)

    alarm = await harness.alarm_when(lambda a: any(r["name"] == "Alarmcentrale Test" for r in a["responders"]))
    [event] = pysia.events
    assert (event.account, event.code, event.encrypted) == (ACCOUNT, "MA", encrypted)
    assert event.message == "017^persoon ligt op de grond^"
    assert [(x.identifier, x.value) for x in event.extended_data or []] == [
        ("L", "Balie 1, Publiekshal, Stadhuis Testdorp, Teststraat 1, Testdorp")]
    entries = await _timeline(harness, alarm)
    assert _tries(entries) == [("MA 017", str(pysia.port), "ACK")]
    assert [e["text"] for e in entries if e["kind"] == "confirmed"] == ["Alarmcentrale Test heeft het alarm bevestigd"]
    assert harness.twilio is not None and harness.twilio.calls_to(POLICE) == [], "the centre has it: no call"

    await harness.api(f"/api/alarms/{alarm['uid']}/police", method="POST")  # "confirm: police needed"
    await harness.eventually(lambda: pysia.codes() == ["MA", "BV"] or None)
    assert pysia.events[1].message == "017^geverifieerd: centrale post: politie nodig^"

    await harness.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={"outcome": "resolved"})
    await harness.eventually(lambda: pysia.codes() == ["MA", "BV", "MH"] or None)
    entries = await _timeline_when(harness, alarm, lambda es: len(_tries(es)) == 3)
    assert _tries(entries) == [("MA 017", str(pysia.port), "ACK"), ("BV 017", str(pysia.port), "ACK"),
                               ("MH 017", str(pysia.port), "ACK")]
    assert [e.sequence for e in pysia.events] == [f"{int(pysia.events[0].sequence) + i:04d}" for i in range(3)]


async def test_contact_id_format_reaches_pysiaalarm(
    receivers: list[Any], centre_service: Callable[..., Any], started: list[Harness],
) -> None:
    pysia = await _pysia(receivers, encrypted=True)
    harness = await centre_service(pysia.port, _free_port(), fmt="adm-cid")
    started.append(harness)
    await _man_down(harness)
    await harness.eventually(lambda: pysia.events or None)
    [event] = pysia.events
    assert (event.event_qualifier, event.event_type, event.partition, event.ri) == ("1", "100", "01", "017")


async def test_a_naking_primary_is_retried_then_the_backup_has_it(
    receivers: list[Any], centre_service: Callable[..., Any], started: list[Harness],
) -> None:
    primary = await _simulator(receivers, Mode.NAK, encrypted=True)
    pysia = await _pysia(receivers, encrypted=True)
    harness = await centre_service(primary, pysia.port)
    started.append(harness)
    alarm = await _man_down(harness)
    await harness.alarm_when(lambda a: any(r["name"] == "Alarmcentrale Test" for r in a["responders"]))
    entries = await _timeline(harness, alarm)
    assert _tries(entries) == [("MA 017", str(primary), "NAK"), ("MA 017", str(primary), "NAK"),
                               ("MA 017", str(pysia.port), "ACK")]
    [switch] = [e for e in entries if e["kind"] == "centre_receiver_switched"]
    assert switch["notice"] and switch["data"]["to"].endswith(f":{pysia.port}")
    assert pysia.codes() == ["MA"]


async def test_no_receiver_answering_falls_through_to_the_police_line(
    receivers: list[Any], centre_service: Callable[..., Any], started: list[Harness],
) -> None:
    primary = await _simulator(receivers, Mode.SILENT, encrypted=True)
    backup = await _simulator(receivers, Mode.DOWN, encrypted=True)
    harness = await centre_service(primary, backup)
    started.append(harness)
    assert harness.twilio is not None
    harness.twilio.rule(POLICE).press = "1"
    # Line supervision's first round (at start) has found the path down: one try per receiver.
    await harness.device_reported("pac", lambda status: "centre_down" in (status.faults or []))
    alarm = await _man_down(harness)

    twilio: TwilioSimulator = harness.twilio
    call = await twilio.call_to(POLICE, status="completed", within=20)
    assert call.heard[0].startswith("Dit is een automatisch alarmbericht van Testgemeente.")
    entries = await _timeline_when(harness, alarm, lambda es: any(e["kind"] == "channel_failed" for e in es))
    assert _tries(entries) == [("MA 017", str(primary), "silence"), ("MA 017", str(backup), "refused")]
    [failed] = [e for e in entries if e["kind"] == "channel_failed"]
    assert failed["notice"] and failed["data"]["next"] == "voice"
    assert "Alarmcentrale Test did not acknowledge MA 017" in failed["data"]["reason"]
    alarm = await harness.alarm_when(lambda a: any(r["name"] == "Alarmcentrale Test" for r in a["responders"]))
    assert [r["channel"] for r in alarm["responders"]] == ["voice"], "the police confirmed on the fallback call"


async def test_a_silent_primary_is_tried_again_before_the_backup(
    receivers: list[Any], centre_service: Callable[..., Any], started: list[Harness],
) -> None:
    """The path not known to be down: every try on the primary, then the backup has it."""
    primary = await _simulator(receivers, Mode.SILENT, encrypted=True)
    pysia = await _pysia(receivers, encrypted=True)
    harness = await centre_service(primary, pysia.port)
    started.append(harness)
    alarm = await _man_down(harness)
    await harness.alarm_when(lambda a: any(r["name"] == "Alarmcentrale Test" for r in a["responders"]))
    assert _tries(await _timeline(harness, alarm)) == [
        ("MA 017", str(primary), "silence"), ("MA 017", str(primary), "silence"), ("MA 017", str(pysia.port), "ACK")]


async def test_a_missing_key_is_a_clear_failure_and_the_police_are_called(
    receivers: list[Any], centre_service: Callable[..., Any], started: list[Harness],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pysia = await _pysia(receivers, encrypted=True)
    harness = await centre_service(pysia.port, _free_port())
    started.append(harness)
    monkeypatch.delenv("CODE4_TEST_PAC_KEY")
    assert harness.twilio is not None
    harness.twilio.rule(POLICE).press = "1"
    alarm = await _man_down(harness)
    await harness.twilio.call_to(POLICE, status="completed", within=20)
    entries = await _timeline_when(harness, alarm, lambda es: any(e["kind"] == "channel_failed" for e in es))
    [failed] = [e for e in entries if e["kind"] == "channel_failed"]
    assert "environment variable CODE4_TEST_PAC_KEY" in failed["data"]["reason"]
    assert pysia.events == []
