"""Line supervision of alarm-centre paths, on a fake clock with scripted receivers: which faults
a round finds, that a dead receiver is a fault within one supervision interval, that nothing a
round does stops supervision, that it follows a reload; and the device watch's side: the faults
raised and cleared as events, the technical contact told, the path a row of the device board."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest

from dispatcher.centrewatch import BACKUP, DOWN, PRIMARY, UNUSABLE, CentreWatch, path_faults
from dispatcher.clock import FakeClock
from dispatcher.devicewatch import DeviceWatch
from dispatcher.store.repository import Outgoing
from escalation.alarm_centre.centres import CentreUnusable
from escalation.alarm_centre.dc09 import Link
from escalation.alarm_centre.transmitter import Attempt, Outcome, Receiver, RouteSettings
from escalation.directory import Directory
from escalation.loader import load_text
from escalation.model import Contact
from escalation.notices import Notice
from gateway.board.views import device_views
from tests.factories import T0

T = TypeVar("T")
PRIMARY_AT, BACKUP_AT = "127.0.0.1:7001", "127.0.0.1:7002"

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
{centres}
agreements:
  - id: altijd
    steps:
      - {{id: bhv, targets: [{{role: bhv}}], channels: [pager]}}
"""


def centre(centre_id: str, *receivers: str, supervision: int = 180, key_env: str | None = None) -> str:
    key = f", key_env: {key_env}" if key_env else ""
    return (f"  - {{id: {centre_id}, name: Alarmcentrale {centre_id}, kind: alarm_centre, alarm_centre: "
            f"{{receivers: [{', '.join(repr(r) for r in receivers)}], account: 'A1B2C3', "
            f"supervision: {supervision}, timeout: 5, fallback: politie{key}}}}}")


def directory(*centres: str) -> Directory:
    return Directory(load_text(ORG.format(centres="\n".join(centres))).organisation)


@dataclass
class FakeTester:
    """A transmitter whose receivers answer as `alive` says (an exception: the test crashes)."""

    settings: RouteSettings
    alive: dict[Receiver, bool | Exception]
    tested: list[Receiver]

    async def link_test(self, receiver: Receiver | None = None) -> Attempt:
        assert receiver is not None
        self.tested.append(receiver)
        answer = self.alive.get(receiver, True)
        if isinstance(answer, Exception):
            raise answer
        return Attempt(receiver, 1, Outcome.ACK if answer else Outcome.REFUSED, T0)


@dataclass
class FakePool:
    alive: dict[Receiver, bool | Exception] = field(default_factory=dict)
    tested: list[Receiver] = field(default_factory=list)
    broken: Exception | None = None  # what `for_contact` raises

    def for_contact(self, contact: Contact) -> FakeTester:
        if self.broken is not None:
            raise self.broken
        assert contact.alarm_centre is not None
        receivers = [receiver(address) for address in contact.alarm_centre.receivers]
        settings = RouteSettings(primary=receivers[0], backup=receivers[1] if len(receivers) > 1 else None,
                                 link=Link("A1B2C3"))
        return FakeTester(settings, self.alive, self.tested)


def receiver(address: str) -> Receiver:
    host, _, port = address.rpartition(":")
    return Receiver(host, int(port))


@dataclass
class Reports:
    seen: list[tuple[datetime, str, tuple[str, ...], bool, str | None]] = field(default_factory=list)
    clock: FakeClock | None = None

    def __call__(self, path_id: str, faults: tuple[str, ...], *, answering: bool, note: str | None = None) -> None:
        assert self.clock is not None
        self.seen.append((self.clock.now(), path_id, faults, answering, note))

    def last(self, path_id: str) -> tuple[str, ...]:
        return next(faults for _, p, faults, _, _ in reversed(self.seen) if p == path_id)


class Running:
    def __init__(self, directory: Directory, pool: FakePool | Any) -> None:
        self.clock = FakeClock(T0)
        self.reports = Reports(clock=self.clock)
        self.watch = CentreWatch(directory=directory, clock=self.clock, transmitters=pool, report=self.reports)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.watch.run())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def rounds(self, centre_id: str, count: int) -> None:
        """Until `count` rounds of this centre are done (yielding to the loop only: nothing here waits)."""
        for _ in range(200):
            if self.watch.rounds[centre_id] >= count:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"{centre_id}: {self.watch.rounds[centre_id]} rounds, not {count}")

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)
        for _ in range(20):
            await asyncio.sleep(0)


# ---- what a round finds ------------------------------------------------------------------------------


@pytest.mark.parametrize(("answered", "faults"), [
    ([True, True], ()),
    ([False, True], (PRIMARY,)),
    ([True, False], (BACKUP,)),
    ([False, False], (DOWN, PRIMARY, BACKUP)),
    ([True], ()),
    ([False], (DOWN, PRIMARY)),
])
def test_path_faults(answered: list[bool], faults: tuple[str, ...]) -> None:
    assert path_faults(answered) == faults


async def test_every_receiver_is_tested_every_half_interval() -> None:
    pool = FakePool()
    async with Running(directory(centre("pac", PRIMARY_AT, BACKUP_AT, supervision=180)), pool) as running:
        await running.rounds("pac", 1)
        assert pool.tested == [receiver(PRIMARY_AT), receiver(BACKUP_AT)]
        await running.advance(89)
        assert running.watch.rounds["pac"] == 1, "not before half the interval"
        await running.advance(1)
        await running.rounds("pac", 2)
        assert len(pool.tested) == 4
        assert running.reports.seen[-1] == (T0 + timedelta(seconds=90), "pac", (), True, None)


async def test_a_dead_primary_is_a_fault_within_one_interval_and_clears_when_it_answers() -> None:
    pool = FakePool()
    async with Running(directory(centre("pac", PRIMARY_AT, BACKUP_AT, supervision=180)), pool) as running:
        await running.rounds("pac", 1)
        await running.advance(1)
        pool.alive[receiver(PRIMARY_AT)] = False  # dies just after a test: the worst moment
        died = running.clock.now()
        while running.reports.last("pac") == ():
            # found within half the interval (which leaves the other half for the test's timeout)
            assert running.clock.now() - died <= timedelta(seconds=90), "not found within the interval"
            await running.advance(10)
        assert running.reports.last("pac") == (PRIMARY,)
        assert running.reports.seen[-1][3] is True, "the backup answers: alarms still get through"
        pool.alive[receiver(PRIMARY_AT)] = True
        await running.advance(90)
        assert running.reports.last("pac") == ()


async def test_no_receiver_answering_is_centre_down() -> None:
    pool = FakePool({receiver(PRIMARY_AT): False, receiver(BACKUP_AT): False})
    async with Running(directory(centre("pac", PRIMARY_AT, BACKUP_AT)), pool) as running:
        await running.rounds("pac", 1)
        assert running.reports.seen[-1][2:4] == ((DOWN, PRIMARY, BACKUP), False)


async def test_an_unusable_centre_says_why_and_is_tested_again() -> None:
    pool = FakePool(broken=CentreUnusable("the AES key of pac is not set: environment variable PAC_KEY"))
    async with Running(directory(centre("pac", PRIMARY_AT, key_env="PAC_KEY")), pool) as running:
        await running.rounds("pac", 1)
        _, _, faults, answering, note = running.reports.seen[-1]
        assert (faults, answering) == ((UNUSABLE,), False)
        assert note is not None and "PAC_KEY" in note
        pool.broken = None  # the key is set and the file reloaded: the next round finds the path
        await running.advance(90)
        assert running.reports.last("pac") == ()


async def test_a_crashing_link_test_counts_as_silent_and_supervision_goes_on() -> None:
    pool = FakePool({receiver(PRIMARY_AT): RuntimeError("a bug")})
    async with Running(directory(centre("pac", PRIMARY_AT, BACKUP_AT)), pool) as running:
        await running.rounds("pac", 1)
        assert running.reports.last("pac") == (PRIMARY,)
        assert running.watch.errors == 1
        del pool.alive[receiver(PRIMARY_AT)]
        await running.advance(90)
        await running.rounds("pac", 2)
        assert running.reports.last("pac") == ()


async def test_a_crashing_round_or_report_does_not_stop_supervision() -> None:
    pool = FakePool(broken=KeyError("unexpected"))
    async with Running(directory(centre("pac", PRIMARY_AT)), pool) as running:
        await running.rounds("pac", 1)
        assert running.reports.seen == [] and running.watch.errors == 1
        pool.broken = None
        await running.advance(90)
        await running.rounds("pac", 2)
        assert running.reports.last("pac") == ()


async def test_it_follows_a_reload() -> None:
    pool = FakePool()
    other = "127.0.0.1:7003"
    async with Running(directory(centre("pac", PRIMARY_AT)), pool) as running:
        await running.rounds("pac", 1)
        running.watch.reload(directory(centre("pac", other), centre("pac2", BACKUP_AT)))
        await running.rounds("pac", 2)  # changed: tested again at once, on its new receiver
        await running.rounds("pac2", 1)  # added: tested at once
        assert pool.tested[-2:] in ([receiver(other), receiver(BACKUP_AT)], [receiver(BACKUP_AT), receiver(other)])
        running.watch.reload(directory(centre("pac2", BACKUP_AT)))
        before = running.watch.rounds["pac"]
        await running.advance(90)
        await running.rounds("pac2", 2)
        assert running.watch.rounds["pac"] == before, "a removed centre is no longer tested"


# ---- the device watch's side -------------------------------------------------------------------------


class FakeStore:
    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []

    def save_device_batch(self, **batch: Any) -> list[Outgoing]:
        self.batches.append(batch)
        return [Outgoing(i, f"device:{n.subject}", n) for i, n in enumerate(batch["notices"])]


def devicewatch(directory: Directory, clock: FakeClock, store: FakeStore, sent: list[Outgoing]) -> DeviceWatch:
    async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(*args, **kwargs)

    def nothing(*_: Any) -> Awaitable[None] | None:
        return None

    return DeviceWatch(store=store, directory=directory, clock=clock, raise_alarm=nothing,  # type: ignore[arg-type]
                       pre_alert=nothing, send_notices=sent.extend, db=db)  # type: ignore[arg-type]


def notices(sent: list[Outgoing]) -> list[Notice]:
    assert all(isinstance(o.effect, Notice) for o in sent)
    return [o.effect for o in sent if isinstance(o.effect, Notice)]


async def test_path_faults_are_events_a_notice_and_a_row_of_the_board() -> None:
    found = directory(centre("pac", PRIMARY_AT, BACKUP_AT))
    clock, store, sent = FakeClock(T0), FakeStore(), []
    watch = devicewatch(found, clock, store, sent)
    watch.path_checked("pac", (), answering=True)
    assert await watch.flush()
    assert store.batches[-1]["events"] == [] and sent == []
    [row] = store.batches[-1]["facts"]
    assert (row.device_id, row.online, row.faults, row.last_seen_at) == ("pac", True, (), T0)

    await clock.advance(90)
    watch.path_checked("pac", (DOWN, PRIMARY, BACKUP), answering=False)
    assert await watch.flush()
    assert [(e[0], e[2], e[3]) for e in store.batches[-1]["events"]] == [
        ("pac", "fault_raised", {"fault": DOWN}), ("pac", "fault_raised", {"fault": PRIMARY}),
        ("pac", "fault_raised", {"fault": BACKUP})]
    [told] = notices(sent)
    assert told.recipient == "person:kees" and told.subject == "pac"
    assert told.text == ("Storing pac (Alarmcentrale pac): geen ontvanger bereikbaar, alarmen gaan naar de "
                                "terugvalroute, hoofdontvanger antwoordt niet, reserveontvanger antwoordt niet.")

    views = device_views(found, watch.facts())
    assert views[0].id == "pac", "faults first"
    path = views[0]
    assert (path.type, path.location, path.online, path.faults) == (
        "alarm_centre", f"{PRIMARY_AT}, {BACKUP_AT}", False, [DOWN, PRIMARY, BACKUP])
    assert path.last_heartbeat_at == T0, "when it last answered"

    await clock.advance(90)
    watch.path_checked("pac", (BACKUP,), answering=True)
    assert await watch.flush()
    assert [(e[2], e[3]) for e in store.batches[-1]["events"]] == [
        ("fault_cleared", {"fault": DOWN}), ("fault_cleared", {"fault": PRIMARY})]
    assert notices(sent)[-1].text.startswith("Hersteld pac (Alarmcentrale pac): geen ontvanger bereikbaar")


async def test_an_unusable_path_keeps_why_in_its_event() -> None:
    found = directory(centre("pac", PRIMARY_AT))
    clock, store, sent = FakeClock(T0), FakeStore(), []
    watch = devicewatch(found, clock, store, sent)
    watch.path_checked("pac", (UNUSABLE,), answering=False, note="PAC_KEY is not set")
    assert await watch.flush()
    [(_, _, kind, data)] = store.batches[-1]["events"]
    assert (kind, data) == ("fault_raised", {"fault": UNUSABLE, "note": "PAC_KEY is not set"})
    assert notices(sent)[0].text == "Storing pac (Alarmcentrale pac): verbinding niet bruikbaar, zie het logboek."


async def test_a_path_gone_from_the_file_leaves_the_board() -> None:
    clock, store, sent = FakeClock(T0), FakeStore(), []
    watch = devicewatch(directory(centre("pac", PRIMARY_AT)), clock, store, sent)
    watch.path_checked("pac", (DOWN, PRIMARY), answering=False)
    assert "pac" in watch.facts()
    fewer = directory()
    watch.reload(fewer)
    assert "pac" not in watch.facts()
    assert [v.id for v in device_views(fewer, watch.facts())] == ["knop", "pager-kees"]


def test_an_alarm_centre_may_not_have_a_devices_id() -> None:
    from escalation.references import check_references

    loaded = load_text(ORG.format(centres=centre("knop", PRIMARY_AT)))
    issues = check_references(loaded.organisation, loaded.lines)
    assert any("has the id of a device" in str(issue) for issue in issues), issues
