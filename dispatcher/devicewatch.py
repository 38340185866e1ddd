"""Watching the devices: supervision faults and lone-worker visits, from stored facts and
deadlines like the escalation timers, so a restart loses nothing — and all of it off the alarm
path.

What devices say arrives in a queue of its own (`FactQueue`: heartbeats coalesced, nothing
awaited by the MQTT loop). One consumer takes it in batches and updates what is known of each
device in memory. The database gets the facts, the device events and the fault notices in one
transaction per flush: once a second, and at once (within a few milliseconds) when something
an operator must see changed — a status, a battery report, a fault, a visit. A crash can so lose
at most one flush interval of "last seen"; supervision after a restart works from what was
stored. Fault notices to the technical contact go through the outbox: stored, retried, moved to
the next route. Every fault in here is logged with its device and retried or skipped: nothing a
device sends, and no database trouble, can stop supervision or reach the alarms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

from devices import supervision, visits
from devices.protocol import (
    AlarmPayload,
    CheckinPayload,
    DeviceMessage,
    HeartbeatPayload,
    PositionPayload,
    StatusPayload,
)
from devices.supervision import Observed, Rules
from devices.trail import Trail, TrailPoint
from devices.visits import Visit, VisitError
from dispatcher.clock import Clock
from dispatcher.factqueue import FactQueue
from dispatcher.logs import error_line
from dispatcher.outbox import DbCall
from dispatcher.store.repository import Outgoing, Store
from dispatcher.timers import Timers
from escalation.directory import Directory
from escalation.fault_notices import centre_fault_notice, fault_notice
from escalation.notices import Notice
from escalation.plan import Position

log = structlog.get_logger("code4.devices")
T = TypeVar("T")
FLUSH_EVERY_S = 1.0
PROMPT_FLUSH_S = 0.01  # gathers what changes together (a status and its fault) into one write
BATCH = 1000


@dataclass
class DeviceFacts:
    """What code4 knows of one device; mirrors a device_status row."""

    device_id: str
    registered_at: datetime
    last_seen_at: datetime | None = None
    online: bool | None = None
    status_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    battery: float | None = None
    rssi: int | None = None
    firmware: str | None = None
    last_test_at: datetime | None = None
    last_alarm_at: datetime | None = None
    position: dict[str, Any] | None = None
    position_at: datetime | None = None
    faults: tuple[str, ...] = field(default_factory=tuple)

    def observed(self) -> Observed:
        return Observed(self.registered_at, self.last_seen_at, self.online, self.battery, self.last_test_at)


RaiseAlarm = Callable[[str, str, Position | None, str | None], None]
SendFeedback = Callable[[str, str, str], Awaitable[None]]
SendNotices = Callable[[list[Outgoing]], None]


class DeviceWatch:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        clock: Clock,
        raise_alarm: RaiseAlarm,
        pre_alert: SendFeedback,
        send_notices: SendNotices,
        db: DbCall,
    ) -> None:
        self._store = store
        self._db = db  # the engine's one writer: on SQLite, two writers would make each other wait
        self._directory = directory
        self._clock = clock
        self._raise_alarm = raise_alarm
        self._pre_alert = pre_alert
        self._send_notices = send_notices
        self.queue = FactQueue()
        self._facts: dict[str, DeviceFacts] = {}
        # The paths to alarm centres, by contact id: rows of the device board too, their faults
        # found by line supervision (dispatcher/centrewatch.py), not by the rules of devices.
        self._paths: dict[str, DeviceFacts] = {}
        self.loaded = asyncio.Event()  # what was stored is read: reports on paths may come
        self._visits: dict[str, Visit] = {}
        self._trails: dict[str, Trail] = {}  # known devices only, each bounded (devices/trail.py)
        self._dirty: set[str] = set()
        self._events: list[tuple[str, datetime, str, dict[str, Any]]] = []
        self._notices: list[Notice] = []
        self._prompt = asyncio.Event()  # something an operator must see waits to be stored
        # ("check", device): when its faults would change if it says nothing more;
        # ("visit", device): when its running visit's next deadline passes.
        self._wakeups: Timers[tuple[str, str]] = Timers(clock)
        self.errors = 0

    # ---- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        await self._load()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._consume(), name="device-facts")
            tasks.create_task(self._timers(), name="device-timers")
            tasks.create_task(self._flusher(), name="device-flush")

    async def _load(self) -> None:
        now = self._clock.now()
        rows = {row.device_id: row for row in await self._retrying(self._store.device_statuses)}
        for device in self._directory.org.devices:
            row = rows.get(device.id)
            self._facts[device.id] = _facts_from(device.id, row, now)
            if row is None or row.registered_at is None:
                self._dirty.add(device.id)
        self._paths = {c: _facts_from(c, rows[c], now) for c in _centres(self._directory) if c in rows}
        for visit in await self._retrying(self._store.running_visits):
            self._visits[visit.device_id] = visit
            self._schedule_visit(visit.device_id)
        await self.flush()
        log.info("device supervision started", devices=len(self._facts), visits=len(self._visits))
        for device_id in self._facts:
            self._evaluate(device_id, now)
        self._prompt.set()
        self.loaded.set()

    async def follow(self, every_s: float = 1.0) -> None:
        """On a standby: the devices as the dispatching instance stored them (its device list),
        without supervising them."""
        while True:
            try:
                rows = {row.device_id: row for row in await asyncio.to_thread(self._store.device_statuses)}
                now = self._clock.now()
                self._facts = {device.id: _facts_from(device.id, rows.get(device.id), now)
                               for device in self._directory.org.devices}
                self._paths = {c: _facts_from(c, rows[c], now) for c in _centres(self._directory) if c in rows}
            except Exception as exc:  # the database away: the next round
                log.warning("standby could not read the devices", error=error_line(exc))
            await asyncio.sleep(every_s)

    def reload(self, directory: Directory) -> None:
        self._directory = directory
        now = self._clock.now()
        for device in directory.org.devices:
            if device.id not in self._facts:
                self._facts[device.id] = DeviceFacts(device.id, now)
                self._dirty.add(device.id)
        for device_id in self._facts:
            self._schedule(device_id, now)
        for device_id in self._visits:  # the grace may have changed
            self._schedule_visit(device_id)
        centres = _centres(directory)
        self._paths = {path_id: facts for path_id, facts in self._paths.items() if path_id in centres}

    # ---- what devices say -------------------------------------------------------------------------

    def observe(self, message: DeviceMessage) -> None:
        """From the intake: queue it, never wait."""
        self.queue.put(message, self._clock.now())

    async def _consume(self) -> None:
        while True:
            for message, at in await self.queue.take(BATCH):
                try:
                    with structlog.contextvars.bound_contextvars(device_id=message.device_id):
                        await self._apply(message, at)
                except Exception:  # one fact must never stop supervision
                    self.errors += 1
                    log.exception("device fact not handled; going on", device_id=message.device_id,
                                  kind=message.kind)

    async def _apply(self, message: DeviceMessage, at: datetime) -> None:
        facts = self._facts.get(message.device_id)
        if facts is None:
            return  # an unknown device: the dispatcher handles its alarms; nothing to supervise
        payload = message.payload
        if not message.retained:  # a retained message replayed on subscribe says nothing about now
            facts.last_seen_at = at
            if facts.online is not True and not isinstance(payload, StatusPayload):
                facts.online = True  # it speaks, so it is there (adapters never send a status)
                self._prompt.set()
        if isinstance(payload, HeartbeatPayload):
            facts.last_heartbeat_at = at
            if payload.battery is not None and payload.battery != facts.battery:
                facts.battery = payload.battery
                self._prompt.set()
            facts.rssi = payload.rssi if payload.rssi is not None else facts.rssi
            facts.firmware = payload.fw or facts.firmware
        elif isinstance(payload, StatusPayload):
            online = payload.status == "online"
            if facts.online != online or not message.retained:
                facts.online, facts.status_at = online, at
                self._event(message.device_id, payload.status, {"retained": message.retained}, at)
        elif isinstance(payload, PositionPayload):
            facts.position, facts.position_at = payload.model_dump(exclude_none=True), at
            self._follow(message.device_id, facts.position, at)
        elif isinstance(payload, AlarmPayload):
            # Every press shows the button works; stored with the next flush (the alarm itself
            # is the dispatcher's, stored before anything leaves).
            facts.last_alarm_at = facts.last_test_at = at
            facts.battery = payload.battery if payload.battery is not None else facts.battery
            if payload.position is not None:
                facts.position, facts.position_at = payload.position.model_dump(exclude_none=True), at
                self._follow(message.device_id, facts.position, at)
        elif isinstance(payload, CheckinPayload):
            await self._checkin(message.device_id, payload, at)
        self._dirty.add(message.device_id)
        self._evaluate(message.device_id, at)

    def _follow(self, device_id: str, position: dict[str, Any], at: datetime) -> None:
        if position.get("lat") is None or position.get("lon") is None:
            return  # a zone is no point on a map
        trail = self._trails.setdefault(device_id, Trail())
        trail.add(TrailPoint(at, position["lat"], position["lon"], position.get("accuracy_m")))

    def trail(self, device_id: str) -> list[TrailPoint]:
        """Where the device reported itself in the last minutes, oldest first."""
        trail = self._trails.get(device_id)
        return trail.points(self._clock.now()) if trail else []

    def visit_note(self, device_id: str) -> str | None:
        """The note (the address) of the device's running lone-worker visit, if any."""
        visit = self._visits.get(device_id)
        return visit.note if visit is not None and visit.running else None

    def last_position(self, device_id: str) -> Position | None:
        facts = self._facts.get(device_id)
        if facts is None or facts.position is None:
            return None
        return Position(**facts.position)

    def facts(self) -> dict[str, DeviceFacts]:
        """The devices', and the alarm-centre paths' (by contact id: never a device's, the file's
        check sees to that)."""
        return {**self._paths, **self._facts}

    def path_checked(self, path_id: str, faults: tuple[str, ...], *, answering: bool, note: str | None = None) -> None:
        """What line supervision found of the path to an alarm centre (`path_id`: its contact
        id): kept as a row of the device board, its faults raised and cleared as a device's are,
        and the technical contact told. `note`: why, for the events (a path that cannot be used)."""
        now = self._clock.now()
        facts = self._paths.get(path_id)
        if facts is None:
            facts = self._paths[path_id] = DeviceFacts(path_id, now)
        if answering:
            facts.last_seen_at = facts.last_heartbeat_at = now
        if facts.online is not answering:
            facts.online, facts.status_at = answering, now
            self._prompt.set()
        self._dirty.add(path_id)
        raised, cleared = self._set_faults(facts, faults, now, {"note": note} if note else {})
        if raised or cleared:
            notice = centre_fault_notice(self._directory, path_id, raised, cleared, now)
            if notice is not None:
                self._notices.append(notice)

    async def _checkin(self, device_id: str, payload: CheckinPayload, now: datetime) -> None:
        current = self._visits.get(device_id)
        try:
            if payload.action == "start":
                if current is not None and current.running:
                    await self._save_visit(visits.end(current, now))
                visit = visits.start(device_id, payload.expect_within_s, payload.note, now)
                kind = "visit_started"
            elif current is None:
                raise VisitError("no visit running")
            elif payload.action == "ok":
                visit, kind = visits.check_in(current, payload.expect_within_s, now), "visit_checked_in"
            else:
                visit, kind = visits.end(current, now), "visit_ended"
        except VisitError as exc:
            log.warning("check-in ignored", device_id=device_id, action=payload.action, reason=str(exc))
            return
        await self._save_visit(visit)
        self._event(device_id, kind, {"deadline": visit.deadline_at.isoformat(), "note": visit.note}
                    if visit.running else {}, now)
        log.info(kind.replace("_", " "), device_id=device_id, deadline=visit.deadline_at.isoformat())

    async def _save_visit(self, visit: Visit) -> None:
        """At once: the visit's id names its alarm, and a missed check-in must survive a restart."""
        saved = await self._retrying(self._store.save_visit, visit)
        if saved.running:
            self._visits[visit.device_id] = saved
        else:
            self._visits.pop(visit.device_id, None)
        self._schedule_visit(visit.device_id)

    # ---- time ----------------------------------------------------------------------------------------

    async def _timers(self) -> None:
        while True:
            due = await self._wakeups.due()
            now = self._clock.now()
            try:
                await self._fire(due, now)
            except Exception:
                self.errors += 1
                log.exception("device timers failed; trying again shortly")
                await asyncio.sleep(1.0)
                for key, at in due:  # what was not handled comes again (handling twice is harmless)
                    if self._wakeups.moment(key) is None:
                        self._wakeups.schedule(key, at)

    async def _fire(self, due: list[tuple[tuple[str, str], datetime]], now: datetime) -> None:
        """Supervision checks and visit deadlines that are due."""
        for (what, device_id), _ in due:
            if what == "check":
                if device_id in self._facts:
                    self._evaluate(device_id, now)
            elif (visit := self._visits.get(device_id)) is not None:
                await self._tick(visit, now)

    async def _tick(self, visit: Visit, now: datetime) -> None:
        device_id = visit.device_id
        grace = self._directory.org.visit_grace
        updated, what = visits.tick(visit, grace, now)
        if what is None:
            self._schedule_visit(device_id)
            return
        await self._save_visit(updated)
        if what == "pre_alert":
            self._event(device_id, "visit_pre_alert", {"grace_s": grace}, now)
            log.warning("check-in missed: pre-alert to the device", device_id=device_id, grace_s=grace)
            await self._pre_alert(device_id, f"visit-{updated.id}", self._pre_alert_text(device_id, grace))
        else:
            self._event(device_id, "visit_missed", {"note": updated.note}, now)
            log.warning("check-in missed: raising an alarm", device_id=device_id)
            self._raise_alarm(device_id, f"visit-{updated.id}", self.last_position(device_id), updated.note)

    def _schedule_visit(self, device_id: str) -> None:
        visit = self._visits.get(device_id)
        moment = visits.due(visit, self._directory.org.visit_grace) if visit is not None else None
        if moment is None:
            self._wakeups.cancel(("visit", device_id))
        else:
            self._wakeups.schedule(("visit", device_id), moment)

    def _evaluate(self, device_id: str, now: datetime) -> None:
        rules = self._rules(device_id)
        facts = self._facts[device_id]
        found = supervision.faults(rules, facts.observed(), now) if rules is not None else ()
        raised, cleared = self._set_faults(facts, found, now)
        if raised or cleared:
            (log.warning if raised else log.info)("device faults changed", device_id=device_id, raised=list(raised),
                                                  cleared=list(cleared), faults=list(found))
            notice = fault_notice(self._directory, device_id, raised, cleared, facts.battery, now)
            if notice is not None:
                self._notices.append(notice)
        self._schedule(device_id, now)

    def _set_faults(self, facts: DeviceFacts, found: tuple[str, ...], now: datetime,
                    data: dict[str, Any] | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The faults now `found`: an event for each raised and each cleared; which those are."""
        if found == facts.faults:
            return (), ()
        raised = tuple(f for f in found if f not in facts.faults)
        cleared = tuple(f for f in facts.faults if f not in found)
        facts.faults = found
        self._dirty.add(facts.device_id)
        for fault in raised:
            self._event(facts.device_id, "fault_raised", {"fault": fault, **(data or {})}, now)
        for fault in cleared:
            self._event(facts.device_id, "fault_cleared", {"fault": fault}, now)
        return raised, cleared

    def _schedule(self, device_id: str, now: datetime) -> None:
        """Remember when this device's faults would change if it says nothing more."""
        rules = self._rules(device_id)
        facts = self._facts.get(device_id)
        moment = supervision.next_check(rules, facts.observed(), now) if rules and facts else None
        if moment is None:
            self._wakeups.cancel(("check", device_id))
        else:
            self._wakeups.schedule(("check", device_id), moment)

    def _rules(self, device_id: str) -> Rules | None:
        device = self._directory.devices.get(device_id)
        if device is None:
            return None
        settings = self._directory.org.device_settings(device)
        return Rules(settings.supervision, settings.battery_low, settings.test_every)

    def _pre_alert_text(self, device_id: str, grace: int) -> str:
        device = self._directory.devices.get(device_id)
        person = self._directory.people.get(device.person or "") if device else None
        minutes = max(1, round(grace / 60))
        if person is not None and person.language == "en":
            return f"Check-in missed: press OK within {minutes} min or the alarm goes off."
        return f"Check-in gemist: druk binnen {minutes} min op OK, anders gaat het alarm af."

    # ---- storage ---------------------------------------------------------------------------------------

    def _event(self, device_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        self._events.append((device_id, at, kind, data))
        self._prompt.set()

    async def _flusher(self) -> None:
        delay = FLUSH_EVERY_S
        while True:
            try:
                await asyncio.wait_for(self._prompt.wait(), delay)
                await asyncio.sleep(PROMPT_FLUSH_S)
            except TimeoutError:
                pass
            self._prompt.clear()
            # The database away: try again, less often.
            delay = FLUSH_EVERY_S if await self.flush() else min(delay * 2, 10.0)

    async def flush(self) -> bool:
        """Store what changed; True when stored (else it is kept and tried again)."""
        dirty, events, notices = self._dirty, self._events, self._notices
        if not (dirty or events or notices):
            return True
        self._dirty, self._events, self._notices = set(), [], []
        known = {**self._paths, **self._facts}
        rows = [replace(known[d]) for d in dirty if d in known]
        try:
            outgoing = await self._db(self._store.save_device_batch, facts=rows, events=events, notices=notices,
                                      now=self._clock.now())
        except Exception as exc:
            self.errors += 1
            log.error("storing device facts failed; kept, trying again", error=error_line(exc),
                      devices=len(rows), events=len(events))
            self._dirty |= dirty
            self._events[:0] = events
            self._notices[:0] = notices
            return False
        if outgoing:
            self._send_notices(outgoing)
        return True

    async def _retrying(self, fn: Callable[..., T], *args: Any) -> T:
        """A database call that waits out a database that is away (and only that)."""
        delay = 0.5
        while True:
            try:
                return await self._db(fn, *args)
            except (OperationalError, InterfaceError) as exc:
                self.errors += 1
                log.error("database unavailable for device supervision; retrying", error=error_line(exc),
                          retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


def _centres(directory: Directory) -> set[str]:
    """The ids of the alarm centres, whose paths line supervision watches."""
    return {contact.id for contact in directory.org.contacts if contact.alarm_centre is not None}


def _facts_from(device_id: str, row: Any, now: datetime) -> DeviceFacts:
    """What supervision knows of a device, from its stored row (None: never seen)."""
    facts = DeviceFacts(device_id, row.registered_at if row is not None and row.registered_at else now)
    if row is not None:
        for name in _COPIED:
            setattr(facts, name, getattr(row, name))
        facts.faults = tuple(row.faults or ())
    return facts


# What a stored row gives as it is: every fact but the key, the start of supervision (never
# None in memory) and the faults (a tuple here, a list there).
_COPIED = tuple(f.name for f in fields(DeviceFacts) if f.name not in ("device_id", "registered_at", "faults"))
