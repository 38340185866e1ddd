"""Watching the devices: supervision faults and lone-worker visits, from stored facts and
deadlines like the escalation timers, so a restart loses nothing.

Every device of the agreement file is supervised from the moment code4 first sees it in the
registry. Messages update what is known of a device in memory at once; the database gets the
facts in batches (heartbeats are many) and every fault change, visit change and device event
at once. A fault raised or cleared goes on the device's timeline, to the control room's live
feed, and to the site's technical contact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

import structlog

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
from devices.visits import Visit, VisitError
from dispatcher.clock import Clock
from dispatcher.store.repository import Store
from escalation.directory import Directory
from escalation.plan import Position

log = structlog.get_logger("code4.devices")
T = TypeVar("T")
FLUSH_EVERY_S = 1.0


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


FaultListener = Callable[[str, tuple[str, ...], tuple[str, ...], DeviceFacts], Awaitable[None]]
RaiseAlarm = Callable[[str, str, Position | None, str | None], Awaitable[None]]
SendFeedback = Callable[[str, str, str], Awaitable[None]]


class DeviceWatch:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        clock: Clock,
        raise_alarm: RaiseAlarm,
        pre_alert: SendFeedback,
        on_fault_change: list[FaultListener],
    ) -> None:
        self._store = store
        self._directory = directory
        self._clock = clock
        self._raise_alarm = raise_alarm
        self._pre_alert = pre_alert
        self._on_fault_change = on_fault_change
        self._facts: dict[str, DeviceFacts] = {}
        self._visits: dict[str, Visit] = {}
        self._dirty: set[str] = set()
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()

    # ---- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        await self._load()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._timers(), name="device-timers")
            tasks.create_task(self._flusher(), name="device-flush")

    async def _load(self) -> None:
        now = self._clock.now()
        rows = {row.device_id: row for row in await self._db(self._store.device_statuses)}
        for device in self._directory.org.devices:
            row = rows.get(device.id)
            facts = DeviceFacts(device.id, row.registered_at if row and row.registered_at else now)
            if row is not None:
                for name in ("last_seen_at", "online", "status_at", "last_heartbeat_at", "battery", "rssi",
                             "firmware", "last_test_at", "last_alarm_at", "position", "position_at"):
                    setattr(facts, name, getattr(row, name))
                facts.faults = tuple(row.faults or ())
            self._facts[device.id] = facts
            if row is None or row.registered_at is None:
                self._dirty.add(device.id)
        for visit in await self._db(self._store.running_visits):
            self._visits[visit.device_id] = visit
        await self.flush()
        log.info("device supervision started", devices=len(self._facts), visits=len(self._visits))
        await self._evaluate_all()

    def reload(self, directory: Directory) -> None:
        self._directory = directory
        now = self._clock.now()
        for device in directory.org.devices:
            if device.id not in self._facts:
                self._facts[device.id] = DeviceFacts(device.id, now)
                self._dirty.add(device.id)
        self._changed.set()

    # ---- what devices say -------------------------------------------------------------------------

    async def observe(self, message: DeviceMessage) -> None:
        now = self._clock.now()
        facts = self._facts.get(message.device_id)
        if facts is None:
            return  # an unknown device: the dispatcher handles its alarms; nothing to supervise
        payload = message.payload
        if not message.retained:  # a retained message replayed on subscribe says nothing about now
            facts.last_seen_at = now
            if facts.online is not True and not isinstance(payload, StatusPayload):
                facts.online = True  # it speaks, so it is there (adapters never send a status)
        if isinstance(payload, HeartbeatPayload):
            facts.last_heartbeat_at = now
            facts.battery = payload.battery if payload.battery is not None else facts.battery
            facts.rssi = payload.rssi if payload.rssi is not None else facts.rssi
            facts.firmware = payload.fw or facts.firmware
        elif isinstance(payload, StatusPayload):
            online = payload.status == "online"
            if facts.online != online or not message.retained:
                facts.online, facts.status_at = online, now
                await self._event(message.device_id, payload.status, {"retained": message.retained})
        elif isinstance(payload, PositionPayload):
            facts.position, facts.position_at = payload.model_dump(exclude_none=True), now
        elif isinstance(payload, AlarmPayload):
            facts.last_alarm_at = facts.last_test_at = now  # every press shows the button works
            facts.battery = payload.battery if payload.battery is not None else facts.battery
            if payload.position is not None:
                facts.position, facts.position_at = payload.position.model_dump(exclude_none=True), now
        elif isinstance(payload, CheckinPayload):
            await self._checkin(message.device_id, payload, now)
        self._dirty.add(message.device_id)
        await self._evaluate(message.device_id, now)

    def last_position(self, device_id: str) -> Position | None:
        facts = self._facts.get(device_id)
        if facts is None or facts.position is None:
            return None
        return Position(**facts.position)

    def facts(self) -> dict[str, DeviceFacts]:
        return dict(self._facts)

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
        await self._event(device_id, kind, {"deadline": visit.deadline_at.isoformat(), "note": visit.note}
                          if visit.running else {})
        log.info(kind.replace("_", " "), device_id=device_id, deadline=visit.deadline_at.isoformat())

    async def _save_visit(self, visit: Visit) -> None:
        saved = await self._db(self._store.save_visit, visit)
        if saved.running:
            self._visits[visit.device_id] = saved
        else:
            self._visits.pop(visit.device_id, None)
        self._changed.set()

    # ---- time ----------------------------------------------------------------------------------------

    async def _timers(self) -> None:
        while True:
            self._changed.clear()
            now = self._clock.now()
            await self._evaluate_all()
            upcoming = [m for m in self._due_moments(now) if m > now]
            waiters = [asyncio.ensure_future(self._changed.wait())]
            if upcoming:
                waiters.append(asyncio.ensure_future(self._clock.sleep_until(min(upcoming))))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    def _due_moments(self, now: datetime) -> list[datetime]:
        moments = []
        for device_id, facts in self._facts.items():
            rules = self._rules(device_id)
            if rules is not None and (moment := supervision.next_check(rules, facts.observed(), now)):
                moments.append(moment)
        grace = self._directory.org.visit_grace
        moments += [m for v in self._visits.values() if (m := visits.due(v, grace)) is not None]
        return moments

    async def _evaluate_all(self) -> None:
        now = self._clock.now()
        for device_id in list(self._facts):
            await self._evaluate(device_id, now)
        grace = self._directory.org.visit_grace
        for device_id, visit in list(self._visits.items()):
            updated, what = visits.tick(visit, grace, now)
            if what is None:
                continue
            await self._save_visit(updated)
            if what == "pre_alert":
                await self._event(device_id, "visit_pre_alert", {"grace_s": grace})
                log.warning("check-in missed: pre-alert to the device", device_id=device_id, grace_s=grace)
                await self._pre_alert(device_id, f"visit-{updated.id}", self._pre_alert_text(device_id, grace))
            else:
                await self._event(device_id, "visit_missed", {"note": updated.note})
                log.warning("check-in missed: raising an alarm", device_id=device_id)
                await self._raise_alarm(device_id, f"visit-{updated.id}", self.last_position(device_id),
                                        updated.note)

    async def _evaluate(self, device_id: str, now: datetime) -> None:
        rules = self._rules(device_id)
        facts = self._facts[device_id]
        found = supervision.faults(rules, facts.observed(), now) if rules is not None else ()
        if found == facts.faults:
            return
        raised = tuple(f for f in found if f not in facts.faults)
        cleared = tuple(f for f in facts.faults if f not in found)
        facts.faults = found
        self._dirty.add(device_id)
        for fault in raised:
            await self._event(device_id, "fault_raised", {"fault": fault})
        for fault in cleared:
            await self._event(device_id, "fault_cleared", {"fault": fault})
        (log.warning if raised else log.info)("device faults changed", device_id=device_id, raised=list(raised),
                                              cleared=list(cleared), faults=list(found))
        for listener in self._on_fault_change:
            try:
                await listener(device_id, raised, cleared, facts)
            except Exception:
                log.exception("telling about a device fault failed", device_id=device_id)

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

    async def _event(self, device_id: str, kind: str, data: dict[str, Any]) -> None:
        await self._db(self._store.add_device_event, device_id, self._clock.now(), kind, data)

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush()

    async def flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        if dirty:
            rows = [replace(self._facts[d]) for d in dirty if d in self._facts]
            try:
                await self._db(self._store.save_device_facts, rows)
            except Exception:
                log.exception("storing device facts failed; trying again shortly")
                self._dirty |= dirty

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)
