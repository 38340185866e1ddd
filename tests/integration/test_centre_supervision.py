"""Line supervision of alarm-centre paths on real sockets (127.0.0.1 only), with the clock in
the test's hand: pysiaalarm's asyncio receiver (written by others) as a live receiver, code4's
own simulator as a receiver that is down or silent; the device watch on a real database, so the
faults are stored as events, are rows of the device board and reach the technical contact
through the outbox.

pysiaalarm is met over TCP and needs a receiver number in the message (see test_alarm_centre.py).
A silent receiver costs its answer timeout in real time (one second here): the link tests are
real network I/O, only the intervals between them are the fake clock's. The messages are
stamped with the wall clock, as a receiver checks them against its own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pysiaalarm import SIAAccount
from pysiaalarm.aio import SIAClient
from pysiaalarm.event import SIAEvent
from pysiaalarm.utils import CommunicationsProtocol

from dispatcher.centrewatch import BACKUP, DOWN, PRIMARY, CentreWatch
from dispatcher.clock import FakeClock
from dispatcher.devicewatch import DeviceWatch
from dispatcher.store.repository import Outgoing, Store
from escalation.alarm_centre.dc09 import MessageType
from escalation.alarm_centre.pool import Transmitters
from escalation.directory import Directory
from escalation.loader import load_text
from escalation.notices import Notice
from gateway.board.views import DeviceView, device_views
from gateway.mqtt.broker import Mosquitto
from simulators.alarm_centre import AlarmCentre, Mode
from tests.conftest import FIXTURES, MONDAY_11
from tests.integration.harness import Harness

T = TypeVar("T")
ACCOUNT = "A1B2C3"
SUPERVISION = 60  # seconds: a link test every 30

ORG = """
organisation: Testgemeente
fallback: altijd
device_types:
  fixed_button: {{supervision: 1h}}
sites:
  - id: stadhuis
    name: Stadhuis
    address: Teststraat 1, Testdorp
    technical_contact: kees
    zones: [{{id: hal, name: Hal, locations: [{{id: balie, name: Balie}}]}}]
people:
  - {{id: kees, name: Kees Bakker, phone: "+31612345678", roles: [bhv], devices: [pager-kees]}}
devices:
  - {{id: knop, type: fixed_button, location: stadhuis/balie}}
  - {{id: pager-kees, type: responder_pager, person: kees}}
contacts:
  - {{id: politie, name: Politie, phone: "+31201234567"}}
  - id: pac
    name: Alarmcentrale Noord
    kind: alarm_centre
    alarm_centre:
      receivers: ["127.0.0.1:{primary}", "127.0.0.1:{backup}"]
      account: "{account}"
      receiver: 31
      line: 42
      supervision: {supervision}
      timeout: 1
      fallback: politie
agreements:
  - id: altijd
    steps:
      - {{id: bhv, targets: [{{role: bhv}}], channels: [pager]}}
"""


def _free_port() -> int:
    """A port nobody listens on (bound and released): a link test there is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SiaReceiver:
    """pysiaalarm's receiver on a fixed port, to stop and start again (a receiver that dies and comes back)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.events: list[SIAEvent] = []
        self._client: SIAClient | None = None

    async def _received(self, event: SIAEvent) -> None:
        self.events.append(event)

    async def start(self) -> None:
        self._client = SIAClient("127.0.0.1", self.port, [SIAAccount(ACCOUNT, None)], self._received,
                                 protocol=CommunicationsProtocol.TCP)
        await self._client.async_start()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.async_stop()
            self._client = None


@dataclass
class Supervised:
    """Line supervision and the device watch as the leading instance runs them, on a fake clock."""

    clock: FakeClock
    store: Store
    directory: Directory
    devices: DeviceWatch
    centres: CentreWatch
    writer: ThreadPoolExecutor
    sent: list[Outgoing] = field(default_factory=list)
    task: asyncio.Future[Any] | None = None

    async def stop(self) -> None:
        """As `code4 stop` does: supervision ends, what is known is stored."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
            await self.devices.flush()
            self.writer.shutdown()
            self.store.close()

    def path(self) -> DeviceView:
        return next(view for view in device_views(self.directory, self.devices.facts()) if view.id == "pac")

    async def rounds(self, count: int, limit: float = 10) -> None:
        """Until `count` rounds are done: each is real network I/O, so this waits for sockets, not for time."""
        for _ in range(int(limit / 0.005)):
            if self.centres.rounds["pac"] >= count:
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError(f"{self.centres.rounds['pac']} rounds, not {count}")
        await self.devices.flush()
        # A flush the device watch's own flusher began is over (and its notices handed on) once
        # the one writer has done what came before this.
        await asyncio.get_running_loop().run_in_executor(self.writer, lambda: None)
        await asyncio.sleep(0)

    async def at(self, seconds: float) -> None:
        """Move the clock to `seconds` after the start and wait for the rounds due by then (one
        at the start, then every half interval)."""
        await self.clock.advance((MONDAY_11 + timedelta(seconds=seconds) - self.clock.now()).total_seconds())
        await self.rounds(int(seconds // (SUPERVISION / 2)) + 1)

    def notices(self) -> list[Notice]:
        return [o.effect for o in self.sent if isinstance(o.effect, Notice)]


@pytest.fixture
async def sia() -> AsyncIterator[SiaReceiver]:
    receiver = SiaReceiver(_free_port())
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def simulators() -> AsyncIterator[list[AlarmCentre]]:
    started: list[AlarmCentre] = []
    yield started
    for centre in started:
        await centre.stop()


async def _simulator(started: list[AlarmCentre], mode: Mode, port: int = 0) -> AlarmCentre:
    centre = AlarmCentre(port=port, mode=mode)
    await centre.start()
    started.append(centre)
    return centre


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Callable[[int, int], Any]]:
    """Start supervision of a centre with these receiver ports; stopped when the test ends."""
    running: list[Supervised] = []

    async def start(primary: int, backup: int) -> Supervised:
        clock = FakeClock(MONDAY_11)
        store = Store(f"sqlite:///{tmp_path / 'code4.db'}")
        store.migrate()
        writer = ThreadPoolExecutor(1)  # one writer, as the dispatcher's

        async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
            return await asyncio.get_running_loop().run_in_executor(writer, lambda: fn(*args, **kwargs))

        text = ORG.format(primary=primary, backup=backup, account=ACCOUNT, supervision=SUPERVISION)
        directory = Directory(load_text(text).organisation)
        sent: list[Outgoing] = []
        devices = DeviceWatch(store=store, directory=directory, clock=clock, raise_alarm=lambda *_: None,
                              pre_alert=_no_pre_alert, send_notices=sent.extend, db=db)
        # The messages' timestamps on the wall clock: pysiaalarm refuses (NAKs) a message stamped
        # outside its time window, and the fake clock is days behind and jumps.
        transmitters = Transmitters(lambda _: None, lambda: datetime.now(UTC))
        centres = CentreWatch(directory=directory, clock=clock, transmitters=transmitters,
                              report=devices.path_checked, ready=devices.loaded.wait)
        supervised = Supervised(clock, store, directory, devices, centres, writer, sent,
                                asyncio.gather(devices.run(), centres.run()))
        running.append(supervised)
        await supervised.rounds(1)
        return supervised

    yield start
    for supervised in running:
        await supervised.stop()


async def _no_pre_alert(*_: Any) -> None:
    return None


async def test_a_healthy_path_is_tested_every_half_interval_and_has_no_fault(
        make: Any, sia: SiaReceiver, simulators: list[AlarmCentre]) -> None:
    backup = await _simulator(simulators, Mode.ACK)
    supervised = await make(sia.port, backup.port)
    path = supervised.path()
    assert (path.type, path.location, path.online, path.faults) == (
        "alarm_centre", f"127.0.0.1:{sia.port}, 127.0.0.1:{backup.port}", True, [])
    await supervised.at(SUPERVISION)
    assert [e.message_type.value for e in sia.events] == ["NULL"] * 3  # at 0, 30 and 60 s
    assert [m.message_type for m in backup.received] == [MessageType.NULL] * 3
    assert supervised.path().faults == [] and supervised.notices() == []
    assert await asyncio.to_thread(supervised.store.device_events, "pac") == []


async def test_a_dead_primary_is_a_fault_within_the_interval_and_clears_when_it_comes_back(
        make: Any, sia: SiaReceiver, simulators: list[AlarmCentre]) -> None:
    backup = await _simulator(simulators, Mode.ACK)
    supervised = await make(sia.port, backup.port)
    await supervised.at(1)
    await sia.stop()  # dies just after a link test: the longest it can go unnoticed
    died = 1
    found_at = None
    for second in range(died + 5, died + SUPERVISION + 1, 5):
        await supervised.at(second)
        if supervised.path().faults:
            found_at = second
            break
    # A link test runs at most half an interval after the death and its timeout is at most the
    # other half (it takes no fake time here): found within the interval.
    assert found_at is not None and found_at - died <= SUPERVISION / 2, f"found {found_at - died}s after"
    path = supervised.path()
    assert path.faults == [PRIMARY] and path.online is True, "the backup answers: alarms still get through"
    [told] = supervised.notices()
    assert told.recipient == "person:kees"
    assert told.text == "Storing pac (Alarmcentrale Noord): hoofdontvanger antwoordt niet."

    await sia.start()  # back on the same port
    await supervised.at(found_at + SUPERVISION / 2)
    assert supervised.path().faults == []
    restored = supervised.notices()[-1]
    assert restored.text == "Hersteld pac (Alarmcentrale Noord): hoofdontvanger antwoordt niet opgelost."
    events = await asyncio.to_thread(supervised.store.device_events, "pac")
    assert [(e.kind, e.data["fault"]) for e in reversed(events)] == [
        ("fault_raised", PRIMARY), ("fault_cleared", PRIMARY)]


async def test_both_down_is_centre_down_on_the_board_and_the_technical_contact_is_told(
        make: Any, simulators: list[AlarmCentre]) -> None:
    dead_port = _free_port()
    primary = await _simulator(simulators, Mode.DOWN, dead_port)  # not listening
    backup = await _simulator(simulators, Mode.SILENT)  # reads, never answers: costs the timeout
    supervised = await make(dead_port, backup.port)
    board = device_views(supervised.directory, supervised.devices.facts())
    assert board[0].id == "pac", "a path with faults comes first on the board"
    assert (board[0].type, board[0].online, board[0].faults) == ("alarm_centre", False, [DOWN, PRIMARY, BACKUP])
    assert all(not view.faults for view in board[1:])
    [told] = supervised.notices()
    assert (told.recipient, told.subject) == ("person:kees", "pac")
    assert told.text.startswith("Storing pac (Alarmcentrale Noord): geen ontvanger bereikbaar, alarmen gaan naar "
                                "de terugvalroute")
    unsent = await asyncio.to_thread(supervised.store.unsent)
    assert [(o.alarm_uid, o.effect) for o in unsent] == [("device:pac", told)], "in the outbox until sent"

    await primary.stop()
    simulators.remove(primary)
    await _simulator(simulators, Mode.ACK, dead_port)  # the primary comes back
    await supervised.at(SUPERVISION / 2)
    path = supervised.path()
    assert (path.online, path.faults) == (True, [BACKUP])
    assert supervised.notices()[-1].text == ("Hersteld pac (Alarmcentrale Noord): geen ontvanger bereikbaar, alarmen "
                                             "gaan naar de terugvalroute, hoofdontvanger antwoordt niet opgelost.")


async def test_a_fault_outlives_a_restart_without_telling_the_technical_contact_again(
        make: Any, simulators: list[AlarmCentre]) -> None:
    backup = await _simulator(simulators, Mode.ACK)
    dead_port = _free_port()
    before = await make(dead_port, backup.port)
    assert before.path().faults == [PRIMARY] and len(before.notices()) == 1
    await before.stop()
    after = await make(dead_port, backup.port)  # the same database
    assert after.path().faults == [PRIMARY]
    assert after.notices() == [], "told once, before the restart"
    assert [e.kind for e in await asyncio.to_thread(after.store.device_events, "pac")] == ["fault_raised"]


# ---- in the service -------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_service_shows_a_dead_path_on_its_board_and_pages_the_technical_contact(
        mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path,
        simulators: list[AlarmCentre]) -> None:
    """code4 as it runs: supervision on the leader, the pool of transmitters, the board's pages
    and API, the notice by pager, and a reload that drops the centre."""
    port = _free_port()
    primary = await _simulator(simulators, Mode.ACK, port)
    backup = await _simulator(simulators, Mode.ACK)
    centre = (f"contacts:\n  - id: pac\n    name: Alarmcentrale Noord\n    kind: alarm_centre\n"
              f"    alarm_centre: {{receivers: ['127.0.0.1:{port}', '127.0.0.1:{backup.port}'], account: '{ACCOUNT}', "
              f"supervision: {SUPERVISION}, timeout: 1}}\n")
    config = tmp_path / "org.yaml"
    config.write_text((FIXTURES / "deviceorg.yaml").read_text(encoding="utf-8") + centre, encoding="utf-8")
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path, config=config)
    await harness.start()
    try:
        kees = harness.pager("pager-kees")  # the technical contact
        await _path_when(harness, lambda p: p["online"] is True)
        await primary.stop()
        await harness.advance(SUPERVISION / 2)
        path = await _path_when(harness, lambda p: p["faults"] == [PRIMARY])
        assert (path["type"], path["location"]) == ("alarm_centre", f"127.0.0.1:{port}, 127.0.0.1:{backup.port}")
        told = await harness.wait(kees.page, lambda p: "pac" in p["text"])
        assert told["text"] == "Storing pac (Alarmcentrale Noord): hoofdontvanger antwoordt niet."
        board = await harness.call(harness.token or "", "/board/devices")
        detail = await harness.call(harness.token or "", "/board/devices/pac")
        assert board.status_code == detail.status_code == 200
        assert "hoofdontvanger antwoordt niet" in board.text and "alarmcentrale" in board.text
        assert "storing: hoofdontvanger antwoordt niet" in detail.text
        events = await harness.api("/api/devices/pac/events")
        assert [(e["kind"], e["data"]["fault"]) for e in events] == [("fault_raised", PRIMARY)]

        await _simulator(simulators, Mode.ACK, port)  # back
        await harness.advance(SUPERVISION / 2)
        await _path_when(harness, lambda p: p["faults"] == [])
        await harness.wait(kees.page, lambda p: p["text"].startswith("Hersteld pac"))

        service = harness.service
        assert service is not None
        config.write_text(config.read_text(encoding="utf-8").replace("id: pac\n", "id: pac2\n"), encoding="utf-8")
        assert service.reload()  # pac gone, pac2 (the same receivers) new
        assert [d["id"] for d in await harness.api("/api/devices") if d["type"] == "alarm_centre"] == ["pac2"]
        assert service.centres.rounds["pac"] == 3
        for second in range(1, 3):  # pac2's rounds, each on the same beat pac's would have had
            await harness.advance(SUPERVISION / 2)
            await _path_when(harness, lambda _, n=second: service.centres.rounds["pac2"] > n, "pac2")
        assert service.centres.rounds["pac"] == 3, "no longer supervised"
    finally:
        await harness.close()


async def _path_when(harness: Harness, predicate: Callable[[dict[str, Any]], bool], centre: str = "pac",
                     limit: float = 10) -> dict[str, Any]:
    """The path's row in the device API once `predicate` holds (link tests are real I/O)."""
    for _ in range(int(limit / 0.02)):
        path = next(d for d in await harness.api("/api/devices") if d["id"] == centre)
        if predicate(path):
            return path  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError(f"the path never became as expected: {path}")
