"""Sending what the core decided, without ever holding up the next decision.

Every message is an outbox row written with its decision. Here each row is delivered by its
channel in a task of its own: messages to one address keep their order (a device must see
`received` before `help_coming`), different addresses never wait on each other. Temporary
failures are retried with backoff; a page that still cannot go out after `page_give_up_after`
seconds, or fails for good, is reported back so the core moves that person to their next
route. Device feedback has no other route: it is retried until the broker takes it.

Two clocks: `clock` stamps what is stored (the service's clock); `waits` times the backoff,
the attempt timeouts and the give-up deadlines. They are the same clock, except where a test
holds the alarms' time still while networks and providers answer in real time.
Each row's `attempts` counts the sends this instance tried before it was delivered or given up.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

import structlog

from dispatcher.clock import Clock
from dispatcher.logs import error_line
from dispatcher.store.lease import LeaseLost
from dispatcher.store.repository import Outgoing
from escalation.channels import Channel, DeliveryFailure, FeedbackSender, TemporaryFailure
from escalation.notices import Feedback, Notice, Notify

log = structlog.get_logger("code4.outbox")
RECENT_REFS = 2000
MARK_SENT_EVERY_S = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float = 0.2
    max_delay: float = 5.0
    page_give_up_after: float = 15.0  # seconds before a stuck page moves to the next route
    attempt_timeout: float = 10.0  # a channel that hangs longer is a failed attempt, retried
    concurrency: int = 200


@dataclass(frozen=True)
class Undeliverable:
    """A notification that could not be delivered on its route."""

    uid: str
    page_id: str
    route: int
    purpose: str
    reason: str


T = TypeVar("T")


class OutboxStore(Protocol):
    """What the outbox needs of the store."""

    def unsent(self) -> list[Outgoing]: ...

    def mark_sent(self, ids: Iterable[int], at: datetime, refs: dict[int, str] | None = None,
                  attempts: Mapping[int, int] | None = None) -> None: ...

    def mark_failed(self, item_id: int, at: datetime, error: str, attempts: int = 1) -> None: ...


class DbCall(Protocol):
    """Runs a store call off the event loop (the engine's one writer)."""

    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]: ...


@dataclass(frozen=True)
class SentMarks:
    """Deliveries not recorded yet: the rows, the provider ids of some, the sends each took."""

    ids: list[int]
    refs: dict[int, str]
    attempts: dict[int, int]


@dataclass(frozen=True)
class _Tried:
    delivered: bool
    attempts: int
    ref: str | None = None  # the provider's id of what was delivered
    reason: str | None = None  # why it was not


def _jitter() -> float:
    return random.uniform(0.8, 1.2)


class OutboxSender:
    def __init__(
        self,
        *,
        db: DbCall,
        store: OutboxStore,
        channels: Mapping[str, Channel],
        feedback: FeedbackSender,
        on_undeliverable: Callable[[Undeliverable], None],
        clock: Clock,
        policy: RetryPolicy,
        waits: Clock | None = None,
        on_delivered: Callable[[str, Notify | Feedback | Notice], None] = lambda _uid, _effect: None,
        may_send: Callable[[], bool] = lambda: True,
        jitter: Callable[[], float] = _jitter,
    ) -> None:
        self._on_delivered = on_delivered
        self._may_send = may_send  # False once this instance no longer holds the dispatcher lease
        self._db = db
        self._store = store
        self._channels = channels
        self._feedback = feedback
        self._on_undeliverable = on_undeliverable
        self._clock = clock
        self._waits = waits or clock
        self._jitter = jitter  # spreads retries of many messages over time
        self._policy = policy
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._lanes: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sent: list[int] = []
        self._refs: dict[int, str] = {}  # provider ids of sent items not yet recorded
        self._attempts: dict[int, int] = {}  # sends each sent item took, not yet recorded
        # Provider ids per page, in memory until well after they are stored: a key pressed on
        # a call may come back before the call's sid is written.
        self.recent_refs: OrderedDict[str, set[str]] = OrderedDict()
        self._sent_flag = asyncio.Event()

    def submit(self, items: list[Outgoing]) -> None:
        for item in items:
            # Lanes are taken in submission order (asyncio locks are fair), so order per
            # address is the order of decisions.
            task = asyncio.get_running_loop().create_task(self._deliver(item), name=f"send-{item.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def resume(self) -> None:
        """Send what was decided but not sent before a restart (or by the instance that led
        before). Before any new decision: one taken meanwhile would be among the unsent too,
        and be sent twice."""
        self.submit(await self._db(self._store.unsent))

    async def run(self) -> None:
        """Record deliveries, in batches."""
        try:
            while True:
                await self._sent_flag.wait()
                # One write marks what was delivered meanwhile, not one write per message. A crash
                # in between sends those again after the restart: pages are at-least-once, and a
                # repeated page_id is an update, never a new call.
                await self._pause(MARK_SENT_EVERY_S)
                self._sent_flag.clear()
                try:
                    await self.flush()
                except LeaseLost:
                    raise
                except Exception as exc:  # the database away: the marks wait for the next round
                    self._sent_flag.set()
                    log.error("deliveries not recorded yet; trying again", error=error_line(exc),
                              messages=len(self._sent))
                    await self._pause(1.0)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def flush(self) -> None:
        # Ids leave the list only once stored: a flush cancelled at shutdown leaves them for
        # the final `pending_sent_marks`, so nothing delivered is sent again after a restart.
        ids = list(self._sent)
        if ids:
            refs = {i: self._refs[i] for i in ids if i in self._refs}
            attempts = {i: self._attempts.get(i, 1) for i in ids}
            await self._db(self._store.mark_sent, ids, self._clock.now(), refs, attempts)
            del self._sent[: len(ids)]
            for item_id in ids:
                self._refs.pop(item_id, None)
                self._attempts.pop(item_id, None)

    async def drain(self, limit: float) -> None:
        """Let deliveries under way finish (a page the broker has but has not acknowledged
        would otherwise be sent again after a restart), then record them."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=limit)
        await self.flush()

    def pending_sent_marks(self) -> SentMarks:
        return SentMarks(list(self._sent), dict(self._refs), {i: self._attempts.get(i, 1) for i in self._sent})

    async def _deliver(self, item: Outgoing) -> None:
        effect = item.effect
        lane = _lane(effect)
        async with self._lanes[lane], self._slots:
            with structlog.contextvars.bound_contextvars(alarm_id=item.alarm_uid):
                try:
                    await self._deliver_in_lane(item)
                except LeaseLost:
                    # Left unsent in the outbox: the instance that dispatches now sends it.
                    log.info("not sent: this instance no longer dispatches", what=_describe(effect))

    async def _deliver_in_lane(self, item: Outgoing) -> None:
        effect = item.effect
        if isinstance(effect, Notice):
            await self._deliver_notice(item, effect)
            return
        give_up = self._policy.page_give_up_after if isinstance(effect, Notify) else None
        budget = self._budget(effect)
        if budget is not None and give_up is not None:
            give_up = max(give_up, budget)
        tried = await self._attempt(partial(self._send, effect), _describe(effect), give_up, budget)
        if not tried.delivered:
            await self._give_up(item, tried.reason or "not delivered", tried.attempts)
            return
        if (ref := tried.ref) and isinstance(effect, Notify):
            self._refs[item.id] = ref
            self.recent_refs.setdefault(effect.page_id, set()).add(ref)
            self.recent_refs.move_to_end(effect.page_id)
            while len(self.recent_refs) > RECENT_REFS:
                self.recent_refs.popitem(last=False)
        self._record_sent(item, tried.attempts)

    async def _deliver_notice(self, item: Outgoing, notice: Notice) -> None:
        """Each route in turn (pager, then SMS) until one delivers."""
        reasons = []
        attempts = 0
        for route in notice.routes:
            what = f"notice about {notice.subject} to {notice.name} by {route.channel}"
            channel = self._channels.get(route.channel)
            if channel is None:
                reasons.append(f"{route.channel} is not configured")
                continue
            tried = await self._attempt(partial(channel.send_notice, notice, route), what,
                                        self._policy.page_give_up_after)
            attempts += tried.attempts
            if tried.delivered:
                self._record_sent(item, attempts)
                return
            reasons.append(f"{route.channel}: {tried.reason}")
            log.warning("notice not delivered; trying the next route", what=what, reason=tried.reason)
        await self._give_up(item, "; ".join(reasons) or "no route", attempts)

    def _budget(self, effect: Notify | Feedback) -> float | None:
        """A channel that retries by itself (DC-09: every receiver, every try) may say how long
        one send can take; cut short, it would be sent again from the start."""
        if not isinstance(effect, Notify):
            return None
        budget = getattr(self._channels.get(effect.route.channel), "time_budget", None)
        seconds = budget(effect) if callable(budget) else None
        return None if seconds is None else float(seconds) + 1.0

    async def _attempt(self, send: Callable[[], Awaitable[str | None]], what: str,
                       give_up_after: float | None, budget: float | None = None) -> _Tried:
        """Send until it works, fails for good, or (`give_up_after` seconds) takes too long.
        A channel that hangs is a failed attempt."""
        started = self._waits.monotonic()
        delay = self._policy.first_delay
        attempts = 0
        timeout = min(self._policy.attempt_timeout, give_up_after) if give_up_after else self._policy.attempt_timeout
        timeout = max(timeout, budget or 0.0)
        while True:
            attempts += 1
            if not self._may_send():
                raise LeaseLost("not sending: the dispatcher lease is not held")
            try:
                ref = await self._within(send, timeout)
            except DeliveryFailure as exc:
                return _Tried(False, attempts, reason=str(exc))
            except (TemporaryFailure, OSError, TimeoutError) as exc:
                error = str(exc) or f"no answer within {timeout:g} s"
                waited = self._waits.monotonic() - started
                if give_up_after is not None and waited >= give_up_after:
                    return _Tried(False, attempts, reason=f"no delivery after {waited:.0f} s: {error}")
                if attempts in (1, 5) or attempts % 20 == 0:
                    log.warning("delivery delayed, retrying", what=what, error=error, attempt=attempts)
                await self._pause(delay * self._jitter())
                delay = min(delay * 2, self._policy.max_delay)
                continue
            except Exception as exc:  # a bug in one channel must not stall an alarm
                log.exception("channel crashed", what=what)
                return _Tried(False, attempts, reason=f"internal error: {type(exc).__name__}")
            log.info("delivered", what=what, attempts=attempts)
            return _Tried(True, attempts, ref=ref)

    async def _within(self, send: Callable[[], Awaitable[T]], seconds: float) -> T:
        """`send()`, or TimeoutError (and `send` cancelled) once it takes `seconds`."""
        sending = asyncio.ensure_future(send())
        timer = asyncio.create_task(self._pause(seconds))
        try:
            await asyncio.wait({sending, timer}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            sending.cancel()
            raise
        finally:
            timer.cancel()
        if sending.done():
            return sending.result()
        sending.cancel()
        await asyncio.wait({sending})
        raise TimeoutError

    async def _pause(self, seconds: float) -> None:
        await self._waits.sleep_until(self._waits.now() + timedelta(seconds=seconds))

    def _record_sent(self, item: Outgoing, attempts: int) -> None:
        self._sent.append(item.id)
        self._attempts[item.id] = attempts
        self._sent_flag.set()
        self._on_delivered(item.alarm_uid, item.effect)

    @property
    def backlog(self) -> int:
        """Messages being delivered or waiting to be."""
        return len(self._tasks)

    async def _send(self, effect: Notify | Feedback) -> str | None:
        if isinstance(effect, Feedback):
            await self._feedback.send_feedback(effect)
            return None
        channel = self._channels.get(effect.route.channel)
        if channel is None:
            raise DeliveryFailure(f"channel {effect.route.channel} is not configured on this installation")
        return await channel.send(effect)

    async def _give_up(self, item: Outgoing, reason: str, attempts: int) -> None:
        effect = item.effect
        log.warning("delivery failed", what=_describe(effect), reason=reason, attempts=attempts)
        try:
            await self._db(self._store.mark_failed, item.id, self._clock.now(), reason, attempts)
        except LeaseLost:
            raise
        except Exception as exc:  # the database away: the core still hears of it; a restart tries again
            log.error("failed delivery not recorded", what=_describe(effect), error=error_line(exc))
        if isinstance(effect, Notify):
            self._on_undeliverable(Undeliverable(item.alarm_uid, effect.page_id, effect.route_index,
                                                 effect.purpose.value, reason))


def _lane(effect: Notify | Feedback | Notice) -> tuple[str, str]:
    if isinstance(effect, Feedback):
        return ("device", effect.device_id)
    if isinstance(effect, Notice):
        return ("notice", effect.recipient)
    if effect.route.channel == "alarm_centre":
        # In order per alarm (the alarm before its verification and its end), but one alarm's
        # retries on a silent receiver never hold up another alarm's.
        return (effect.route.channel, f"{effect.route.address}/{effect.message.alarm_uid}")
    return (effect.route.channel, effect.route.address)


def _describe(effect: Notify | Feedback | Notice) -> str:
    if isinstance(effect, Feedback):
        return f"feedback {effect.state.value} to {effect.device_id}"
    if isinstance(effect, Notice):
        return f"notice about {effect.subject} to {effect.name}"
    return f"{effect.purpose.value} to {effect.name} by {effect.route.channel}"
