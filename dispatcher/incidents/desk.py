"""The coordinator's desk: every read and change of an incident record goes through here, so
the access rule and the audit log cannot be forgotten by a page or an endpoint.

Synchronous (database calls); the HTTP layer runs it on a worker thread. The housekeeping
loop (anonymising after the retention period) is the one async part.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from dispatcher.clock import Clock
from dispatcher.core import AlarmState
from dispatcher.core.effects import TIMELINE_KINDS
from dispatcher.core.events import NOT_REAL, Outcome
from dispatcher.incidents.access import Access, Reader, access_to
from dispatcher.incidents.registration import Checked, check_registration
from dispatcher.incidents.reports import ALARM_KINDS, Quarter, Report, Row, build_report, to_csv
from dispatcher.incidents.rules import (
    AFTERCARE_KINDS,
    INSPECTION_KINDS,
    SANCTIONS,
    PlannedTask,
    Suggestion,
    aftercare_plan,
    ban_ends,
    inspection_plan,
    is_serious,
    renewed_offer,
    suggest_sanction,
    warning_letter,
)
from dispatcher.incidents.targets import TargetTable, measure
from dispatcher.incidents.targetwatch import TargetWatch
from dispatcher.store.incidents import IncidentRecords, Record, Scope
from dispatcher.store.schema import AftercareTask, Incident, Offender, Sanction
from escalation.directory import Directory

log = structlog.get_logger("code4.incidents")

HOUSEKEEPING_HOUR = 3  # local time: anonymising runs at night
REPORT_FIELDS = ("occurred_at", "contact_kind", "site_id", "location", "description", "aggression_forms",
                 "near_miss", "injury")
SWEEP_EVERY = timedelta(seconds=15)  # closed alarms get their aftercare within this, or at the next read
HRM_KINDS = ("ai_phone", "ai_written")  # what HRM does: report to the Arbeidsinspectie
MAX_IMPORT = 2000
MAX_CHANNEL = 16  # the timeline's column


class NotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


class Invalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Progress:
    """What the reporter sees of their report: that it led somewhere."""

    incident: Incident
    tasks_planned: int
    tasks_done: int
    next_task_due: datetime | None
    sanction: str | None
    sanction_ends: date | None


class IncidentDesk:
    def __init__(self, records: IncidentRecords, *, directory: Callable[[], Directory], clock: Clock) -> None:
        self.records = records
        self._directory = directory
        self.clock = clock
        self._closed = asyncio.Event()  # an alarm closed: plan its aftercare now, not at the next round
        self.targets = TargetWatch(lambda since: records.report_rows(since=since), clock=clock, directory=directory)

    @property
    def directory(self) -> Directory:
        return self._directory()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.directory.org.timezone)

    # ---- who may see what -----------------------------------------------------------------------------

    def access(self, reader: Reader, incident: Incident) -> Access:
        return access_to(reader, affected_person_id=incident.affected_person_id,
                         reported_by_user=incident.reported_by_user, from_alarm=incident.alarm_uid is not None,
                         leads_of=lambda pid: [p.id for p in self.directory.leads_of(pid)])

    def scope(self, reader: Reader) -> Scope:
        if "coordinator" in reader.roles:
            return Scope(everything=True)
        people = self.directory.led_by(reader.person_id) if reader.person_id else set()
        if reader.person_id:
            people.add(reader.person_id)
        return Scope(people=people, username=reader.username, alarms="operator" in reader.roles)

    def is_team_lead(self, reader: Reader) -> bool:
        return bool(reader.person_id and self.directory.led_by(reader.person_id))

    def read(self, reader: Reader, incident_id: int) -> tuple[Access, Record]:
        self.plan_closed_alarms()
        record = self.records.record(incident_id)
        if record is None:
            raise NotFound(f"no incident {incident_id}")
        access = self.access(reader, record.incident)
        if access is Access.NONE:
            self.records.audit(reader.username, "read_refused", incident_id, self.clock.now())
            log.warning("incident record refused", security=True, user=reader.username, incident_id=incident_id)
            raise NotAllowed(f"incident {incident_id} is not yours to see")
        self.records.audit(reader.username, "read", incident_id, self.clock.now(), {"access": access.value})
        return access, record

    def _need(self, reader: Reader, incident_id: int, *allowed: Access) -> Incident:
        incident = self.records.summary(incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if self.access(reader, incident) not in allowed:
            self.records.audit(reader.username, "change_refused", incident_id, self.clock.now())
            log.warning("incident change refused", security=True, user=reader.username, incident_id=incident_id)
            raise NotAllowed(f"incident {incident_id} is not yours to change")
        if incident.anonymised_at is not None:
            raise Invalid({"incident": "anonymised"})
        return incident

    def page(self, reader: Reader, **filters: Any) -> tuple[int, list[Incident]]:
        self.plan_closed_alarms()
        total, rows = self.records.page(self.scope(reader), **filters)
        if rows:
            self.records.audit(reader.username, "list", None, self.clock.now(), {"incidents": [r.id for r in rows]})
        return total, rows

    # ---- the registration form ---------------------------------------------------------------------------

    def check(self, raw: Mapping[str, Any], current: Mapping[str, Any], *, complete: bool) -> Checked:
        directory = self.directory
        return check_registration(raw, current=current, complete=complete, now=self.clock.now(), tz=self.tz,
                                  people={p.id: p.name for p in directory.org.people},
                                  sites={s.id: s.name for s in directory.org.sites})

    def register(self, reader: Reader, incident_id: int, raw: Mapping[str, Any], *, complete: bool = False) -> Incident:
        """The coordinator saves the form; `complete` marks the registration done and plans the
        aftercare. Nothing is saved when a field is wrong."""
        incident = self._need(reader, incident_id, Access.FULL)
        checked = self.check(raw, _columns(incident), complete=complete)
        if not checked.ok:
            raise Invalid(checked.errors)
        now = self.clock.now()
        saved = self.records.update(incident_id, checked.changes, user=reader.username, now=now, complete=complete)
        self._plan(saved, reader.username)
        log.info("incident record saved", incident_id=incident_id, user=reader.username, complete=complete,
                 fields=sorted(checked.changes))
        return saved

    def report(self, reader: Reader, raw: Mapping[str, Any]) -> Incident:
        """An incident without an alarm, reported by the person it happened to."""
        if not reader.person_id:
            raise NotAllowed("your account is not linked to a person in the agreement file; ask the administrator")
        values = {k: v for k, v in raw.items() if k in REPORT_FIELDS}
        values.setdefault("occurred_at", self.clock.now())
        checked = self.check(values, {}, complete=False)
        for required in ("description", "contact_kind"):
            if not checked.changes.get(required):
                checked.errors.setdefault(required, "required")
        if not checked.ok:
            raise Invalid(checked.errors)
        person = self.directory.people.get(reader.person_id)
        changes = dict(checked.changes)
        changes.update(affected_person_id=reader.person_id, person_affected=person.name if person else reader.username,
                       reporter=person.name if person else reader.username)
        now = self.clock.now()
        incident_id = self.records.create_report(changes, user=reader.username, now=now)
        saved = self.records.summary(incident_id)
        assert saved is not None
        self._plan(saved, reader.username)
        log.info("incident reported without an alarm", incident_id=incident_id, user=reader.username,
                 near_miss=saved.near_miss)
        return saved

    def _plan(self, incident: Incident, user: str) -> None:
        """Aftercare as soon as there is an incident: a report at once, an alarm once it closed
        (not a drill, a false alarm or a cancelled press); for the person affected and for each
        colleague or witness named. The Arbeidsinspectie tasks whenever art. 6.4 applies."""
        now = self.clock.now()
        planned: list[PlannedTask] = []
        # A report made here, or an alarm that closed (imported history gets no aftercare).
        closed = (incident.source == "report" and incident.reported_by_user is not None) or (
            incident.outcome is not None and incident.alarm_uid is not None)
        wanted = closed and not incident.drill and incident.outcome not in NOT_REAL
        if wanted:
            schedule = [(step.after, step.task) for step in self.directory.org.records.aftercare]
            subjects: list[str | None] = [None]
            subjects += [self.directory.people[p].name for p in incident.colleagues_involved or []
                         if p in self.directory.people]
            for subject in subjects:
                planned += aftercare_plan(schedule, incident.occurred_at, tz=self.tz, subject=subject)
        if is_serious(hospital_admission=incident.hospital_admission, death=incident.death,
                      lasting_harm=incident.lasting_harm):
            planned += inspection_plan(now)
        added = self.records.add_tasks(incident.id, planned, user=user, now=now,
                                       aftercare_planned=wanted and incident.aftercare_planned_at is None)
        if any(t.kind in INSPECTION_KINDS for t in added):
            log.warning("art. 6.4: the afdelingshoofd must tell HRM and HRM must report to the Nederlandse "
                        "Arbeidsinspectie now; tasks opened", incident_id=incident.id)
        if aftercare_tasks := [t for t in added if t.kind in AFTERCARE_KINDS]:
            log.info("aftercare planned for the team lead", incident_id=incident.id, tasks=len(aftercare_tasks),
                     people=len({t.subject for t in aftercare_tasks}), first_due=aftercare_tasks[0].due_at.isoformat())

    def alarm_changed(self, state: AlarmState) -> None:
        """A dispatcher listener: a closed alarm wakes the housekeeping round at once."""
        if not state.is_open:
            self._closed.set()

    def plan_closed_alarms(self) -> list[int]:
        """Aftercare for every alarm that closed since the last look: the talks start at the alarm,
        not at the paperwork. Run by the housekeeping loop and before every read of tasks or records."""
        due = self.records.closed_without_aftercare()
        for incident in due:
            self._plan(incident, "system")
        return [i.id for i in due]

    def import_records(self, reader: Reader, items: list[dict[str, Any]]) -> list[int]:
        """Earlier records, with their alarm timelines, for the reports: each item holds the
        form's fields plus `source`, `kind`, `outcome`, `drill`, `completed` and `timeline`.
        Nothing is stored unless every item is right."""
        if not {"admin", "coordinator"} & reader.roles:
            raise NotAllowed("importing records is for the coordinator or an administrator")
        if not 1 <= len(items) <= MAX_IMPORT:
            raise Invalid({"incidents": "not_a_choice"})
        errors: dict[str, str] = {}
        records = []
        now = self.clock.now()
        for index, item in enumerate(items):
            checked = self.check(item, {}, complete=bool(item.get("completed")))
            problems = dict(checked.errors)
            if item.get("source", "alarm") not in ("alarm", "report"):
                problems["source"] = "not_a_choice"
            if item.get("outcome") not in (None, *Outcome):
                problems["outcome"] = "not_a_choice"
            if "occurred_at" not in checked.changes:
                problems.setdefault("occurred_at", "required")
            if item.get("kind") not in (None, *ALARM_KINDS):
                problems["kind"] = "not_a_choice"  # a kind is code4's word, never free text
            timeline = item.get("timeline") or []
            if any(e.get("kind") not in TIMELINE_KINDS for e in timeline):
                problems["timeline"] = "not_a_choice"
            elif any(len(e.get("channel") or "") > MAX_CHANNEL for e in timeline):
                problems["timeline"] = "too_long"
            errors.update({f"{index}.{name}": code for name, code in problems.items()})
            if problems:
                continue
            values = {**checked.changes, "source": item.get("source", "alarm"), "kind": item.get("kind"),
                      "outcome": item.get("outcome"), "drill": bool(item.get("drill")),
                      "status": "registered" if item.get("completed") else "open",
                      "completed_at": now if item.get("completed") else None}
            records.append((values, [{"at": e["at"], "kind": e["kind"], "actor": str(e.get("actor") or "code4")[:200],
                                      "channel": e.get("channel"), "notice": bool(e.get("notice")),
                                      "data": dict(e.get("data") or {})} for e in timeline]))
        if errors:
            raise Invalid(errors)
        ids = self.records.import_records(records, user=reader.username, now=now)
        log.info("incident records imported", user=reader.username, incidents=len(ids))
        return ids

    # ---- aftercare ---------------------------------------------------------------------------------------

    def update_task(self, reader: Reader, task_id: int, *, done: bool | None, note: str | None,
                    declined: bool = False) -> AftercareTask:
        """Tick a task off (who and when is recorded: for the Arbeidsinspectie tasks, who reported
        when). `declined`: the person did not want aftercare now; it is offered again later."""
        task = self.records.task(task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        if "hrm" in reader.roles and task.kind in HRM_KINDS and "coordinator" not in reader.roles:
            incident = self.records.summary(task.incident_id)
            if incident is None or incident.anonymised_at is not None:
                raise NotFound(f"no task {task_id}")
        else:
            incident = self._need(reader, task.incident_id, Access.FULL, Access.INVOLVED)
            if "coordinator" not in reader.roles and reader.person_id == incident.affected_person_id:
                raise NotAllowed("aftercare tasks are for the team lead and the coordinator")
        if note is not None and len(note) > 2000:
            raise Invalid({"note": "too_long"})
        if declined and task.kind not in AFTERCARE_KINDS:
            raise Invalid({"declined": "not_a_choice"})
        by = self._name(reader)
        now = self.clock.now()
        updated = self.records.update_task(task_id, done=True if declined else done, note=note, user=reader.username,
                                           by=by, now=now, declined=declined)
        if declined:
            self.records.add_tasks(task.incident_id, [renewed_offer(now, task.subject)], user=reader.username,
                                   now=now, once=False)
            log.info("aftercare declined; offered again later", incident_id=task.incident_id, task=task_id)
        if task.kind in INSPECTION_KINDS and updated.done_at is not None:
            log.info("art. 6.4 duty done", incident_id=task.incident_id, kind=task.kind, by=by)
        return updated

    def open_tasks(self, reader: Reader, *, overdue: bool = False) -> list[tuple[AftercareTask, Incident]]:
        """The coordinator sees every open task; a team lead those of their people; HRM the
        reports to the Arbeidsinspectie."""
        self.plan_closed_alarms()
        due_before = self.clock.now() if overdue else None
        found = []
        if "coordinator" in reader.roles:
            found = self.records.open_tasks(due_before=due_before)
        else:
            if reader.person_id and (people := self.directory.led_by(reader.person_id)):
                found = self.records.open_tasks(due_before=due_before, people=people)
            if "hrm" in reader.roles:
                seen = {task.id for task, _ in found}
                found += [(t, i) for t, i in self.records.open_tasks(due_before=due_before, kinds=HRM_KINDS)
                          if t.id not in seen]
                found.sort(key=lambda pair: (pair[0].due_at, pair[0].id))
        if not found:
            return []
        if found:  # a task names its incident and the person: a read like any other
            self.records.audit(reader.username, "tasks", None, self.clock.now(),
                               {"incidents": sorted({i.id for _, i in found})})
        return found

    # ---- offenders and sanctions ----------------------------------------------------------------------------

    def _coordinator(self, reader: Reader) -> None:
        if "coordinator" not in reader.roles:
            raise NotAllowed("this is for the coordinator")

    def find_offenders(self, reader: Reader, text: str) -> list[tuple[Offender, int]]:
        self._coordinator(reader)
        if len(text.strip()) < 2:
            raise Invalid({"q": "too_short"})
        self.records.audit(reader.username, "offender_search", None, self.clock.now())
        return self.records.find_offenders(text)

    def add_offender(self, reader: Reader, incident_id: int, *, name: str, address: str | None,
                     notes: str | None) -> Offender:
        self._need(reader, incident_id, Access.FULL)
        errors = {k: "too_long" for k, v, n in (("name", name, 200), ("address", address, 300),
                                                ("notes", notes, 2000)) if v and len(v) > n}
        if not name.strip():
            errors["name"] = "required"
        if errors:
            raise Invalid(errors)
        return self.records.add_offender(incident_id, name=name.strip(), address=(address or "").strip() or None,
                                         notes=(notes or "").strip() or None, user=reader.username,
                                         now=self.clock.now())

    def link_offender(self, reader: Reader, incident_id: int, offender_id: int) -> None:
        self._need(reader, incident_id, Access.FULL)
        if not self.records.link_offender(incident_id, offender_id, user=reader.username, now=self.clock.now()):
            raise NotFound(f"no offender {offender_id}")

    def unlink_offender(self, reader: Reader, incident_id: int, offender_id: int) -> None:
        self._need(reader, incident_id, Access.FULL)
        if not self.records.unlink_offender(incident_id, offender_id, user=reader.username, now=self.clock.now()):
            raise NotFound(f"offender {offender_id} is not linked to incident {incident_id}")

    def suggestion(self, incident: Incident, offender_id: int) -> tuple[Suggestion | None, list[int]]:
        """The sanctions table's answer for this offender in this incident, and the earlier
        incidents that make it a repeat: real incidents only (not a drill, a cancelled or false
        alarm, a near-incident, nor class A or B)."""
        earlier = self.records.earlier_incidents(offender_id, incident)
        return suggest_sanction(list(incident.aggression_forms or []), repeat=bool(earlier)), earlier

    def decide_sanction(self, reader: Reader, incident_id: int, offender_id: int, *, kind: str,
                        starts_on: date | None = None) -> Sanction:
        """The coordinator decides (the suggestion is advice); the letter is written and kept."""
        incident = self._need(reader, incident_id, Access.FULL)
        if kind not in SANCTIONS:
            raise Invalid({"kind": "not_a_choice"})
        found = self.records.offender(offender_id)
        if found is None or incident_id not in found[1]:
            raise NotFound(f"offender {offender_id} is not linked to incident {incident_id}")
        offender = found[0]
        suggestion, _ = self.suggestion(incident, offender_id)
        today = self.clock.now().astimezone(self.tz).date()
        starts = starts_on or today
        ends = ban_ends(kind, starts)
        leads = self.directory.leads_of(incident.affected_person_id) if incident.affected_person_id else []
        letter = warning_letter(
            organisation=self.directory.org.organisation, offender=offender.name, address=offender.address,
            incident_on=incident.occurred_at.astimezone(self.tz).date(), contact_kind=incident.contact_kind,
            kind=kind, starts_on=starts, ends_on=ends, today=today,
            signed_by=leads[0].name if leads else "(naam afdelingshoofd)", reference=f"incident {incident_id}")
        sanction = self.records.add_sanction(
            incident_id=incident_id, offender_id=offender_id, kind=kind,
            suggested=suggestion.kind if suggestion else None, decided_by=self._name(reader), starts_on=starts,
            ends_on=ends, letter=letter, user=reader.username, now=self.clock.now())
        log.info("sanction decided", incident_id=incident_id, offender=offender_id, kind=kind,
                 suggested=suggestion.kind if suggestion else None, ends_on=str(ends) if ends else None)
        return sanction

    def letter(self, reader: Reader, sanction_id: int) -> Sanction:
        self._coordinator(reader)
        sanction = self.records.sanction(sanction_id)
        if sanction is None:
            raise NotFound(f"no sanction {sanction_id}")
        self.records.audit(reader.username, "letter", sanction.incident_id, self.clock.now())
        return sanction

    def active_bans(self, reader: Reader) -> list[tuple[Sanction, Offender]]:
        """For the coordinator, and for the control room and reception, who must refuse entry."""
        if not {"coordinator", "operator"} & reader.roles:
            raise NotAllowed("the list of access bans is for the coordinator and the control room")
        self.records.audit(reader.username, "bans", None, self.clock.now())
        return self.records.active_bans(self.clock.now().astimezone(self.tz).date())

    # ---- what the reporter sees ---------------------------------------------------------------------------

    def my_reports(self, reader: Reader) -> list[Progress]:
        """Incidents the reader reported or that happened to them, with what was done."""
        self.plan_closed_alarms()
        scope = Scope(people={reader.person_id} if reader.person_id else set(), username=reader.username)
        _, incidents = self.records.page(scope, limit=100)
        found = self.progress(incidents)
        if found:
            self.records.audit(reader.username, "list", None, self.clock.now(),
                               {"incidents": [p.incident.id for p in found], "own": True})
        return found

    def progress(self, incidents: list[Incident]) -> list[Progress]:
        """What came of these incidents: aftercare talks held and due, the latest measure."""
        follow_up = self.records.follow_up([i.id for i in incidents])
        found = []
        for incident in incidents:
            tasks, sanctions = follow_up[incident.id]
            aftercare = [t for t in tasks if t.kind == "aftercare"]
            latest = sanctions[-1] if sanctions else None
            found.append(Progress(incident, len(aftercare), sum(t.done_at is not None for t in aftercare),
                                  min((t.due_at for t in aftercare if t.done_at is None), default=None),
                                  latest.kind if latest else None, latest.ends_on if latest else None))
        return found

    # ---- learning ---------------------------------------------------------------------------------------------

    def learning_report(self, reader: Reader, *, since: date | None, until: date | None, site: str | None,
                        quarters: int = 4) -> Report:
        self._coordinator(reader)
        rows = self.records.report_rows(since=self._start_of(since), until=self._start_of(until), site=site)
        last = Quarter.of(self._local_today() if until is None else until - timedelta(days=1))
        self.records.audit(reader.username, "report", None, self.clock.now(), {"incidents": len(rows)})
        report = build_report(rows, tz=self.tz, quarters=[last.previous(n) for n in reversed(range(quarters))])
        report.targets = self._measure(rows)
        return report

    def quarterly(self, reader: Reader, quarter: Quarter, *, site: str | None = None) -> tuple[Report, Report]:
        """The quarter's report and the previous quarter's, for comparison; the trend covers a year."""
        self._coordinator(reader)
        trend = [quarter.previous(n) for n in reversed(range(4))]
        year = self.records.report_rows(since=self._start_of(trend[0].start), until=self._start_of(quarter.end),
                                        site=site)
        self.records.audit(reader.username, "report", None, self.clock.now(), {"quarter": quarter.label})

        def within(q: Quarter) -> list[Any]:
            return [r for r in year if Quarter.of(r.occurred_at.astimezone(self.tz)) == q]

        report = build_report(within(quarter), tz=self.tz)
        report.quarters = build_report(year, tz=self.tz, quarters=trend).quarters
        report.targets = self._measure(within(quarter))
        return report, build_report(within(quarter.previous()), tz=self.tz)

    def export_csv(self, reader: Reader, *, since: date | None, until: date | None, site: str | None) -> str:
        self._coordinator(reader)
        rows = self.records.report_rows(since=self._start_of(since), until=self._start_of(until), site=site)
        self.records.audit(reader.username, "export", None, self.clock.now(), {"incidents": len(rows)})
        return to_csv(rows, tz=self.tz, places=self.directory.place_names())

    def audit_log(self, reader: Reader, *, incident_id: int | None, user: str | None) -> list[Any]:
        self._coordinator(reader)
        return self.records.audit_log(incident_id=incident_id, user=user)

    # ---- retention ----------------------------------------------------------------------------------------------

    def anonymise_due(self) -> list[int]:
        retention = self.directory.org.records.retention
        now = self.clock.now()
        ids = self.records.anonymise_before(now - timedelta(seconds=retention), now=now)
        if ids:
            log.info("incident records anonymised after the retention period", incidents=len(ids),
                     retention_days=retention // 86400)
        return ids

    async def run_housekeeping(self) -> None:
        """Aftercare for closed alarms every few seconds; anonymising at start-up (to catch up
        after downtime) and every night at 03:00 local time."""
        night = self.clock.now()
        while True:
            if self.clock.now() >= night:
                try:
                    while await asyncio.to_thread(self.anonymise_due):
                        pass  # a batch at a time; a large backlog takes several
                except Exception:  # a database outage must not end the service; try again next night
                    log.exception("anonymising incident records failed; trying again at the next run")
                night = self._next_night(self.clock.now())
            try:
                await asyncio.to_thread(self.plan_closed_alarms)
            except Exception:  # the next round, or the next read, plans them
                log.exception("planning aftercare for closed alarms failed; trying again shortly")
            await self._sleep_or_closed(min(night, self.clock.now() + SWEEP_EVERY))

    async def _sleep_or_closed(self, until: datetime) -> None:
        sleeping = asyncio.ensure_future(self.clock.sleep_until(until))
        woken = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            woken.cancel()
            self._closed.clear()

    def _next_night(self, now: datetime) -> datetime:
        local = now.astimezone(self.tz)
        run = local.replace(hour=HOUSEKEEPING_HOUR, minute=0, second=0, microsecond=0)
        if run <= local:
            run = (local + timedelta(days=1)).replace(hour=HOUSEKEEPING_HOUR, minute=0, second=0, microsecond=0)
        return run

    # ---- helpers ---------------------------------------------------------------------------------------------------

    def _measure(self, rows: list[Row]) -> TargetTable:
        return measure(rows, self.directory.org.response_targets, tz=self.tz, now=self.clock.now())

    def _local_today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def _start_of(self, day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=self.tz)

    def _name(self, reader: Reader) -> str:
        person = self.directory.people.get(reader.person_id or "")
        return person.name if person else (reader.display_name or reader.username)


def _columns(incident: Incident) -> dict[str, Any]:
    return {c.name: getattr(incident, c.key) for c in Incident.__table__.columns}

