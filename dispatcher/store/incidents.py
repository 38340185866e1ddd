"""Incident records in the database: the registration, reports without an alarm, aftercare
tasks, offenders and sanctions, the audit log, the rows the learning reports count, and
anonymising after the retention period.

Every change writes its audit entry in the same transaction as the change itself, so the log
cannot miss one. Access rules are not here: `dispatcher.incidents.desk` decides who may ask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from dispatcher.core.events import NOT_REAL, Outcome
from dispatcher.core.machine import SYSTEM
from dispatcher.incidents.reports import Response, Row, response_of
from dispatcher.incidents.retention import ACTOR, anonymised_incident, anonymised_timeline
from dispatcher.incidents.rules import AFTERCARE_KINDS, PlannedTask
from dispatcher.store.repository import Store, paged
from dispatcher.store.schema import (
    AftercareTask,
    Alarm,
    AuditEntry,
    Incident,
    IncidentOffender,
    Offender,
    OutboxItem,
    Sanction,
    TimelineEntry,
)

RESPONSE_KINDS = ("alarm_raised", "accepted", "on_scene", "step_started", "police_requested", "confirmed",
                  "notified", "unanswered", "repeated", "closed")


@dataclass
class LinkedOffender:
    offender: Offender
    other_incidents: list[int]  # earlier or later incidents with the same offender


@dataclass
class Record:
    incident: Incident
    timeline: list[TimelineEntry]
    tasks: list[AftercareTask]
    offenders: list[LinkedOffender]
    sanctions: list[Sanction]
    alarm_open: bool = False


@dataclass
class Scope:
    """Which incidents a list shows: all, or those about these people or reported by this user."""

    everything: bool = False
    people: set[str] = field(default_factory=set)
    username: str | None = None
    alarms: bool = False  # the control room: incidents that came from an alarm


class IncidentRecords:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _session(self) -> Any:
        return self._store.session()

    # ---- reading ------------------------------------------------------------------------------------

    def record(self, incident_id: int) -> Record | None:
        with self._session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return None
            timeline = list(session.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
                                            .order_by(TimelineEntry.id)))
            tasks = list(session.scalars(select(AftercareTask).where(AftercareTask.incident_id == incident_id)
                                         .order_by(AftercareTask.due_at, AftercareTask.id)))
            offenders = [LinkedOffender(o, self._incidents_of(session, o.id, but=incident_id))
                         for o in session.scalars(select(Offender).join(IncidentOffender)
                                                  .where(IncidentOffender.incident_id == incident_id)
                                                  .order_by(Offender.id))]
            sanctions = list(session.scalars(select(Sanction).where(Sanction.incident_id == incident_id)
                                             .order_by(Sanction.id)))
            alarm_open = bool(incident.alarm_uid and session.scalar(
                select(Alarm.is_open).where(Alarm.uid == incident.alarm_uid)))
            return Record(incident, timeline, tasks, offenders, sanctions, alarm_open)

    def summary(self, incident_id: int) -> Incident | None:
        with self._session() as session:
            return session.get(Incident, incident_id)

    def page(self, scope: Scope, *, site: str | None = None, since: datetime | None = None,
             until: datetime | None = None, status: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[int, list[Incident]]:
        query = select(Incident).where(_visible(scope))
        if site:
            query = query.where(Incident.site_id == site)
        if since:
            query = query.where(Incident.occurred_at >= since)
        if until:
            query = query.where(Incident.occurred_at < until)
        if status == "todo":
            query = query.where(Incident.completed_at.is_(None), Incident.anonymised_at.is_(None),
                                ~Incident.drill)
        elif status:
            query = query.where(Incident.status == status)
        with self._session() as session:
            return paged(session, query, Incident.occurred_at.desc(), Incident.id.desc(), limit=limit, offset=offset)

    def follow_up(self, incident_ids: Sequence[int]) -> dict[int, tuple[list[AftercareTask], list[Sanction]]]:
        """Per incident its aftercare tasks and sanctions: what a reporter is shown came of it."""
        found: dict[int, tuple[list[AftercareTask], list[Sanction]]] = {i: ([], []) for i in incident_ids}
        with self._session() as session:
            for task in session.scalars(select(AftercareTask).where(AftercareTask.incident_id.in_(incident_ids))
                                        .order_by(AftercareTask.due_at, AftercareTask.id)):
                found[task.incident_id][0].append(task)
            for sanction in session.scalars(select(Sanction).where(Sanction.incident_id.in_(incident_ids))
                                            .order_by(Sanction.id)):
                found[sanction.incident_id][1].append(sanction)
        return found

    def counts(self, *, since: datetime | None = None) -> dict[str, int]:
        """For everyone: how many, never which."""
        query = select(Incident.source, Incident.near_miss, func.count()).where(~Incident.drill)
        if since:
            query = query.where(Incident.occurred_at >= since)
        with self._session() as session:
            counts = {"total": 0, "alarm": 0, "report": 0, "near_miss": 0}
            for source, near_miss, n in session.execute(query.group_by(Incident.source, Incident.near_miss)):
                counts["total"] += n
                counts[source] = counts.get(source, 0) + n
                counts["near_miss"] += n if near_miss else 0
            return counts

    def report_rows(self, *, since: datetime | None = None, until: datetime | None = None,
                    site: str | None = None) -> list[Row]:
        query = select(Incident)
        if since:
            query = query.where(Incident.occurred_at >= since)
        if until:
            query = query.where(Incident.occurred_at < until)
        if site:
            query = query.where(Incident.site_id == site)
        with self._session() as session:
            incidents = list(session.scalars(query.order_by(Incident.occurred_at)))
            ids = [i.id for i in incidents if i.source != "report"]
            entries: dict[int, list[tuple[datetime, str, dict[str, Any]]]] = {}
            for chunk in _chunks(ids, 500):
                for incident_id, at, kind, data in session.execute(
                        select(TimelineEntry.incident_id, TimelineEntry.at, TimelineEntry.kind, TimelineEntry.data)
                        .where(TimelineEntry.incident_id.in_(chunk), TimelineEntry.kind.in_(RESPONSE_KINDS))):
                    entries.setdefault(incident_id, []).append((at, kind, data))
        return [_row(i, response_of(entries.get(i.id, ()))) for i in incidents]

    # ---- writing -------------------------------------------------------------------------------------

    def update(self, incident_id: int, changes: dict[str, Any], *, user: str, now: datetime,
               complete: bool = False) -> Incident:
        with self._session() as session:
            incident = session.get(Incident, incident_id)
            assert incident is not None
            for name, value in changes.items():
                setattr(incident, name, value)
            incident.updated_at = now
            if complete and incident.completed_at is None:
                incident.completed_at, incident.status = now, "registered"
            _audit(session, user, "complete" if complete else "update", incident_id, now,
                   {"fields": sorted(changes)})
            return incident

    def create_report(self, values: dict[str, Any], *, user: str, now: datetime) -> int:
        with self._session() as session:
            incident = Incident(opened_at=now, status="reported", source="report", reported_by_user=user, **values)
            session.add(incident)
            session.flush()
            _audit(session, user, "report", incident.id, now, {"fields": sorted(values)})
            return incident.id

    def import_records(self, records: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]], *, user: str,
                       now: datetime) -> list[int]:
        """Records from an earlier system (or the test data generator), with their timelines, in
        one transaction: all of them or none."""
        with self._session() as session:
            ids = []
            for values, timeline in records:
                incident = Incident(opened_at=values.get("occurred_at", now), **values)
                session.add(incident)
                session.flush()
                session.add_all(TimelineEntry(incident_id=incident.id, **entry) for entry in timeline)
                ids.append(incident.id)
            _audit(session, user, "import", None, now, {"incidents": len(ids), "first": ids[:1], "last": ids[-1:]})
            return ids

    def add_tasks(self, incident_id: int, planned: Iterable[PlannedTask], *, user: str, now: datetime,
                  once: bool = True, aftercare_planned: bool = False) -> list[PlannedTask]:
        """Add planned tasks; with `once`, only those whose kind the incident does not have yet
        for that person (planning twice adds nothing). `aftercare_planned` marks the incident as
        planned, so the sweep for closed alarms passes it by. Returns those added."""
        with self._session() as session:
            planned = list(planned)
            if aftercare_planned and not session.execute(
                    update(Incident).where(Incident.id == incident_id, Incident.aftercare_planned_at.is_(None))
                    .values(aftercare_planned_at=now)).rowcount:
                # Another instance (or a read at the same moment) planned it: the row lock decided.
                planned = [t for t in planned if t.kind not in AFTERCARE_KINDS or t.subject is not None]
            present = {(kind, subject) for kind, subject in session.execute(
                select(AftercareTask.kind, AftercareTask.subject).where(AftercareTask.incident_id == incident_id))}
            added = [t for t in planned if not once or (t.kind, t.subject) not in present]
            for task in added:
                session.add(AftercareTask(incident_id=incident_id, kind=task.kind, title=task.title,
                                          due_at=task.due_at, subject=task.subject))
            if added:
                _audit(session, user, "tasks_planned", incident_id, now,
                       {"kinds": sorted({t.kind for t in added}), "count": len(added)})
            return added

    def closed_without_aftercare(self, limit: int = 200) -> list[Incident]:
        """Alarm records whose alarm closed as a real incident and whose aftercare is not planned."""
        with self._session() as session:
            return list(session.scalars(
                select(Incident).where(Incident.alarm_uid.is_not(None), Incident.outcome == Outcome.RESOLVED,
                                       ~Incident.drill, Incident.aftercare_planned_at.is_(None),
                                       Incident.anonymised_at.is_(None))
                .order_by(Incident.id).limit(limit)))

    def task(self, task_id: int) -> AftercareTask | None:
        with self._session() as session:
            return session.get(AftercareTask, task_id)

    def update_task(self, task_id: int, *, done: bool | None, note: str | None, user: str, by: str,
                    now: datetime, declined: bool = False) -> AftercareTask:
        with self._session() as session:
            task = session.get(AftercareTask, task_id)
            assert task is not None
            if done is True and task.done_at is None:
                task.done_at, task.done_by = now, by
            elif done is False:
                task.done_at = task.done_by = None
                task.declined = False
            if declined:
                task.declined = True
            if note is not None:
                task.note = note or None
            _audit(session, user, "task", task.incident_id, now, {"task": task_id, "done": task.done_at is not None})
            return task

    def open_tasks(self, *, due_before: datetime | None = None, kinds: Sequence[str] | None = None,
                   people: set[str] | None = None) -> list[tuple[AftercareTask, Incident]]:
        """Tasks not done, soonest first, with their incident; for a team lead only their people's."""
        query = (select(AftercareTask, Incident).join(Incident, Incident.id == AftercareTask.incident_id)
                 .where(AftercareTask.done_at.is_(None), Incident.anonymised_at.is_(None)))
        if due_before is not None:
            query = query.where(AftercareTask.due_at < due_before)
        if kinds is not None:
            query = query.where(AftercareTask.kind.in_(kinds))
        if people is not None:
            query = query.where(Incident.affected_person_id.in_(people or {""}))
        with self._session() as session:
            return [(task, incident) for task, incident in session.execute(
                query.order_by(AftercareTask.due_at, AftercareTask.id))]

    # ---- offenders and sanctions -------------------------------------------------------------------------

    def find_offenders(self, text: str, limit: int = 20) -> list[tuple[Offender, int]]:
        """Offenders whose name contains `text`, with how many incidents they were in."""
        pattern = f"%{text.strip().lower()}%"
        with self._session() as session:
            rows = session.execute(
                select(Offender, func.count(IncidentOffender.incident_id))
                .outerjoin(IncidentOffender, IncidentOffender.offender_id == Offender.id)
                .where(func.lower(Offender.name).like(pattern), Offender.anonymised_at.is_(None))
                .group_by(Offender.id).order_by(Offender.name).limit(limit))
            return [(offender, n) for offender, n in rows]

    def add_offender(self, incident_id: int, *, name: str, address: str | None, notes: str | None, user: str,
                     now: datetime) -> Offender:
        with self._session() as session:
            offender = Offender(name=name, address=address, notes=notes, created_at=now)
            session.add(offender)
            session.flush()
            session.add(IncidentOffender(incident_id=incident_id, offender_id=offender.id))
            _audit(session, user, "offender_added", incident_id, now, {"offender": offender.id})
            return offender

    def link_offender(self, incident_id: int, offender_id: int, *, user: str, now: datetime) -> bool:
        with self._session() as session:
            if session.get(Offender, offender_id) is None:
                return False
            if session.get(IncidentOffender, (incident_id, offender_id)) is None:
                session.add(IncidentOffender(incident_id=incident_id, offender_id=offender_id))
                _audit(session, user, "offender_linked", incident_id, now, {"offender": offender_id})
            return True

    def unlink_offender(self, incident_id: int, offender_id: int, *, user: str, now: datetime) -> bool:
        with self._session() as session:
            gone = session.execute(delete(IncidentOffender).where(
                IncidentOffender.incident_id == incident_id, IncidentOffender.offender_id == offender_id)).rowcount
            if gone:
                _audit(session, user, "offender_unlinked", incident_id, now, {"offender": offender_id})
            return bool(gone)

    def offender(self, offender_id: int) -> tuple[Offender, list[int]] | None:
        with self._session() as session:
            offender = session.get(Offender, offender_id)
            if offender is None:
                return None
            return offender, self._incidents_of(session, offender_id, but=None)

    def earlier_incidents(self, offender_id: int, incident: Incident) -> list[int]:
        """The offender's real incidents before this one: what makes this a repeat. Not a drill,
        a cancelled or false alarm, a near-incident, nor class A or B (no aggression)."""
        with self._session() as session:
            return list(session.scalars(
                select(Incident.id).join(IncidentOffender, IncidentOffender.incident_id == Incident.id)
                .where(IncidentOffender.offender_id == offender_id, Incident.id != incident.id,
                       Incident.occurred_at < incident.occurred_at, ~Incident.drill, ~Incident.near_miss,
                       or_(Incident.outcome.is_(None), Incident.outcome.not_in(NOT_REAL)),
                       or_(Incident.abcd_class.is_(None), Incident.abcd_class.not_in(("A", "B"))))
                .order_by(Incident.occurred_at)))

    def add_sanction(self, *, incident_id: int, offender_id: int, kind: str, suggested: str | None, decided_by: str,
                     starts_on: date, ends_on: date | None, letter: str, user: str, now: datetime) -> Sanction:
        with self._session() as session:
            sanction = Sanction(incident_id=incident_id, offender_id=offender_id, kind=kind, suggested=suggested,
                                decided_by=decided_by, decided_at=now, starts_on=starts_on, ends_on=ends_on,
                                letter=letter)
            session.add(sanction)
            incident = session.get(Incident, incident_id)
            assert incident is not None
            incident.sanction, incident.updated_at = kind, now  # recidive stays the coordinator's answer
            session.flush()
            _audit(session, user, "sanction", incident_id, now,
                   {"offender": offender_id, "kind": kind, "suggested": suggested})
            return sanction

    def sanction(self, sanction_id: int) -> Sanction | None:
        with self._session() as session:
            return session.get(Sanction, sanction_id)

    def active_bans(self, today: date) -> list[tuple[Sanction, Offender]]:
        with self._session() as session:
            return [(s, o) for s, o in session.execute(
                select(Sanction, Offender).join(Offender, Offender.id == Sanction.offender_id)
                .where(Sanction.kind != "warning", Sanction.starts_on <= today, Sanction.ends_on >= today,
                       Offender.anonymised_at.is_(None))
                .order_by(Sanction.ends_on))]

    # ---- audit ------------------------------------------------------------------------------------------

    def audit(self, user: str, action: str, incident_id: int | None, now: datetime,
              detail: dict[str, Any] | None = None) -> None:
        with self._session() as session:
            _audit(session, user, action, incident_id, now, detail or {})

    def audit_log(self, *, incident_id: int | None = None, user: str | None = None,
                  limit: int = 200) -> list[AuditEntry]:
        query = select(AuditEntry)
        if incident_id is not None:
            query = query.where(AuditEntry.incident_id == incident_id)
        if user is not None:
            query = query.where(AuditEntry.user == user)
        with self._session() as session:
            return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))

    # ---- retention --------------------------------------------------------------------------------------

    def anonymise_before(self, cutoff: datetime, *, now: datetime) -> list[int]:
        """Anonymise every record of an incident that happened before `cutoff` (alarms still open
        wait). The alarm's stored state and its sent messages are deleted: they hold names and
        numbers; the incident, its anonymised timeline and its figures stay."""
        with self._session() as session:
            due = list(session.scalars(
                select(Incident).outerjoin(Alarm, Alarm.uid == Incident.alarm_uid)
                .where(Incident.occurred_at < cutoff, Incident.anonymised_at.is_(None),
                       or_(Alarm.uid.is_(None), ~Alarm.is_open))
                .order_by(Incident.id).limit(1000)))
            for incident in due:
                values = {c: getattr(incident, c) for c in ("site_id", "location", "injury")}
                for name, value in anonymised_incident(values).items():
                    setattr(incident, name, value)
                incident.anonymised_at, incident.status = now, "anonymised"
                for entry in session.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)):
                    entry.data = anonymised_timeline(entry.data)
                    if entry.actor != SYSTEM:
                        entry.actor = ACTOR
                session.execute(update(AftercareTask).where(AftercareTask.incident_id == incident.id)
                                .values(note=None, done_by=None, subject=None))
                session.execute(update(Sanction).where(Sanction.incident_id == incident.id)
                                .values(letter="", decided_by=ACTOR))
                if incident.alarm_uid:
                    session.execute(delete(OutboxItem).where(OutboxItem.alarm_uid == incident.alarm_uid))
                    session.execute(delete(Alarm).where(Alarm.uid == incident.alarm_uid))
            ids = [i.id for i in due]
            if ids:
                self._anonymise_offenders(session, now)
                _audit(session, "system", "anonymised", None, now, {"incidents": ids})
            return ids

    @staticmethod
    def _anonymise_offenders(session: Session, now: datetime) -> None:
        """An offender goes once none of their incidents is still kept in full."""
        kept = (select(IncidentOffender.offender_id).join(Incident, Incident.id == IncidentOffender.incident_id)
                .where(Incident.anonymised_at.is_(None)))
        session.execute(update(Offender).where(Offender.anonymised_at.is_(None), Offender.id.not_in(kept))
                        .values(name=ACTOR, address=None, notes=None, anonymised_at=now))

    @staticmethod
    def _incidents_of(session: Session, offender_id: int, *, but: int | None) -> list[int]:
        query = select(IncidentOffender.incident_id).where(IncidentOffender.offender_id == offender_id)
        if but is not None:
            query = query.where(IncidentOffender.incident_id != but)
        return sorted(session.scalars(query))


def _visible(scope: Scope) -> Any:
    if scope.everything:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if scope.people:
        clauses.append(Incident.affected_person_id.in_(scope.people))
    if scope.username:
        clauses.append(Incident.reported_by_user == scope.username)
    if scope.alarms:
        clauses.append(Incident.alarm_uid.is_not(None))
    return or_(*clauses) if clauses else false()


def _audit(session: Session, user: str, action: str, incident_id: int | None, now: datetime,
           detail: dict[str, Any]) -> None:
    session.add(AuditEntry(at=now, user=user, action=action, incident_id=incident_id, detail=detail))


def _row(i: Incident, response: Response | None) -> Row:
    return Row(id=i.id, occurred_at=i.occurred_at, site=i.site_name, location=i.location, source=i.source,
               near_miss=i.near_miss, kind=i.kind, contact_kind=i.contact_kind, abcd_class=i.abcd_class,
               forms=tuple(i.aggression_forms or ()), outcome=i.outcome, drill=i.drill, injury=bool(i.injury),
               hospital_admission=bool(i.hospital_admission), police_report=i.police_report, sanction=i.sanction,
               response=response)


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
