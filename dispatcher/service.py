"""The service loop: device messages, timers and failures in; decisions stored; messages out.

One task takes everything waiting in the inbox (alarms, cancels and deadlines first, then
answers and the rest), runs each event through the core in order, stores all their decisions
in one transaction (group commit), and only then hands their messages to the outbox: `received`
leaves only after the commit that holds the alarm. A batch is one event when it is quiet and
grows with the load, so latency stays low and throughput grows.

The database is the truth; the alarms in memory are a cache of it, rebuilt at start-up, so a
restart continues every alarm where it was and fires any deadline that passed meanwhile. Every
write names the version of the alarm it read: if another writer changed it, nothing of the
batch is stored, the alarm is read again and the batch decided afresh.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

from devices.kinds import AlarmKind
from devices.protocol import UNREADABLE_ALARM_ID, AlarmPayload, CancelPayload, DeviceMessage, ResponsePayload
from dispatcher.clock import Clock, SystemClock
from dispatcher.core import (
    AlarmRaised,
    AlarmState,
    CancelRequested,
    CentreAttempt,
    CentreReported,
    DeadlineReached,
    DeliveryFailed,
    Effect,
    Event,
    IllegalTransition,
    Page,
    PageStatus,
    Position,
    Pressed,
    Responded,
    Response,
    Timeline,
    decide,
)
from dispatcher.inbox import Inbox
from dispatcher.logs import error_line
from dispatcher.metrics import EngineMetrics
from dispatcher.outbox import OutboxSender, RetryPolicy, Undeliverable
from dispatcher.store.codec import dump_event, load_event
from dispatcher.store.lease import LeaseLost
from dispatcher.store.repository import AlarmWrite, Outgoing, StaleWrite, Store
from dispatcher.timers import Timers
from escalation.alarm_centre.channel import Transmission
from escalation.channels import Channel, FeedbackSender
from escalation.directory import Directory
from escalation.ids import PageId
from escalation.pins import PinDigests
from escalation.plan import Where
from escalation.planning import Presence, emergency_plan, plan_alarm

log = structlog.get_logger("code4.dispatcher")
T = TypeVar("T")

# A closed alarm's (device, alarm id, press) is still recognised as a repeat for this long.
REDELIVERY_WINDOW = timedelta(minutes=10)
# Timeline kinds an operator must act on are logged as warnings.
WARN = {"unknown_device", "unreadable_alarm", "step_skipped", "unanswered", "repeated", "channel_failed", "unreachable",
        "cancel_refused", "duress", "severe", "new_press"}


@dataclass(frozen=True)
class DeadlineDue:
    uid: str
    timer: int
    due: datetime  # when it was due: how late it fires is measured


@dataclass(frozen=True)
class RaiseAlarm:
    """An alarm code4 raises for a device itself (a missed check-in)."""

    device_id: str
    alarm_id: str
    kind: AlarmKind
    position: Position | None
    note: str | None


@dataclass(frozen=True)
class AlarmCommand:
    """An event for a known alarm from inside code4 (operator actions, tests)."""

    uid: str
    event: Event
    done: asyncio.Future[AlarmState | None]
    strict: bool = False  # a refusal raises IllegalTransition to the caller instead of giving None


class NotDispatching(Exception):
    """This instance does not dispatch (a standby): the request belongs on the leader."""


Inbound = DeviceMessage | DeadlineDue | Undeliverable | Transmission | AlarmCommand | RaiseAlarm
URGENT, ANSWERS = 0, 1  # the inbox's lanes: alarms, cancels and deadlines first; then answers and the rest
BATCH = 256  # events decided and committed together at most
LATE = timedelta(milliseconds=50)  # a deadline decided later than this is logged as late
CHECKPOINT_EVERY_S = 1.0  # SQLite's log is copied into the database this often
FOLLOW_EVERY_S = 1.0  # a standby reads the alarms from the database this often
RELAY_POLL_S = 0.1  # the leader looks for actions relayed from standbys this often
RELAY_WAIT_S = 10.0  # a standby waits this long for the leader to carry an action out


@dataclass
class _Batch:
    """Decisions taken but not yet stored: the states they made (which later events of the
    batch see), each alarm's effects in order, and what to tell whom once committed."""

    writes: dict[str, AlarmWrite] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    decided: list[tuple[AlarmState, list[Effect]]] = field(default_factory=list)
    replies: list[tuple[AlarmCommand, AlarmState | None, IllegalTransition | None]] = field(default_factory=list)
    late: list[tuple[str, float]] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # alarms whose decisions could not be stored

    def stage(self, state: AlarmState, effects: list[Effect], expected: int | None) -> None:
        earlier = self.writes.get(state.uid)
        if earlier is None:
            self.writes[state.uid] = AlarmWrite(state, list(effects), expected)
        else:
            self.writes[state.uid] = AlarmWrite(state, earlier.effects + effects, earlier.expected)
        self.keys[(state.device_id, state.device_alarm_id)] = state.uid
        self.decided.append((state, effects))


def new_alarm_uid(now: datetime) -> str:
    """Short, sortable, readable over the phone: a-20261123-k3x9q."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return f"{alarm_day(now)}-" + "".join(secrets.choice(alphabet) for _ in range(5))


def centre_reported(item: Transmission) -> CentreReported:
    """The alarm-centre channel's report as the core's event."""
    notify = item.notify
    attempts = tuple(CentreAttempt(str(a.receiver), a.sequence, a.outcome.value, a.at, a.detail)
                     for a in item.delivery.attempts)
    return CentreReported(notify.page_id, notify.route_index, notify.purpose.value, item.event, attempts,
                          item.delivery.delivered)


def _alarm_of(page_id: str) -> str:
    """The alarm a page id names; text that is no page id names no alarm."""
    try:
        return PageId.parse(page_id).alarm_uid
    except ValueError:
        return page_id  # the lookup finds nothing, as for any unknown page


def alarm_day(now: datetime) -> str:
    """What every alarm id of that day starts with."""
    return f"a-{now:%Y%m%d}"


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        clock: Clock,
        channels: Mapping[str, Channel],
        feedback: FeedbackSender,
        retry: RetryPolicy | None = None,
        new_uid: Callable[[datetime], str] = new_alarm_uid,
        listeners: Sequence[Callable[[AlarmState], None]] = (),
        pins: PinDigests,
        last_position: Callable[[str], Position | None] = lambda _: None,
        visit_note: Callable[[str], str | None] = lambda _: None,
        metrics: EngineMetrics | None = None,
        may_send: Callable[[], bool] = lambda: True,
        approach_for: Callable[[Where, datetime], str | None] = lambda *_: None,
        presence_at: Callable[[datetime], Presence] | None = None,
    ) -> None:
        self._pins = pins
        self._presence_at = presence_at  # who is present where (from memory, never waits)
        self._approach_for = approach_for  # an agreed approach for a known visitor (from memory, never waits)
        self.measure = metrics or EngineMetrics()
        self._taken_in = 0.0  # when the item being decided was taken in (monotonic)
        self._store = store
        self._directory = directory
        self._clock = clock
        self._new_uid = new_uid
        self._uids_taken: tuple[str, set[str]] = ("", set())  # (day prefix, alarm ids of that day)
        self._listeners = list(listeners)
        self._last_position = last_position
        self._visit_note = visit_note  # a running lone-worker visit's note (its address), from memory
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="code4-db")
        self.inbox: Inbox[Inbound] = Inbox(lanes=2)
        self._open: dict[str, AlarmState] = {}
        self._open_keys: dict[tuple[str, str], str] = {}
        self._closed: dict[str, AlarmState] = {}
        self._closed_keys: dict[tuple[str, str], str] = {}
        self._versions: dict[str, int] = {}  # the stored version of each alarm in memory
        self._batch: _Batch | None = None  # decisions of the batch being decided, not yet stored
        self._deadlines: Timers[str] = Timers(clock)  # each open alarm's current deadline
        self.metrics: Counter[str] = Counter()
        self.ready = asyncio.Event()
        self._sender = OutboxSender(
            db=self._db, store=store, channels=channels, feedback=feedback,
            on_undeliverable=self._undeliverable, clock=clock, policy=retry or RetryPolicy(),
            # Retries wait for networks and providers: real time, even when a test holds the alarms' clock still.
            waits=SystemClock(),
            on_delivered=self.measure.delivered, may_send=may_send,
        )

    # ---- running --------------------------------------------------------------------------

    async def run(self) -> None:
        await self._recover()
        await self._sender.resume()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._consume(), name="dispatcher-events")
                tasks.create_task(self._timers(), name="dispatcher-timers")
                tasks.create_task(self._sender.run(), name="dispatcher-outbox")
                if self._store.is_sqlite:
                    tasks.create_task(self._checkpoints(), name="sqlite-checkpoints")
                else:  # several instances may run: carry out what standbys were asked
                    tasks.create_task(self._carry_out_relayed(), name="relayed-actions")
                self.ready.set()
        finally:
            # Record what was delivered, so a restart does not send it again.
            marks = self._sender.pending_sent_marks()
            if marks.ids:
                try:
                    # On the event loop, at the end: nothing else is left to hold up.
                    self._store.mark_sent(marks.ids, self._clock.now(), marks.refs, marks.attempts)
                except Exception as exc:  # lease lost, or the database away
                    log.warning("deliveries not recorded: they are sent once more by whoever dispatches next "
                                "(pages are at-least-once)", messages=len(marks.ids), error=error_line(exc))

    async def _checkpoints(self) -> None:
        """SQLite's log copied into the database once a second, beside the writer (never in a commit)."""
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY_S)
            try:
                await asyncio.to_thread(self._store.checkpoint)
            except Exception as exc:  # a busy database is no reason to stop: next time
                log.warning("database checkpoint skipped", error=error_line(exc))

    def close(self) -> None:
        """After the last writes (the device watch's final flush): the writer thread ends."""
        self._executor.shutdown(wait=True, cancel_futures=False)

    async def _recover(self) -> None:
        for memory in (self._open, self._open_keys, self._closed, self._closed_keys, self._versions):
            memory.clear()  # what a standby followed is read afresh
        for state, version in await self._db(self._store.open_alarm_versions):
            self._remember(state, version)
        since = self._clock.now() - REDELIVERY_WINDOW
        for state, version in await self._db(self._store.closed_since, since):
            self._remember(state, version)
        await self._load_uids_taken()
        overdue = [s.uid for s in self._open.values() if s.deadline and s.deadline <= self._clock.now()]
        log.info("dispatcher started", open_alarms=len(self._open), overdue_deadlines=len(overdue),
                 database=self._store.description)

    @property
    def outbox_backlog(self) -> int:
        return self._sender.backlog

    def send(self, outgoing: list[Outgoing]) -> None:
        """Stored messages from elsewhere (the device watch's notices) out through the outbox."""
        self._sender.submit(outgoing)

    async def drain(self, limit: float = 5.0) -> None:
        """Before a planned stop: finish sending what is under way."""
        await self._sender.drain(limit)

    def reload(self, directory: Directory) -> None:
        """New alarms use the new file; running alarms keep the plan they started with."""
        self._directory = directory
        log.info("agreements reloaded", organisation=directory.org.organisation,
                 running_alarms_unchanged=len(self._open))

    @property
    def directory(self) -> Directory:
        return self._directory

    def open_alarms(self) -> list[AlarmState]:
        return list(self._open.values())

    async def alarm(self, uid: str) -> AlarmState | None:
        return self._known(uid) or await self._db(self._store.alarm, uid)

    def answerable(self, address: str) -> list[tuple[AlarmState, Page]]:
        """Per open alarm, the latest page sent to `address` (a recipient key, the address of
        phone routes) that is still waiting for an answer or was accepted: what an SMS from
        that recipient's number can answer."""
        found = []
        for state in self._open.values():
            pages = [p for p in state.pages if p.status in (PageStatus.PENDING, PageStatus.ACCEPTED)
                     and any(r.address == address for r in p.routes)]
            if pages:
                found.append((state, pages[-1]))
        return sorted(found, key=lambda pair: pair[0].raised_at)

    async def calls_placed(self, page_id: str) -> set[str]:
        """Twilio's ids of the calls placed for this page: a key pressed counts only on those."""
        uid = _alarm_of(page_id)
        stored = await asyncio.to_thread(self._store.provider_refs, uid, page_id)
        return stored | self._sender.recent_refs.get(page_id, set())

    def put(self, item: Inbound) -> None:
        """Queue an event; never waits (the MQTT loop calls this)."""
        if isinstance(item, DeviceMessage):
            urgent = item.kind in ("alarm", "cancel")
        else:
            urgent = isinstance(item, DeadlineDue | RaiseAlarm)
        self.inbox.put(item, URGENT if urgent else ANSWERS)

    async def submit(self, item: Inbound) -> None:
        """From the API and webhooks. On a standby a delivery failure is relayed to the instance
        that dispatches; anything else is refused."""
        if not self.ready.is_set():
            if isinstance(item, Undeliverable) and not self._store.is_sqlite:
                await asyncio.to_thread(self._store.relay, item.uid, "undeliverable", asdict(item), False,
                                        self._clock.now())
                return
            raise NotDispatching("this code4 instance is a standby; another one dispatches")
        self.put(item)

    async def command(self, uid: str, event: Event, *, strict: bool = False) -> AlarmState | None:
        """Run an event for an alarm through the loop; returns its new state. A refusal gives
        None, or with `strict` raises the IllegalTransition that says why; no such alarm is None.
        On a standby the event is relayed to the instance that dispatches, and its outcome awaited."""
        if not self.ready.is_set():
            if self._store.is_sqlite:
                raise NotDispatching("this code4 instance does not dispatch")
            return await self._relayed(uid, event, strict)
        done: asyncio.Future[AlarmState | None] = asyncio.get_running_loop().create_future()
        await self.submit(AlarmCommand(uid, event, done, strict))
        return await done

    # ---- on a standby, and between instances --------------------------------------------------

    async def follow(self) -> None:
        """As a standby: keep the alarms as the dispatching instance stored them (open ones and
        those closed lately), and tell the listeners (the board's live feed) what changed."""
        while True:
            try:
                since = self._clock.now() - REDELIVERY_WINDOW
                stored = await asyncio.to_thread(self._store.open_alarm_versions)
                stored += await asyncio.to_thread(self._store.closed_since, since)
                for state, version in stored:
                    if self._versions.get(state.uid) != version:
                        self._remember(state, version)
                        self._tell_listeners(state)
            except Exception as exc:  # the database away: the next round
                log.warning("standby could not read the alarms", error=error_line(exc))
            await asyncio.sleep(FOLLOW_EVERY_S)

    async def _relayed(self, uid: str, event: Event, strict: bool) -> AlarmState | None:
        """As a standby: store the event for the dispatching instance and wait for its outcome."""
        command_id = await asyncio.to_thread(self._store.relay, uid, "event", dump_event(event), strict,
                                             self._clock.now())
        waited_until = time.monotonic() + RELAY_WAIT_S
        while (outcome := await asyncio.to_thread(self._store.relayed_outcome, command_id)) is None:
            if time.monotonic() > waited_until:
                log.error("relayed action not carried out yet: no instance dispatches just now", alarm_id=uid,
                          action=type(event).__name__)
                raise NotDispatching("no code4 instance dispatches just now; the action is kept and carried out "
                                     "when one does")
            await asyncio.sleep(RELAY_POLL_S / 2)
        if outcome["result"] == "unknown":
            return None
        found = await asyncio.to_thread(self._store.alarm_version, uid)  # as the leader left it, not as followed
        state = found[0] if found else None
        if found is not None and self._versions.get(uid) != found[1]:
            self._remember(*found)
            self._tell_listeners(found[0])
        if outcome["result"] == "refused":
            if strict:
                raise IllegalTransition(state.status if state else None, event, str(outcome["reason"]),
                                        security=bool(outcome.get("security")))
            return None
        return state

    async def _carry_out_relayed(self) -> None:
        """As the leader: what standbys were asked, through the same loop as everything else."""
        while True:
            await asyncio.sleep(RELAY_POLL_S)
            try:
                waiting = await asyncio.to_thread(self._store.take_relayed, self._clock.now())
            except LeaseLost:
                raise
            except Exception as exc:  # the database away: the next round
                log.warning("relayed actions not read", error=error_line(exc))
                continue
            for relayed in waiting:
                outcome = await self._carry_out(relayed.alarm_uid, relayed.kind, relayed.payload)
                try:
                    await asyncio.to_thread(self._store.finish_relayed, relayed.id, outcome, self._clock.now())
                except LeaseLost:
                    raise
                except Exception:
                    log.exception("outcome of a relayed action not stored", alarm_id=relayed.alarm_uid)

    async def _carry_out(self, uid: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with structlog.contextvars.bound_contextvars(alarm_id=uid):
            try:
                if kind == "undeliverable":
                    self.put(Undeliverable(**payload))
                    return {"result": "done"}
                event = load_event(payload)
                log.info("carrying out an action taken on a standby", action=type(event).__name__)
                state = await self.command(uid, event, strict=True)
            except IllegalTransition as exc:
                return {"result": "refused", "reason": exc.reason, "security": exc.security}
            except Exception:  # unreadable or unexpected: answered, never retried for ever
                log.exception("relayed action could not be carried out")
                return {"result": "refused", "reason": "the action could not be carried out", "security": False}
            return {"result": "done" if state is not None else "unknown"}

    def _tell_listeners(self, state: AlarmState) -> None:
        for listener in self._listeners:
            try:
                listener(state)
            except Exception:
                log.exception("a change listener failed", alarm_id=state.uid)

    # ---- the event loop ----------------------------------------------------------------------

    async def _consume(self) -> None:
        while True:
            taken = await self.inbox.take(BATCH)
            now = self._clock.now()
            batch = self._batch = _Batch()
            for taken_in, item, _ in taken:
                self._taken_in = taken_in
                try:
                    await self._handle(item, now)
                except Exception:  # one event must never stop the loop
                    self.metrics["handler_errors"] += 1
                    log.exception("event handling failed", item=type(item).__name__)
                    if isinstance(item, AlarmCommand):
                        batch.replies.append((item, None, None))
            self._batch = None
            try:
                await self._commit(batch, now)
            except StaleWrite as exc:
                # Another writer changed these alarms: read them again and decide the batch afresh.
                self.metrics["stale_writes"] += 1
                log.error("alarms changed since they were read; deciding again from fresh state", alarms=exc.uids)
                for uid in exc.uids:
                    await self._reload(uid)
                self.inbox.put_back(taken)
                continue
            for command, result, refused in batch.replies:
                if command.done.done():
                    continue
                if result is not None and result.uid in batch.failed:
                    command.done.set_result(None)
                elif refused is not None:
                    command.done.set_exception(refused)
                else:
                    command.done.set_result(result)

    async def _handle(self, item: Inbound, now: datetime) -> None:
        if isinstance(item, DeviceMessage):
            with structlog.contextvars.bound_contextvars(device_id=item.device_id):
                if isinstance(item.payload, AlarmPayload):
                    unreadable = item.problem if item.payload.alarm_id == UNREADABLE_ALARM_ID else None
                    self._on_alarm(item.device_id, item.payload, now, unreadable=unreadable)
                elif isinstance(item.payload, CancelPayload):
                    self._on_cancel(item.device_id, item.payload, now)
                elif isinstance(item.payload, ResponsePayload):
                    await self._on_response(item.device_id, item.payload, now)
        elif isinstance(item, DeadlineDue):
            state = self._known(item.uid)
            if state is not None and state.is_open and state.timer == item.timer:
                late = (now - item.due).total_seconds()
                assert self._batch is not None
                self._batch.late.append((item.uid, late))
                self._apply(state, DeadlineReached(item.timer), now)
        elif isinstance(item, RaiseAlarm):
            with structlog.contextvars.bound_contextvars(device_id=item.device_id):
                self._open_alarm(item.device_id, item.alarm_id, 1, item.kind, True, item.position, None,
                                 now, note=item.note)
        elif isinstance(item, Transmission | Undeliverable):
            self._on_delivery(item, now)
        else:
            state = await self._fetch(item.uid)
            assert self._batch is not None
            try:
                result = self._apply(state, item.event, now, strict=item.strict) if state else None
            except IllegalTransition as exc:
                self._batch.replies.append((item, None, exc))
                return
            self._batch.replies.append((item, result, None))

    def _on_delivery(self, item: Transmission | Undeliverable, now: datetime) -> None:
        """What a channel reports back: an alarm centre's tries, or a notification it gave up on."""
        if isinstance(item, Transmission):
            state = self._known(item.notify.message.alarm_uid)
            if state is not None:
                self._apply(state, centre_reported(item), now)
            return
        state = self._known(item.uid)
        if state is not None:
            self._apply(state, DeliveryFailed(item.page_id, item.route, item.purpose, item.reason), now)

    def _on_alarm(self, device_id: str, payload: AlarmPayload, now: datetime, *,
                  unreadable: str | None = None) -> None:
        key = (device_id, payload.alarm_id)
        state = self._state_for_key(key)
        if state is not None and (state.is_open or (payload.press <= state.press and _recent(state, now))):
            self._apply(state, Pressed(payload.press), now)
            return
        position = Position(**payload.position.model_dump()) if payload.position else None
        self._open_alarm(device_id, payload.alarm_id, payload.press, payload.kind, payload.silent, position,
                         payload.ts, now, unreadable=unreadable)

    def _open_alarm(self, device_id: str, alarm_id: str, press: int, kind: AlarmKind, silent: bool,
                    position: Position | None, device_time: datetime | None, now: datetime, *,
                    note: str | None = None, unreadable: str | None = None) -> None:
        uid = self._fresh_uid(now)
        with structlog.contextvars.bound_contextvars(alarm_id=uid):
            # A mobile alarm without a position carries the last one it reported.
            position = position or self._last_position(device_id)
            # … and a press during a visit the visit's note: the address help and the police go to.
            note = note or self._visit_note(device_id)
            zone = position.zone if position else None
            try:
                plan = plan_alarm(self._directory, device_id=device_id, kind=kind, zone_ref=zone, now=now,
                                  pins=self._pins, present=self._present(now))
            except Exception:
                log.exception("planning failed; the alarm opens for the control room without a chain")
                plan = emergency_plan(self._directory.org.organisation, device_id)
            event = AlarmRaised(uid, device_id, alarm_id, press, kind, silent, plan, position, device_time, note,
                                unreadable, self._approach(plan.where, now))
            self._apply(None, event, now)

    def _present(self, now: datetime) -> Presence | None:
        """Who is present now, frozen into the plan. A failing lookup pages everyone a
        `present: true` target names rather than nobody."""
        if self._presence_at is None:
            return frozenset()
        try:
            return self._presence_at(now)
        except Exception:
            self.metrics["presence_lookup_errors"] += 1
            log.exception("presence lookup failed; present-only targets page everyone they name")
            return None

    def _approach(self, where: Where, now: datetime) -> str | None:
        """The agreed approach for a known visitor of this place now, if any. A failing lookup
        never holds up the alarm: it goes out without the note."""
        try:
            return self._approach_for(where, now)
        except Exception:
            self.metrics["approach_lookup_errors"] += 1
            log.exception("approach lookup failed; the alarm goes out without an agreed approach")
            return None

    def _fresh_uid(self, now: datetime) -> str:
        """An alarm id no alarm of the day has: five letters give 28 million a day, so a busy day
        would otherwise draw one twice, and the second alarm could not be stored."""
        day = alarm_day(now)
        if self._uids_taken[0] != day:
            self._uids_taken = (day, set())
        taken = self._uids_taken[1]
        for _ in range(1000):
            uid = self._new_uid(now)
            if uid not in taken:
                taken.add(uid)
                return uid
        raise RuntimeError(f"no free alarm id left for {day}")

    async def _load_uids_taken(self) -> None:
        day = alarm_day(self._clock.now())
        self._uids_taken = (day, set(await self._db(self._store.alarm_uids, f"{day}-")))

    def _on_cancel(self, device_id: str, payload: CancelPayload, now: datetime) -> None:
        state = self._state_for_key((device_id, payload.alarm_id))
        if state is None:
            self.metrics["cancel_unknown_alarm"] += 1
            log.warning("cancel for an alarm code4 does not know", device_alarm_id=payload.alarm_id)
            return
        digest = self._pins(device_id, payload.pin) if payload.pin else None
        self._apply(state, CancelRequested(digest), now)

    async def _on_response(self, device_id: str, payload: ResponsePayload, now: datetime) -> None:
        state = await self._fetch(_alarm_of(payload.page_id))
        if state is None:
            self.metrics["response_unknown_page"] += 1
            log.warning("answer to a page code4 does not know", page_id=payload.page_id)
            return
        self._apply(state, Responded(payload.page_id, Response(payload.response), "pager", device_id), now)

    def _known(self, uid: str) -> AlarmState | None:
        """The alarm as decided so far: in the batch being decided, else as stored."""
        if self._batch is not None and (write := self._batch.writes.get(uid)) is not None:
            return write.state
        return self._open.get(uid) or self._closed.get(uid)

    def _state_for_key(self, key: tuple[str, str]) -> AlarmState | None:
        uid = (self._batch.keys.get(key) if self._batch else None) or self._open_keys.get(key) \
            or self._closed_keys.get(key)
        return self._known(uid) if uid else None

    async def _fetch(self, uid: str) -> AlarmState | None:
        """An alarm to decide on: from memory, else (an older closed one) from the database."""
        return self._known(uid) or await self._reload(uid)

    async def _reload(self, uid: str) -> AlarmState | None:
        found = await self._db(self._store.alarm_version, uid)
        if found is None:
            return None
        state, version = found
        self._remember(state, version)
        return state

    # ---- deciding and storing ------------------------------------------------------------------

    def _apply(
        self, state: AlarmState | None, event: Event, now: datetime, *, strict: bool = False
    ) -> AlarmState | None:
        """Decide, and stage the decision in the batch: it is stored with the batch, and only
        then does anything leave."""
        uid = state.uid if state else getattr(event, "uid", "?")
        with structlog.contextvars.bound_contextvars(alarm_id=uid):
            try:
                new_state, effects = decide(state, event, now)
            except IllegalTransition as exc:
                self.metrics["refused_events"] += 1
                level = log.warning if exc.security else log.info
                level("event refused", refused=type(event).__name__, reason=exc.reason, security=exc.security)
                if strict:
                    raise
                return None
        assert self._batch is not None
        self._batch.stage(new_state, effects, None if state is None else self._versions.get(new_state.uid, 1))
        if state is None:
            self.measure.pressed(new_state.uid, self._taken_in)
        return new_state

    async def _commit(self, batch: _Batch, now: datetime) -> None:
        """Store the batch in one transaction, then let its messages go, in decision order."""
        if not batch.writes:
            return
        writes = list(batch.writes.values())
        started = time.monotonic()
        try:
            outgoing = await self._store_decisions(writes, now)
            self.measure.commit_seconds.observe(time.monotonic() - started)
            self.measure.batch_size.observe(len(batch.decided))
        except (StaleWrite, LeaseLost):
            raise
        except Exception:  # not the database away but one decision it refuses: find it, keep the rest
            log.exception("storing a batch failed; storing its alarms one by one", decisions=len(writes))
            writes, outgoing = await self._store_one_by_one(writes, batch, now)
        for write, ready in zip(writes, outgoing, strict=True):
            version = 1 if write.expected is None else write.expected + 1
            self._remember(write.state, version)
            self._sender.submit(ready)
            if write.state.deadline is not None and write.state.is_open:
                self._deadlines.schedule(write.state.uid, write.state.deadline)
            else:
                self._deadlines.cancel(write.state.uid)
        self._committed(batch)

    async def _store_one_by_one(self, writes: list[AlarmWrite], batch: _Batch,
                                now: datetime) -> tuple[list[AlarmWrite], list[list[Outgoing]]]:
        """The writes that could be stored and their messages; the others are counted and logged."""
        outgoing: list[list[Outgoing]] = []
        stored: list[AlarmWrite] = []
        for write in writes:
            try:
                outgoing += await self._store_decisions([write], now)
                stored.append(write)
            except LeaseLost:
                raise
            except Exception:
                self.metrics["decisions_not_stored"] += 1
                batch.failed.add(write.state.uid)
                log.exception("decision could not be stored; dropped", alarm_id=write.state.uid)
        return stored, outgoing

    def _committed(self, batch: _Batch) -> None:
        """Counts, lateness and the listeners, once a batch is stored."""
        self.metrics["batches"] += 1
        self.metrics["decisions"] += len(batch.decided)
        for uid, late in batch.late:
            self.measure.deadline_lateness.observe(max(0.0, late))
            if late > LATE.total_seconds():
                log.warning("deadline decided late", alarm_id=uid, late_ms=round(late * 1000))
        for state, effects in batch.decided:
            if state.uid in batch.failed:
                continue
            with structlog.contextvars.bound_contextvars(alarm_id=state.uid, device_id=state.device_id):
                _log_effects(effects)
            self._tell_listeners(state)

    async def _store_decisions(self, writes: list[AlarmWrite], now: datetime) -> list[list[Outgoing]]:
        """Nothing leaves before the decisions are stored; if the database is away, wait for it
        (a device keeps repeating its alarm until it hears `received`)."""
        delay = 0.5
        while True:
            try:
                return await self._db(self._store.save_decisions, writes, now)
            except (OperationalError, InterfaceError) as exc:  # the database is away, not the data wrong
                self.metrics["database_errors"] += 1
                log.error("database unavailable; decisions not stored yet, retrying", error=error_line(exc),
                          decisions=len(writes), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def _remember(self, state: AlarmState, version: int) -> None:
        key = (state.device_id, state.device_alarm_id)
        self._versions[state.uid] = version
        if state.is_open:
            self._open[state.uid] = state
            self._open_keys[key] = state.uid
            return
        self._open.pop(state.uid, None)
        if self._open_keys.get(key) == state.uid:
            del self._open_keys[key]
        self._closed[state.uid] = state
        self._closed_keys[key] = state.uid
        horizon = self._clock.now() - REDELIVERY_WINDOW
        for uid, old in list(self._closed.items()):
            if old.closed_at and old.closed_at < horizon:
                del self._closed[uid]
                self._versions.pop(uid, None)
                if self._closed_keys.get((old.device_id, old.device_alarm_id)) == uid:
                    del self._closed_keys[(old.device_id, old.device_alarm_id)]

    def _undeliverable(self, failure: Undeliverable) -> None:
        self.put(failure)

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args, **kwargs))

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The engine's one database writer (a thread of its own), for the device watch too: on
        SQLite a second writer would make the dispatcher wait for its lock."""
        return await self._db(fn, *args, **kwargs)

    # ---- deadlines ----------------------------------------------------------------------------------

    async def _timers(self) -> None:
        """Fire each stored deadline once when it is due; a deadline already past at start-up
        fires at once. One that is no longer the alarm's current one (answered, escalated,
        closed) is skipped when its time comes."""
        for state in self._open.values():
            if state.deadline is not None:
                self._deadlines.schedule(state.uid, state.deadline)
        while True:
            for uid, due in await self._deadlines.due():
                alarm = self._open.get(uid)
                if alarm is not None and alarm.deadline == due:
                    self.put(DeadlineDue(uid, alarm.timer, due))


def _recent(state: AlarmState, now: datetime) -> bool:
    return state.closed_at is not None and now - state.closed_at < REDELIVERY_WINDOW


_LOG_ARGUMENTS = frozenset({"event", "actor", "channel"})  # structlog's own or taken below


def _log_effects(effects: list[Effect]) -> None:
    for effect in effects:
        if isinstance(effect, Timeline):
            # A data key named like a logging argument ("event") would make the call raise, after
            # the decision was stored: rename it rather than lose the line, or the loop.
            fields = {f"data_{k}" if k in _LOG_ARGUMENTS else k: v
                      for k, v in effect.data.items() if v not in (None, [], "")}
            level = log.warning if effect.kind in WARN else log.info
            level(effect.kind.replace("_", " "), actor=effect.actor, channel=effect.channel, **fields)
