"""The database behind the dispatcher: alarm states, incident records, timeline, outbox.

Synchronous SQLAlchemy; the service runs every call on one dedicated thread, so writes are
serialised and the event loop never waits on the disk. Each decision is stored in a single
transaction (state, timeline, outbox) before any of its messages leave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from devices.visits import Visit as VisitRules
from devices.visits import VisitStatus
from dispatcher.core import AlarmState, Effect, Feedback, Notify, Status, Timeline
from dispatcher.store.codec import dump_effect, dump_state, load_effect, load_state
from dispatcher.store.lease import IDLE_IN_TRANSACTION_MS
from dispatcher.store.schema import (
    Alarm,
    Base,
    DeviceEvent,
    DeviceStatus,
    Incident,
    OutboxItem,
    RelayedCommand,
    TimelineEntry,
    Visit,
    WebhookReceipt,
)
from escalation.notices import Notice

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x636F6434  # "code4": the advisory lock held while the schema is brought up to date


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here. A SQLite file is created readable for its owner
    only (it holds incident records; SQLite gives its journal files the same permissions)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
    return url


class StaleWrite(Exception):
    """Alarms changed by another writer since they were read: nothing of the batch was stored."""

    def __init__(self, uids: list[str]) -> None:
        self.uids = uids
        super().__init__(f"alarms changed since they were read: {', '.join(uids)}")


@dataclass(frozen=True)
class AlarmWrite:
    """The decisions on one alarm in one batch: its new state, every effect in order, and the
    version of the state they started from (None: a new alarm)."""

    state: AlarmState
    effects: list[Effect]
    expected: int | None


@dataclass(frozen=True)
class Outgoing:
    """An outbox row ready to send."""

    id: int
    alarm_uid: str  # "device:<id>" for a notice outside any alarm
    effect: Notify | Feedback | Notice


def _table(model: type[Base]) -> Table:
    """A mapped class's table; declarative types it as any FromClause, but ours are all tables."""
    return cast(Table, model.__table__)


# Statements on the write path, built once so SQLAlchemy compiles them once (parameters are
# supplied when they run).
_alarms, _incidents = _table(Alarm), _table(Incident)
# Every update names the version it read: a write based on an older state changes nothing.
_UPDATE_ALARM = (update(_alarms).where(_alarms.c.uid == bindparam("key"), _alarms.c.version == bindparam("expected"))
                 .values(version=_alarms.c.version + 1).returning(_alarms.c.incident_id))
_INSERT_ALARM = insert(_alarms)
_INSERT_INCIDENT = insert(_incidents).returning(_incidents.c.id)
_SET_OUTCOME = update(_incidents).where(_incidents.c.id == bindparam("key"))
_INSERT_TIMELINE = insert(_table(TimelineEntry))
_INSERT_OUTBOX = insert(_table(OutboxItem)).returning(_table(OutboxItem).c.id, sort_by_parameter_order=True)


class Store:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        # PostgreSQL ends a transaction left open by a paused process, so that it holds no lock
        # another instance waits for (dispatcher/store/lease.py).
        connect_args = {"options": f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"} \
            if self.url.startswith("postgresql") else {}
        self.engine: Engine = create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Set while this instance dispatches under a lease: every dispatching write checks it in
        # its own transaction and is refused (LeaseLost) once the lease is gone.
        self.fence: Callable[[Connection | None], None] | None = None

    @property
    def description(self) -> str:
        """The URL without its password, for logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if not self.is_sqlite:  # instances started together: one migrates, the others wait, then find it done
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file (None: PostgreSQL, or SQLite in memory)."""
        database = make_url(self.url).database
        return Path(database).resolve() if self.is_sqlite and database not in (None, "", ":memory:") else None

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database without holding up the writer."""
        if self.is_sqlite:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def ping(self) -> None:
        """Raises when the database does not answer."""
        with self.engine.connect() as connection:
            connection.execute(select(1))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def dispatching(self) -> Iterator[Session]:
        """A transaction for what only the dispatching instance writes (decisions, deliveries,
        device facts): refused by the fence when this instance no longer holds the lease."""
        if self.fence is not None:
            self.fence(None)  # its own view first: no waiting for a connection to a lease already gone
        with self.session() as session:
            if self.fence is not None:
                self.fence(session.connection())
            yield session

    # ---- alarms ------------------------------------------------------------------------------

    def open_alarms(self) -> list[AlarmState]:
        return [state for state, _ in self.open_alarm_versions()]

    def open_alarm_versions(self) -> list[tuple[AlarmState, int]]:
        with self.session() as session:
            rows = session.scalars(select(Alarm).where(Alarm.is_open).order_by(Alarm.raised_at))
            return [(load_state(row.state), row.version) for row in rows]

    def alarm_uids(self, prefix: str) -> list[str]:
        """Every alarm id that starts so (one day's: `a-20261123-`)."""
        with self.session() as session:
            return list(session.scalars(select(Alarm.uid).where(Alarm.uid.startswith(prefix, autoescape=True))))

    def closed_since(self, since: datetime) -> list[tuple[AlarmState, int]]:
        with self.session() as session:
            rows = session.scalars(select(Alarm).where(~Alarm.is_open, Alarm.closed_at >= since))
            return [(load_state(row.state), row.version) for row in rows]

    def alarm(self, uid: str) -> AlarmState | None:
        found = self.alarm_version(uid)
        return found[0] if found else None

    def alarm_version(self, uid: str) -> tuple[AlarmState, int] | None:
        with self.session() as session:
            row = session.get(Alarm, uid)
            return (load_state(row.state), row.version) if row else None

    def save_decision(self, *, state: AlarmState, effects: Iterable[Effect], now: datetime) -> list[Outgoing]:
        """A new alarm's first decision, on its own."""
        return self.save_decisions([AlarmWrite(state, list(effects), None)], now)[0]

    def save_decisions(self, writes: list[AlarmWrite], now: datetime) -> list[list[Outgoing]]:
        """Store a batch of decisions in one transaction (group commit): each alarm's new state,
        its timeline and its outbox rows; per alarm, the messages ready to send, in order.

        Core statements rather than the ORM unit of work: this write sits between a press and
        the first page. Every update names the version it read; if any alarm changed since
        (another writer), nothing is stored and StaleWrite names them.
        """
        timeline: list[dict[str, Any]] = []
        outbox: list[tuple[int, Notify | Feedback, dict[str, Any]]] = []
        stale: list[str] = []
        with self.dispatching() as session:
            for index, write in enumerate(writes):
                state = write.state
                columns = {
                    "status": state.status.value, "is_open": state.is_open, "closed_at": state.closed_at,
                    "deadline_at": state.deadline, "state": dump_state(state),
                }
                if write.expected is None:
                    incident_id = session.execute(_INSERT_INCIDENT, _incident_for(state, now)).scalar_one()
                    session.execute(_INSERT_ALARM, {
                        "uid": state.uid, "device_id": state.device_id, "device_alarm_id": state.device_alarm_id,
                        "incident_id": incident_id, "raised_at": state.raised_at, "version": 1, **columns})
                else:
                    incident_id = session.execute(
                        _UPDATE_ALARM, {"key": state.uid, "expected": write.expected, **columns}).scalar()
                    if incident_id is None:
                        stale.append(state.uid)
                        continue
                if state.status is Status.CLOSED and state.outcome is not None:
                    session.execute(_SET_OUTCOME, {"key": incident_id, "outcome": state.outcome.value})
                for effect in write.effects:
                    if isinstance(effect, Timeline):
                        timeline.append({"alarm_uid": state.uid, "incident_id": incident_id, "at": now,
                                         "kind": effect.kind, "actor": effect.actor, "channel": effect.channel,
                                         "notice": effect.notice, "data": effect.data})
                    else:
                        kind, payload = dump_effect(effect)
                        outbox.append((index, effect, {"alarm_uid": state.uid, "kind": kind, "payload": payload,
                                                       "created_at": now, "attempts": 0}))
            if stale:
                raise StaleWrite(stale)  # leaving the transaction undoes the batch
            if timeline:
                session.execute(_INSERT_TIMELINE, timeline)
            ids = session.scalars(_INSERT_OUTBOX, [row for _, _, row in outbox]).all() if outbox else []
        ready: list[list[Outgoing]] = [[] for _ in writes]
        for item_id, (index, effect, _) in zip(ids, outbox, strict=True):
            ready[index].append(Outgoing(item_id, writes[index].state.uid, effect))
        return ready

    def incident_id_of(self, uid: str) -> int | None:
        with self.session() as session:
            return session.scalar(select(Alarm.incident_id).where(Alarm.uid == uid))

    # ---- outbox -----------------------------------------------------------------------------

    def unsent(self) -> list[Outgoing]:
        with self.session() as session:
            rows = session.scalars(
                select(OutboxItem)
                .where(OutboxItem.sent_at.is_(None), OutboxItem.failed_at.is_(None))
                .order_by(OutboxItem.id)
            )
            return [Outgoing(r.id, r.alarm_uid, load_effect(r.kind, r.payload)) for r in rows]

    def mark_sent(self, ids: Iterable[int], at: datetime, refs: dict[int, str] | None = None,
                  attempts: Mapping[int, int] | None = None) -> None:
        """Record deliveries; `refs` holds the provider's id (Twilio's message or call sid) of some,
        `attempts` the sends each took (1 when not given)."""
        by_attempts: dict[int, list[int]] = {}
        for item_id in ids:
            by_attempts.setdefault((attempts or {}).get(item_id, 1), []).append(item_id)
        if by_attempts:
            with self.dispatching() as session:
                for tries, same in by_attempts.items():
                    session.execute(update(OutboxItem).where(OutboxItem.id.in_(same))
                                    .values(sent_at=at, attempts=OutboxItem.attempts + tries))
                for item_id, ref in (refs or {}).items():
                    session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(provider_ref=ref[:64]))

    def provider_refs(self, alarm_uid: str, page_id: str) -> set[str]:
        """Provider ids of the messages and calls sent for one page (e.g. the calls placed)."""
        with self.session() as session:
            rows = session.execute(select(OutboxItem.provider_ref, OutboxItem.payload).where(
                OutboxItem.alarm_uid == alarm_uid, OutboxItem.kind == "notify", OutboxItem.provider_ref.is_not(None)))
            return {ref for ref, payload in rows if payload.get("page_id") == page_id}

    # ---- actions relayed from standbys -------------------------------------------------------

    def relay(self, alarm_uid: str, kind: str, payload: dict[str, Any], strict: bool, at: datetime) -> int:
        """On a standby: store an action for the dispatching instance; its id, to wait on."""
        with self.session() as session:
            row = RelayedCommand(alarm_uid=alarm_uid[:40], kind=kind, payload=payload, strict=strict, created_at=at)
            session.add(row)
            session.flush()
            return row.id

    def take_relayed(self, at: datetime, limit: int = 50) -> list[RelayedCommand]:
        """On the leader: the actions waiting, marked taken (each is carried out once)."""
        with self.dispatching() as session:
            waiting = select(RelayedCommand.id).where(RelayedCommand.taken_at.is_(None)) \
                .order_by(RelayedCommand.id).limit(limit)
            if not self.is_sqlite:
                waiting = waiting.with_for_update(skip_locked=True)
            rows = session.scalars(update(RelayedCommand).where(RelayedCommand.id.in_(waiting.scalar_subquery()))
                                   .values(taken_at=at).returning(RelayedCommand)).all()
            return sorted(rows, key=lambda row: row.id)

    def finish_relayed(self, command_id: int, outcome: dict[str, Any], at: datetime) -> None:
        with self.dispatching() as session:
            session.execute(update(RelayedCommand).where(RelayedCommand.id == command_id)
                            .values(done_at=at, outcome=outcome))

    def relayed_outcome(self, command_id: int) -> dict[str, Any] | None:
        with self.session() as session:
            return session.scalar(select(RelayedCommand.outcome).where(RelayedCommand.id == command_id))

    def first_receipt(self, key: str, at: datetime) -> bool:
        """True the first time `key` is seen; False for a repeat (a replayed webhook)."""
        try:
            with self.session() as session:
                session.add(WebhookReceipt(key=key[:200], received_at=at))
        except IntegrityError:
            return False
        return True

    def mark_failed(self, item_id: int, at: datetime, error: str, attempts: int = 1) -> None:
        with self.dispatching() as session:
            session.execute(update(OutboxItem).where(OutboxItem.id == item_id)
                            .values(failed_at=at, attempts=OutboxItem.attempts + attempts, last_error=error[:2000]))

    # ---- devices ------------------------------------------------------------------------------

    def device_statuses(self) -> list[DeviceStatus]:
        with self.session() as session:
            return list(session.scalars(select(DeviceStatus).order_by(DeviceStatus.device_id)))

    def save_device_batch(self, *, facts: Iterable[Any], events: Iterable[tuple[str, datetime, str, dict[str, Any]]],
                          notices: Iterable[Notice], now: datetime | None) -> list[Outgoing]:
        """In one transaction: what supervision knows of devices (objects with DeviceStatus's
        field names, upserted), device events (device id, at, kind, data), and notices to send
        (outbox rows, returned ready to send)."""
        rows = [{"device_id": item.device_id, **{name: getattr(item, name) for name in _DEVICE_FIELDS},
                 "faults": list(item.faults)} for item in facts]
        event_rows = [{"device_id": d, "at": at, "kind": kind, "data": data} for d, at, kind, data in events]
        notices = list(notices)
        with self.dispatching() as session:
            if rows:
                session.execute(self._upsert_device_status, rows)
            if event_rows:
                session.execute(insert(_table(DeviceEvent)), event_rows)
            if not notices:
                return []
            ids = session.scalars(_INSERT_OUTBOX, [{
                "alarm_uid": f"device:{n.subject}"[:40], "kind": "notice", "payload": dump_effect(n)[1],
                "created_at": now, "attempts": 0} for n in notices]).all()
            return [Outgoing(i, f"device:{n.subject}"[:40], n) for i, n in zip(ids, notices, strict=True)]

    @cached_property
    def _upsert_device_status(self) -> Any:
        table = DeviceStatus.__table__
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        columns = {name: statement.excluded[name] for name in (*_DEVICE_FIELDS, "faults")}
        return statement.on_conflict_do_update(index_elements=[table.c.device_id], set_=columns)

    def device_events(self, device_id: str, limit: int = 200) -> list[DeviceEvent]:
        with self.session() as session:
            return list(session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device_id)
                                        .order_by(DeviceEvent.id.desc()).limit(limit)))

    def running_visits(self) -> list[VisitRules]:
        with self.session() as session:
            rows = session.scalars(select(Visit).where(Visit.status.in_(("open", "pre_alerted"))))
            return [_visit(row) for row in rows]

    def save_visit(self, visit: VisitRules) -> VisitRules:
        with self.dispatching() as session:
            row = session.get(Visit, visit.id) if visit.id is not None else None
            if row is None:
                row = Visit(device_id=visit.device_id)
                session.add(row)
            row.status, row.interval_s, row.opened_at = visit.status.value, visit.interval_s, visit.opened_at
            row.deadline_at, row.pre_alerted_at = visit.deadline_at, visit.pre_alerted_at
            row.closed_at, row.note = visit.closed_at, visit.note
            session.flush()
            return _visit(row)

    # ---- read side for the API -------------------------------------------------------------------

    def alarm_page(self, *, state: str = "open", site: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, limit: int = 50, offset: int = 0,
                   ) -> tuple[int, list[tuple[int, AlarmState]]]:
        """(total, [(incident id, state)]) newest first, filtered by open/closed/all, site and time."""
        query = select(Alarm).join(Incident, Incident.id == Alarm.incident_id)
        if state == "open":
            query = query.where(Alarm.is_open)
        elif state == "closed":
            query = query.where(~Alarm.is_open)
        if site:
            query = query.where(Incident.site_id == site)
        if since:
            query = query.where(Alarm.raised_at >= since)
        if until:
            query = query.where(Alarm.raised_at < until)
        with self.session() as session:
            total, rows = paged(session, query, Alarm.raised_at.desc(), limit=limit, offset=offset)
            return total, [(row.incident_id, load_state(row.state)) for row in rows]

    def alarm_with_timeline(self, uid: str) -> tuple[int, AlarmState, list[TimelineEntry]] | None:
        with self.session() as session:
            row = session.get(Alarm, uid)
            if row is None:
                return None
            entries = session.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == row.incident_id)
                                      .order_by(TimelineEntry.id))
            return row.incident_id, load_state(row.state), list(entries)


def paged(session: Session, query: Select[Any], *order_by: Any, limit: int, offset: int) -> tuple[int, list[Any]]:
    """(how many rows the query has in all, one page of them in this order)."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, list(session.scalars(query.order_by(*order_by).offset(offset).limit(limit)))


# A device_status row's columns but the key and the faults (a list, stored as given).
_DEVICE_FIELDS = tuple(c.name for c in DeviceStatus.__table__.columns if c.name not in ("device_id", "faults"))


def _visit(row: Visit) -> VisitRules:
    return VisitRules(device_id=row.device_id, interval_s=row.interval_s, opened_at=row.opened_at,
                      deadline_at=row.deadline_at, status=VisitStatus(row.status), note=row.note,
                      pre_alerted_at=row.pre_alerted_at, closed_at=row.closed_at, id=row.id)


def _incident_for(state: AlarmState, now: datetime) -> dict[str, Any]:
    where = state.plan.where
    position: dict[str, Any] | None = None
    if state.position is not None:
        position = {k: v for k, v in vars(state.position).items() if v is not None}
    return {
        "alarm_uid": state.uid, "opened_at": now, "occurred_at": state.raised_at, "status": "open",
        "site_id": where.site_id, "site_name": where.site_name, "location": where.describe() or None,
        "position": position, "person_affected": state.plan.device.person_name,
        "affected_person_id": person.id if (person := state.plan.device.person) else None,
        "reporter": f"device {state.device_id}", "kind": state.kind, "drill": state.plan.drill,
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the HTTP API read while the dispatcher writes; FULL sync keeps a stored alarm
    # stored through a power cut, which is what `received` promises the device.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    # Checkpoints beside the writer (`checkpoint`, once a second): one inside a commit would hold
    # up whichever decision happens to fill the log. The automatic one stays as a backstop for
    # a log that grew to 40 MB anyway, and a reset log is cut back to 64 MB.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
