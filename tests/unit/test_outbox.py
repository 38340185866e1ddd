"""The outbox on a fake clock, with a fake store and fake channels: unsent rows sent again after a
restart, backoff timed on the clock, order kept per address and never across addresses, and
what a failure does (the next route for a page, retries for ever for the device)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from dispatcher.clock import FakeClock
from dispatcher.outbox import OutboxSender, RetryPolicy, Undeliverable
from dispatcher.store.repository import Outgoing
from escalation.channels import DeliveryFailure, TemporaryFailure
from escalation.notices import Feedback, FeedbackState, Message, Notice, Notify, Purpose
from escalation.plan import Route, Where

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
T = TypeVar("T")
Outcome = Callable[[], Awaitable[str | None]]


@dataclass
class FakeStore:
    rows: list[Outgoing] = field(default_factory=list)
    sent: dict[int, tuple[datetime, str | None, int]] = field(default_factory=dict)  # id: (at, ref, attempts)
    failed: dict[int, tuple[datetime, str, int]] = field(default_factory=dict)  # id: (at, reason, attempts)

    def unsent(self) -> list[Outgoing]:
        return [r for r in self.rows if r.id not in self.sent and r.id not in self.failed]

    def mark_sent(self, ids: Iterable[int], at: datetime, refs: dict[int, str] | None = None,
                  attempts: Mapping[int, int] | None = None) -> None:
        for item_id in ids:
            self.sent[item_id] = (at, (refs or {}).get(item_id), (attempts or {}).get(item_id, 1))

    def mark_failed(self, item_id: int, at: datetime, error: str, attempts: int = 1) -> None:
        self.failed[item_id] = (at, error, attempts)


class FakeChannel:
    """Records each send with the clock's time; `plan` says what each send to an address does
    (in turn; the last one repeats): a provider id, an exception, or "hang"."""

    def __init__(self, clock: FakeClock, name: str) -> None:
        self.name = name
        self.clock = clock
        self.calls: list[tuple[datetime, str, str]] = []  # (at, address, page id or notice id)
        self.plan: dict[str, list[Any]] = {}
        self.release: dict[str, asyncio.Event] = {}

    async def _outcome(self, address: str, what: str) -> str | None:
        self.calls.append((self.clock.now(), address, what))
        steps = self.plan.get(address, ["ok"])
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, Exception):
            raise step
        if step == "hang":
            await asyncio.Event().wait()
        if step == "wait":
            await self.release.setdefault(address, asyncio.Event()).wait()
        return f"ref-{what}"

    async def send(self, notify: Notify) -> str | None:
        return await self._outcome(notify.route.address, notify.page_id)

    async def send_notice(self, notice: Notice, route: Route) -> None:
        await self._outcome(route.address, notice.notice_id)


class FakeDevices:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.failures = 0
        self.sent: list[tuple[datetime, str]] = []

    async def send_feedback(self, feedback: Feedback) -> None:
        if self.failures:
            self.failures -= 1
            raise TemporaryFailure("not connected to the broker")
        self.sent.append((self.clock.now(), feedback.state.value))


def page(item_id: int, address: str, channel: str = "pager") -> Outgoing:
    message = Message(alarm_uid="a-1", device_id="knop-1", kind="button", silent=False, where=Where(), step_id="bhv")
    notify = Notify(page_id=f"a-1.{item_id}", recipient="person:jan", name="Jan", language="nl", route_index=0,
                    route=Route(channel, address), purpose=Purpose.PAGE, message=message)
    return Outgoing(item_id, "a-1", notify)


def feedback(item_id: int, state: FeedbackState = FeedbackState.RECEIVED) -> Outgoing:
    return Outgoing(item_id, "a-1", Feedback("knop-1", "x1", state))


class Rig:
    def __init__(self, *, give_up: float = 15.0) -> None:
        self.clock = FakeClock(T0)
        self.store = FakeStore()
        self.pager = FakeChannel(self.clock, "pager")
        self.sms = FakeChannel(self.clock, "sms")
        self.devices = FakeDevices(self.clock)
        self.undeliverable: list[Undeliverable] = []
        self.sender = OutboxSender(
            db=self.db, store=self.store, channels={"pager": self.pager, "sms": self.sms}, feedback=self.devices,
            on_undeliverable=self.undeliverable.append, clock=self.clock,
            policy=RetryPolicy(first_delay=1.0, max_delay=4.0, page_give_up_after=give_up, attempt_timeout=3.0),
            jitter=lambda: 1.0,
        )

    async def db(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return fn(*args, **kwargs)

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float, step: float = 0.5) -> None:
        """Time passes in small steps, so every wait on the way wakes in turn."""
        await self.settle()
        for _ in range(round(seconds / step)):
            await self.clock.advance(step)
            await self.settle()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_unsent_rows_are_sent_after_a_restart_in_their_order_and_recorded() -> None:
    rig = Rig()
    rig.store.rows = [page(1, "pager-1"), page(2, "pager-1"), feedback(3)]
    rig.store.sent[2] = (T0, None, 1)  # sent before the restart: not again
    await rig.sender.resume()
    await rig.settle()
    assert [(a, w) for _, a, w in rig.pager.calls] == [("pager-1", "a-1.1")]
    assert rig.devices.sent == [(T0, "received")]
    await rig.clock.advance(7)
    await rig.sender.flush()
    assert rig.store.sent[1] == (at(7), "ref-a-1.1", 1) and rig.store.sent[3] == (at(7), None, 1)
    assert rig.sender.recent_refs["a-1.1"] == {"ref-a-1.1"}
    assert rig.sender.pending_sent_marks().ids == []


async def test_temporary_failures_back_off_on_the_clock_and_count_as_attempts() -> None:
    rig = Rig(give_up=60)
    rig.pager.plan["pager-1"] = [TemporaryFailure("busy")] * 4 + ["ok"]
    rig.sender.submit([page(1, "pager-1")])
    await rig.advance(30)
    # 1 s, then doubling up to the 4 s ceiling
    assert [when for when, _, _ in rig.pager.calls] == [at(0), at(1), at(3), at(7), at(11)]
    marks = rig.sender.pending_sent_marks()
    assert (marks.ids, marks.attempts, marks.refs) == ([1], {1: 5}, {1: "ref-a-1.1"})
    await rig.sender.flush()
    assert rig.store.sent[1] == (at(30), "ref-a-1.1", 5)


async def test_a_page_that_cannot_go_out_in_time_is_given_up_and_reported() -> None:
    rig = Rig(give_up=5)
    rig.pager.plan["pager-1"] = [TemporaryFailure("busy")]
    rig.sender.submit([page(1, "pager-1")])
    await rig.advance(10)
    assert [when for when, _, _ in rig.pager.calls] == [at(0), at(1), at(3), at(7)]
    failed_at, reason, attempts = rig.store.failed[1]
    assert (failed_at, attempts) == (at(7), 4) and reason.startswith("no delivery after 7 s: busy")
    assert rig.undeliverable == [Undeliverable("a-1", "a-1.1", 0, "page", reason)]
    assert 1 not in rig.store.sent and rig.sender.backlog == 0


async def test_a_failure_for_good_is_reported_at_once() -> None:
    rig = Rig()
    rig.pager.plan["pager-1"] = [DeliveryFailure("unknown pager")]
    rig.sender.submit([page(1, "pager-1"), page(2, "nowhere", channel="app")])
    await rig.settle()
    assert rig.store.failed == {1: (T0, "unknown pager", 1),
                                2: (T0, "channel app is not configured on this installation", 1)}
    assert [u.page_id for u in rig.undeliverable] == ["a-1.1", "a-1.2"]


async def test_a_channel_that_hangs_times_out_on_the_clock_and_is_tried_again() -> None:
    rig = Rig()
    rig.pager.plan["pager-1"] = ["hang", "ok"]
    rig.sender.submit([page(1, "pager-1")])
    await rig.advance(2.5)
    assert len(rig.pager.calls) == 1
    await rig.advance(2)  # timed out at 3 s, tried again 1 s later
    assert [when for when, _, _ in rig.pager.calls] == [at(0), at(4)]
    assert rig.sender.pending_sent_marks().attempts == {1: 2}


async def test_one_address_keeps_its_order_and_others_do_not_wait() -> None:
    rig = Rig(give_up=60)
    rig.pager.plan["pager-1"] = [TemporaryFailure("busy"), "ok"]
    rig.sender.submit([page(1, "pager-1"), page(2, "pager-1"), page(3, "pager-2")])
    await rig.settle()
    assert [(w, when) for when, _, w in rig.pager.calls] == [("a-1.1", T0), ("a-1.3", T0)]
    await rig.advance(1)
    assert [w for _, _, w in rig.pager.calls] == ["a-1.1", "a-1.3", "a-1.1", "a-1.2"]
    assert rig.sender.pending_sent_marks().ids == [3, 1, 2]


async def test_device_feedback_is_retried_until_the_broker_takes_it() -> None:
    rig = Rig(give_up=2)
    rig.devices.failures = 6
    rig.sender.submit([feedback(1), feedback(2, FeedbackState.HELP_COMING)])
    await rig.advance(30)
    # six refusals, 1+2+4+4+4+4 s of backoff; what follows waits its turn
    assert rig.devices.sent == [(at(19), "received"), (at(19), "help_coming")]
    assert rig.sender.pending_sent_marks().attempts == {1: 7, 2: 1}
    assert rig.store.failed == {}


async def test_a_notice_moves_to_its_next_route() -> None:
    rig = Rig(give_up=2)
    rig.pager.plan["pager-9"] = [TemporaryFailure("broker away")]
    notice = Notice("n-1", "person:kees", "Kees", (Route("pager", "pager-9"), Route("sms", "person:kees")),
                    "Storing", "Hal", "knop-1")
    rig.sender.submit([Outgoing(1, "device:knop-1", notice)])
    await rig.advance(5)
    assert [when for when, _, _ in rig.pager.calls] == [at(0), at(1), at(3)]
    assert [(when, address) for when, address, _ in rig.sms.calls] == [(at(3), "person:kees")]
    assert rig.sender.pending_sent_marks().attempts == {1: 4}


async def test_deliveries_are_recorded_in_batches_by_run() -> None:
    rig = Rig()
    running = asyncio.create_task(rig.sender.run())
    rig.sender.submit([page(1, "pager-1"), page(2, "pager-2")])
    await rig.settle()
    assert rig.store.sent == {}
    await rig.advance(0.5, step=0.1)
    assert set(rig.store.sent) == {1, 2} and rig.store.sent[1][0] == at(0.1)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
