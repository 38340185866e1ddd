"""What an incident record looks like to each reader, for the API and the pages alike. The
access level (dispatcher/incidents/access.py) decides which parts are filled in at all, and
dispatcher/visibility.py which facts (duress, offenders' names) a reader may learn, so a page
cannot show what its reader may not see."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from dispatcher.incidents.access import Access
from dispatcher.incidents.desk import IncidentDesk, Progress
from dispatcher.incidents.rules import INSPECTION_KINDS, is_serious
from dispatcher.store.incidents import Record
from dispatcher.store.schema import AftercareTask, Incident, Sanction
from dispatcher.visibility import sees_offenders
from gateway.board.views import TimelineView, timeline_view


class ResponderSeen(BaseModel):
    name: str
    role: int | None
    accepted_at: datetime | None
    on_scene_at: datetime | None


class TaskView(BaseModel):
    id: int
    incident_id: int
    kind: str
    title: str
    subject: str | None = Field(None, description="whom the talk is with; none: the person affected")
    declined: bool = False
    due_at: datetime
    done_at: datetime | None
    done_by: str | None
    note: str | None
    overdue: bool


class SanctionView(BaseModel):
    id: int
    kind: str
    suggested: str | None
    starts_on: date
    ends_on: date | None
    decided_by: str
    decided_at: datetime
    offender: str | None = None  # the coordinator's view only
    letter: str | None = None  # the coordinator's view only


class SuggestionView(BaseModel):
    kind: str
    deciding_form: str
    repeat: bool
    reason: str


class OffenderView(BaseModel):
    id: int
    name: str
    address: str | None
    notes: str | None
    other_incidents: list[int]
    suggestion: SuggestionView | None


class Registration(BaseModel):
    """The registration form's fields as stored."""

    occurred_at: datetime
    site_id: str | None
    affected_person_id: str | None
    person_affected: str | None
    contact_kind: str | None
    abcd_class: str | None
    aggression_forms: list[str]
    location: str | None
    reporter: str | None
    description: str | None
    offenders: str | None
    injury: str | None
    damage_description: str | None
    police_report_reference: str | None
    aftercare: str | None
    near_miss: bool
    hospital_admission: bool | None
    death: bool | None
    damage_personal_recovered: bool | None
    damage_employer_recovered: bool | None
    police_report: bool | None
    employer_address_used: bool | None
    damage_personal_amount: Decimal | None
    damage_employer_amount: Decimal | None
    police_report_date: date | None
    repeat_offender: bool | None
    sanction: str | None
    completed_at: datetime | None
    updated_at: datetime | None
    lasting_harm: bool | None = None
    injured: bool | None = None
    offender_relation: str | None = None
    damage_personal: bool | None = None
    damage_employer: bool | None = None
    damage_personal_description: str | None = None
    sanction_other: str | None = None
    employee_signed_name: str | None = None
    employee_signed_on: date | None = None
    lead_signed_name: str | None = None
    lead_signed_on: date | None = None
    colleagues_involved: list[str] = Field(default_factory=list)
    debrief_what: str | None = None
    debrief_went_well: str | None = None
    debrief_change: str | None = None
    debrief_actions: str | None = None
    team_meeting_on: date | None = None


class RecordView(BaseModel):
    access: str
    id: int
    alarm_uid: str | None
    source: str
    status: str
    outcome: str | None
    drill: bool
    opened_at: datetime
    occurred_at: datetime
    site: str | None
    location: str | None
    position: dict[str, Any] | None
    person_affected: str | None
    kind: str | None
    anonymised_at: datetime | None
    responders: list[ResponderSeen]
    timeline: list[TimelineView]
    registration: Registration | None = None
    team_leads: list[str] | None = None
    employer_address: str | None = None
    tasks: list[TaskView] | None = None
    sanctions: list[SanctionView] | None = None
    offenders_linked: int | None = Field(default=None, description="how many offenders are recorded (not who)")
    duty: list[str] | None = Field(default=None,
                                   description="art. 6.4 tasks still open: inform_hrm, ai_phone, ai_written")
    debrief_due: bool | None = Field(
        default=None, description="a serious incident: debrief it and discuss it in the team")
    repeat_suggested: list[int] | None = Field(
        default=None,
        description="earlier real incidents of the linked offenders: the register's answer to 'recidive?'")
    offender_register: list[OffenderView] | None = Field(default=None, description="the coordinator's view only")


class IncidentSummary(BaseModel):
    id: int
    alarm_uid: str | None
    source: str
    occurred_at: datetime
    site: str | None
    location: str | None
    kind: str | None
    contact_kind: str | None
    status: str
    outcome: str | None
    near_miss: bool
    drill: bool


class ProgressView(BaseModel):
    id: int
    occurred_at: datetime
    reported_at: datetime
    status: str
    registered_at: datetime | None
    aftercare_planned: int
    aftercare_done: int
    next_aftercare_due: datetime | None
    sanction: str | None
    sanction_ends: date | None
    police_report: bool | None
    police_report_date: date | None


def record_view(record: Record, access: Access, *, duress: bool, desk: IncidentDesk, language: str,
                now: datetime) -> RecordView:
    """`duress`: the reader may know of duress (dispatcher/visibility.py `sees_duress`)."""
    incident = record.incident
    offenders = sees_offenders(access)
    view = RecordView(
        access=access.value, id=incident.id, alarm_uid=incident.alarm_uid, source=incident.source,
        status=incident.status, outcome=incident.outcome, drill=incident.drill, opened_at=incident.opened_at,
        occurred_at=incident.occurred_at, site=incident.site_name, location=incident.location,
        position=incident.position, person_affected=incident.person_affected, kind=incident.kind,
        anonymised_at=incident.anonymised_at, responders=[],
        timeline=timeline_view(record.timeline, language, duress=duress, running=record.alarm_open),
    )
    view.responders = responders(view.timeline)
    if access is Access.ALARM:
        return view
    view.registration = registration(incident)
    if not offenders:
        view.registration.offenders = None
    view.team_leads = ([p.name for p in desk.directory.leads_of(incident.affected_person_id)]
                       if incident.affected_person_id else [])
    view.employer_address = desk.directory.org.records.employer_address
    view.tasks = [task_view(t, now) for t in record.tasks]
    names = {o.offender.id: o.offender.name for o in record.offenders}
    view.sanctions = [sanction_view(s, offender=names.get(s.offender_id), full=offenders) for s in record.sanctions]
    view.offenders_linked = len(record.offenders)
    view.duty = [t.kind for t in record.tasks if t.kind in INSPECTION_KINDS and t.done_at is None]
    serious = is_serious(hospital_admission=incident.hospital_admission, death=incident.death,
                         lasting_harm=incident.lasting_harm) or incident.abcd_class == "D"
    view.debrief_due = serious and not (incident.debrief_what and incident.team_meeting_on)
    if not offenders:
        return view
    view.offender_register = []
    view.repeat_suggested = []
    for linked in record.offenders:
        suggestion, earlier = desk.suggestion(incident, linked.offender.id)
        view.repeat_suggested += [i for i in earlier if i not in view.repeat_suggested]
        view.offender_register.append(OffenderView(
            id=linked.offender.id, name=linked.offender.name, address=linked.offender.address,
            notes=linked.offender.notes, other_incidents=linked.other_incidents,
            suggestion=SuggestionView(kind=suggestion.kind, deciding_form=suggestion.deciding_form,
                                      repeat=suggestion.repeat, reason=suggestion.reason) if suggestion else None))
    return view


def registration(incident: Incident) -> Registration:
    values = {name: getattr(incident, name) for name in Registration.model_fields}
    values["aggression_forms"] = list(incident.aggression_forms or [])
    values["colleagues_involved"] = list(incident.colleagues_involved or [])
    return Registration(**values)


def responders(timeline: list[TimelineView]) -> list[ResponderSeen]:
    """Who came and when, from the timeline: the form's "who responded"."""
    seen: dict[str, ResponderSeen] = {}
    for entry in timeline:
        name = entry.data.get("recipient")
        if not name:
            continue
        if entry.kind == "accepted" and name not in seen:
            seen[name] = ResponderSeen(name=name, role=entry.data.get("role"), accepted_at=entry.at, on_scene_at=None)
        elif entry.kind == "on_scene" and name in seen and seen[name].on_scene_at is None:
            seen[name].on_scene_at = entry.at
    return list(seen.values())


def task_view(task: AftercareTask, now: datetime) -> TaskView:
    return TaskView(id=task.id, incident_id=task.incident_id, kind=task.kind, title=task.title,
                    subject=task.subject, declined=bool(task.declined), due_at=task.due_at,
                    done_at=task.done_at, done_by=task.done_by, note=task.note,
                    overdue=task.done_at is None and task.due_at < now)


def summary(incident: Incident) -> IncidentSummary:
    return IncidentSummary(id=incident.id, alarm_uid=incident.alarm_uid, source=incident.source,
                           occurred_at=incident.occurred_at, site=incident.site_name, location=incident.location,
                           kind=incident.kind, contact_kind=incident.contact_kind, status=incident.status,
                           outcome=incident.outcome, near_miss=incident.near_miss, drill=incident.drill)


def progress_view(progress: Progress) -> ProgressView:
    i = progress.incident
    return ProgressView(id=i.id, occurred_at=i.occurred_at, reported_at=i.opened_at, status=i.status,
                        registered_at=i.completed_at, aftercare_planned=progress.tasks_planned,
                        aftercare_done=progress.tasks_done, next_aftercare_due=progress.next_task_due,
                        sanction=progress.sanction, sanction_ends=progress.sanction_ends,
                        police_report=i.police_report, police_report_date=i.police_report_date)


def sanction_view(sanction: Sanction, *, offender: str | None = None, full: bool) -> SanctionView:
    """Whom it is against and the letter only for who `sees_offenders` (`full`)."""
    return SanctionView(id=sanction.id, kind=sanction.kind, suggested=sanction.suggested,
                        starts_on=sanction.starts_on, ends_on=sanction.ends_on, decided_by=sanction.decided_by,
                        decided_at=sanction.decided_at, offender=offender if full else None,
                        letter=sanction.letter if full else None)

