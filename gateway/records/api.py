"""The incident record API: registration, reports without an alarm, aftercare, offenders and
sanctions, learning reports, audit. Who sees what is decided by the desk
(dispatcher/incidents/desk.py); here requests become calls and answers become JSON.

| who | may |
| --- | --- |
| coordinator | everything below |
| team lead (`leads:` in the agreement file) | their people's records; tick off aftercare |
| any signed-in employee | report an incident about themselves; follow their own reports; counts |
| operator | the alarm part of alarm records; the list of active access bans |
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from dispatcher.core.events import Outcome
from dispatcher.incidents.access import Reader
from dispatcher.incidents.desk import IncidentDesk, Invalid, NotAllowed, NotFound
from dispatcher.incidents.reports import Figures, Quarter, Report
from dispatcher.visibility import sees_duress
from gateway.board.targets import LineView, line_view
from gateway.deps import DeskDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.records.choices import (
    AbcdClass,
    AggressionForm,
    ContactKind,
    OffenderRelation,
    SanctionAnswer,
    SanctionKind,
    one_of,
    shown_as,
)
from gateway.records.views import (
    IncidentSummary,
    ProgressView,
    RecordView,
    SanctionView,
    TaskView,
    progress_view,
    record_view,
    sanction_view,
    summary,
    task_view,
)
from gateway.web.i18n import BOARD, pick_language
from gateway.web.params import MAX_ID, Day, Id, Moment, as_utc

T = TypeVar("T")


def reader_of(principal: Principal) -> Reader:
    return Reader(username=principal.username, roles=principal.roles, person_id=principal.person_id,
                  display_name=principal.display_name)


def error_messages(errors: dict[str, str], language: str) -> dict[str, str]:
    words = BOARD[language]
    return {name: words.get(f"err_{code}", code) for name, code in errors.items()}


async def on_desk(fn: Callable[..., T], *args: Any, language: str = "en", **kwargs: Any) -> T:
    """Run a desk call on a worker thread; its refusals become HTTP answers."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except Invalid as exc:
        raise HTTPException(422, {"message": BOARD[language]["not_saved"].format(n=len(exc.errors)),
                                  "errors": error_messages(exc.errors, language)}) from None


class FormErrors(BaseModel):
    """What the registration rules refuse: each wrong field with its message, in the reader's
    language (`?lang=`, else the account's); nothing is saved."""

    message: str = Field(examples=["Niet opgeslagen: 2 veld(en) kloppen niet."])
    errors: dict[str, str] = Field(
        description="field -> message; in an import the field is `<index>.<field>`",
        examples=[{"abcd_class": "Kies een van de mogelijkheden.", "description": "Vul dit in om de registratie af "
                   "te ronden."}])


class FieldError(BaseModel):
    """FastAPI's own: the request does not fit this document (a wrong type, a missing field)."""

    loc: list[str | int]
    msg: str
    type: str


class Refused(BaseModel):
    """422 of the record routes: the form's errors, or FastAPI's list when the request does not
    fit the document at all."""

    detail: FormErrors | list[FieldError]

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": {
        "message": "Niet opgeslagen: 1 veld(en) kloppen niet.",
        "errors": {"abcd_class": "Kies een van de mogelijkheden."}}}]})


class NotUnderstood(BaseModel):
    """422: a parameter that is not understood, in a sentence, or FastAPI's list."""

    detail: str | list[FieldError]


REFUSED: dict[int | str, dict[str, Any]] = {422: {"model": Refused, "description": "Not saved: see `detail`"}}
NOT_UNDERSTOOD: dict[int | str, dict[str, Any]] = {422: {"model": NotUnderstood,
                                                         "description": "A parameter that is not understood"}}
# A choice of the registration rules: the document lists it, the rules check it (gateway/records/choices.py).
ContactChoice = Annotated[str | None, shown_as(ContactKind)]
AbcdChoice = Annotated[str | None, shown_as(AbcdClass)]
FormsChoice = Annotated[list[str] | None, shown_as(AggressionForm, many=True)]


class IncidentList(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[IncidentSummary]


class Counts(BaseModel):
    total: int
    alarm: int
    report: int
    near_miss: int


class RegistrationPatch(BaseModel):
    """Any of the form's fields; absent ones stay as they are. `complete` finishes the
    registration (then class, description and a place are required) and plans the aftercare."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "complete": True, "abcd_class": "D", "aggression_forms": ["fysiek_zaakgericht", "verbaal_geweld"],
        "contact_kind": "counter", "description": "Klant sloeg de balie kapot.", "police_report": True}]})
    complete: bool = False
    occurred_at: Any = None
    site_id: str | None = None
    affected_person_id: str | None = None
    contact_kind: ContactChoice = None
    abcd_class: AbcdChoice = Field(None, description="A and B are not aggression; C verbal, D all other forms")
    aggression_forms: FormsChoice = None
    location: str | None = None
    reporter: str | None = None
    description: str | None = None
    offenders: str | None = None
    injury: str | None = None
    damage_description: str | None = None
    police_report_reference: str | None = None
    aftercare: str | None = None
    near_miss: bool | None = None
    hospital_admission: bool | None = None
    death: bool | None = None
    damage_personal_recovered: bool | None = None
    damage_employer_recovered: bool | None = None
    police_report: bool | None = None
    employer_address_used: bool | None = None
    damage_personal_amount: Any = None
    damage_employer_amount: Any = None
    police_report_date: Any = None
    # Bijlage 10's other fields, the colleagues and witnesses for aftercare, the debrief
    lasting_harm: bool | None = None
    injured: bool | None = None
    offender_relation: Annotated[str | None, shown_as(OffenderRelation)] = None
    damage_personal: bool | None = None
    damage_employer: bool | None = None
    damage_personal_description: str | None = None
    repeat_offender: bool | None = None
    sanction: Annotated[str | None, shown_as(SanctionAnswer)] = None
    sanction_other: str | None = None
    employee_signed_name: str | None = None
    employee_signed_on: Any = None
    lead_signed_name: str | None = None
    lead_signed_on: Any = None
    colleagues_involved: list[str] | None = Field(None, max_length=50)
    debrief_what: str | None = None
    debrief_went_well: str | None = None
    debrief_change: str | None = None
    debrief_actions: str | None = None
    team_meeting_on: Any = None


class ReportIn(BaseModel):
    """An incident without an alarm, about yourself."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "contact_kind": "phone", "description": "Hij dreigde langs te komen.", "aggression_forms": ["intimidatie"]}]})
    contact_kind: Annotated[str, one_of(ContactKind), shown_as(ContactKind, optional=False)]
    description: str = Field(min_length=1, max_length=5000)
    occurred_at: Moment | None = Field(None, description="default: now")
    site_id: str | None = None
    location: str | None = None
    aggression_forms: Annotated[list[str], shown_as(AggressionForm, many=True, optional=False)] = Field(
        default_factory=list)
    near_miss: bool = False
    injury: str | None = None


class ImportedEntry(BaseModel):
    at: Moment
    kind: str
    actor: str = "code4"
    channel: str | None = None
    notice: bool = False
    data: dict[str, Any] = Field(default_factory=dict)


class ImportedIncident(RegistrationPatch):
    """A record from an earlier system: the form's fields, where it came from, and (for an
    alarm) its timeline in code4's own format, so the response figures count it too."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "occurred_at": "2026-03-02T09:15:00+01:00", "source": "report", "contact_kind": "phone", "abcd_class": "C",
        "aggression_forms": ["verbaal_geweld"], "description": "Scheldpartij.", "completed": True}]})
    # Required here, where a patch may leave it out: narrower than the parent's field on purpose.
    occurred_at: Moment
    source: Literal["alarm", "report"] = "alarm"
    kind: str | None = None
    outcome: Outcome | None = None
    drill: bool = False
    completed: bool = False
    timeline: list[ImportedEntry] = Field(default_factory=list)


class ImportIn(BaseModel):
    incidents: list[ImportedIncident] = Field(min_length=1, max_length=2000)


class Imported(BaseModel):
    ids: list[int]


class TaskPatch(BaseModel):
    done: bool | None = None
    note: str | None = Field(None, max_length=2000)
    declined: bool = Field(False, description="aftercare offered and declined: it is offered again later")


class OffenderIn(BaseModel):
    """A new offender (name, …) or a known one (offender_id)."""

    offender_id: Id | None = None
    name: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=2000)


class OffenderFound(BaseModel):
    id: int
    name: str
    incidents: int


class SanctionIn(BaseModel):
    offender_id: Id
    kind: Annotated[str, one_of(SanctionKind), shown_as(SanctionKind, optional=False)]
    starts_on: Day | None = None


class BanView(BaseModel):
    sanction_id: int
    incident_id: int
    offender: str
    kind: str
    starts_on: date
    ends_on: date | None


class AuditView(BaseModel):
    at: datetime
    user: str
    action: str
    incident_id: int | None
    detail: dict[str, Any]


class FiguresView(BaseModel):
    count: int
    median_s: float | None
    p90_s: float | None


class ResponseFigures(BaseModel):
    alarms: int
    first_accept: FiguresView
    on_scene: FiguresView
    escalated_bhv: int
    escalated_police: int
    unanswered: int


class ReportView(BaseModel):
    total: int
    alarms: int
    reports: int
    near_misses: int
    by_site: dict[str, int]
    by_location: dict[str, int]
    by_form: dict[str, int]
    by_abcd: dict[str, int]
    by_contact: dict[str, int]
    heatmap: list[list[int]] = Field(description="[weekday 0=Monday][hour 0-23], local time")
    peak: dict[str, int] | None
    response: ResponseFigures
    quarters: dict[str, dict[str, Any]]
    hospital_admissions: int
    police_reports: int
    sanctions: dict[str, int]
    false_alarms: int = Field(0, description="not incidents: counted apart, as a measure of the alarm system")
    cancelled: int = Field(0, description="not incidents: counted apart")
    targets: list[LineView] = Field(default_factory=list, description="response-time targets met, per month and "
                                    "site (site null: every site); see the README, 'Response-time targets'")


def report_view(report: Report) -> ReportView:
    r = report.response

    def figures(f: Figures) -> FiguresView:
        return FiguresView(count=f.count, median_s=f.median, p90_s=f.p90)

    peak = report.peak
    return ReportView(
        total=report.total, alarms=report.alarms, reports=report.reports, near_misses=report.near_misses,
        by_site=dict(report.by_site), by_location=dict(report.by_location), by_form=dict(report.by_form),
        by_abcd=dict(report.by_abcd), by_contact=dict(report.by_contact), heatmap=report.heatmap,
        peak={"weekday": peak[0], "hour": peak[1], "count": peak[2]} if peak else None,
        response=ResponseFigures(alarms=r.alarms, first_accept=figures(r.first_accept), on_scene=figures(r.on_scene),
                                 escalated_bhv=r.bhv, escalated_police=r.police, unanswered=r.unanswered),
        quarters=dict(report.quarters), hospital_admissions=report.hospital_admissions,
        police_reports=report.police_reports, sanctions=dict(report.sanctions), false_alarms=report.false_alarms,
        cancelled=report.cancelled, targets=[line_view(line) for line in report.targets.lines]
        if report.targets else [])


router = APIRouter(prefix="/api")
signed_in = require()
coordinator = require(Role.COORDINATOR)


def lang_of(request: Request, principal: Principal) -> str:
    asked = request.query_params.get("lang")
    return pick_language(asked, request.headers.get("accept-language")) if asked else principal.language


async def record_of(desk: IncidentDesk, incident_id: int, request: Request, principal: Principal) -> RecordView:
    access, record = await on_desk(desk.read, reader_of(principal), incident_id)
    return record_view(record, access, duress=sees_duress(principal.roles), desk=desk,
                       language=lang_of(request, principal), now=desk.clock.now())


@router.get("/incidents", response_model=IncidentList, tags=["incidents"])
async def incidents(
    desk: DeskDep,
    site: str | None = None, since: Moment | None = None, until: Moment | None = None,
    status: Literal["todo", "open", "reported", "registered", "anonymised"] | None = Query(
        None, description="todo: not yet registered by the coordinator"),
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_ID),
    principal: Principal = Depends(signed_in),
) -> IncidentList:
    """The records you may see: all for the coordinator; your people's for a team lead; your
    own; alarm records for the control room. Everyone else gets an empty list (see /counts)."""
    total, rows = await on_desk(desk.page, reader_of(principal), site=site, since=as_utc(since),
                                until=as_utc(until), status=status, limit=limit, offset=offset)
    return IncidentList(total=total, limit=limit, offset=offset, items=[summary(r) for r in rows])


@router.get("/incidents/counts", response_model=Counts, tags=["incidents"])
async def counts(desk: DeskDep, since: Moment | None = None, _: Principal = Depends(signed_in)) -> Counts:
    """How many incidents, for anyone signed in: never which."""
    return Counts(**await asyncio.to_thread(desk.records.counts, since=as_utc(since)))


@router.get("/incidents/{incident_id}", response_model=RecordView, tags=["incidents"])
async def incident(incident_id: Id, request: Request, desk: DeskDep,
                   principal: Principal = Depends(signed_in)) -> RecordView:
    """The record as far as you may see it (`access`: full, involved or alarm). Read is logged."""
    return await record_of(desk, incident_id, request, principal)


@router.patch("/incidents/{incident_id}", response_model=RecordView, tags=["incidents"], responses=REFUSED)
async def register(incident_id: Id, body: RegistrationPatch, request: Request, desk: DeskDep,
                   principal: Principal = Depends(coordinator)) -> RecordView:
    """Save fields of the registration form. 422 names each field that is wrong; then nothing is saved."""
    language = lang_of(request, principal)
    raw = body.model_dump(exclude_unset=True)
    complete = raw.pop("complete", False)
    await on_desk(desk.register, reader_of(principal), incident_id, raw, complete=complete, language=language)
    return await record_of(desk, incident_id, request, principal)


@router.post("/incidents/import", response_model=Imported, status_code=201, tags=["incidents"], responses=REFUSED)
async def import_records(body: ImportIn, request: Request, desk: DeskDep,
                         principal: Principal = Depends(require(Role.COORDINATOR, Role.ADMIN))) -> Imported:
    """Bring in earlier records (from a spreadsheet or a previous system). All or nothing:
    422 names each wrong field as `<index>.<field>`."""
    items = [item.model_dump(exclude_unset=True, exclude={"complete"}) for item in body.incidents]
    ids = await on_desk(desk.import_records, reader_of(principal), items, language=lang_of(request, principal))
    return Imported(ids=ids)


@router.post("/reports", response_model=ProgressView, status_code=201, tags=["reports by employees"],
             responses=REFUSED)
async def report(body: ReportIn, request: Request, desk: DeskDep,
                 principal: Principal = Depends(signed_in)) -> ProgressView:
    """Report an incident that had no alarm (phone, near-incident, afterwards from home)."""
    saved = await on_desk(desk.report, reader_of(principal), body.model_dump(exclude_none=True),
                          language=lang_of(request, principal))
    [progress] = await asyncio.to_thread(desk.progress, [saved])
    return progress_view(progress)


@router.get("/me/reports", response_model=list[ProgressView], tags=["reports by employees"])
async def my_reports(desk: DeskDep, principal: Principal = Depends(signed_in)) -> list[ProgressView]:
    """Your reports and the incidents that happened to you, with what was done about them."""
    return [progress_view(p) for p in await on_desk(desk.my_reports, reader_of(principal))]


@router.get("/tasks", response_model=list[TaskView], tags=["aftercare"])
async def tasks(desk: DeskDep, overdue: bool = False, principal: Principal = Depends(signed_in)) -> list[TaskView]:
    """Open tasks: all for the coordinator, your people's for a team lead (aftercare and telling
    HRM), the reports to the Arbeidsinspectie for HRM."""
    found = await on_desk(desk.open_tasks, reader_of(principal), overdue=overdue)
    now = desk.clock.now()
    return [task_view(task, now) for task, _ in found]


@router.patch("/tasks/{task_id}", response_model=TaskView, tags=["aftercare"], responses=REFUSED)
async def update_task(task_id: Id, body: TaskPatch, desk: DeskDep,
                      principal: Principal = Depends(signed_in)) -> TaskView:
    task = await on_desk(desk.update_task, reader_of(principal), task_id, done=body.done, note=body.note,
                         declined=body.declined)
    return task_view(task, desk.clock.now())


@router.get("/offenders", response_model=list[OffenderFound], tags=["offenders and sanctions"], responses=REFUSED)
async def offenders(desk: DeskDep, q: str = Query(..., description="part of the name"),
                    principal: Principal = Depends(coordinator)) -> list[OffenderFound]:
    found = await on_desk(desk.find_offenders, reader_of(principal), q)
    return [OffenderFound(id=o.id, name=o.name, incidents=n) for o, n in found]


@router.post("/incidents/{incident_id}/offenders", response_model=RecordView, tags=["offenders and sanctions"],
             responses=REFUSED)
async def add_offender(incident_id: Id, body: OffenderIn, request: Request, desk: DeskDep,
                       principal: Principal = Depends(coordinator)) -> RecordView:
    reader = reader_of(principal)
    if body.offender_id is not None:
        await on_desk(desk.link_offender, reader, incident_id, body.offender_id)
    else:
        await on_desk(desk.add_offender, reader, incident_id, name=body.name or "", address=body.address,
                      notes=body.notes, language=lang_of(request, principal))
    return await record_of(desk, incident_id, request, principal)


@router.delete("/incidents/{incident_id}/offenders/{offender_id}", status_code=204,
               tags=["offenders and sanctions"], responses=REFUSED)
async def unlink_offender(incident_id: Id, offender_id: Id, desk: DeskDep,
                          principal: Principal = Depends(coordinator)) -> None:
    await on_desk(desk.unlink_offender, reader_of(principal), incident_id, offender_id)


@router.post("/incidents/{incident_id}/sanctions", response_model=SanctionView, status_code=201,
             tags=["offenders and sanctions"], responses=REFUSED)
async def decide(incident_id: Id, body: SanctionIn, desk: DeskDep,
                 principal: Principal = Depends(coordinator)) -> SanctionView:
    """Record the coordinator's decision; the letter (Dutch) is written and kept with the record."""
    sanction = await on_desk(desk.decide_sanction, reader_of(principal), incident_id, body.offender_id,
                             kind=body.kind, starts_on=body.starts_on)
    return sanction_view(sanction, full=True)


@router.get("/sanctions/{sanction_id}/letter", response_class=PlainTextResponse, tags=["offenders and sanctions"])
async def letter(sanction_id: Id, desk: DeskDep, principal: Principal = Depends(coordinator)) -> PlainTextResponse:
    sanction = await on_desk(desk.letter, reader_of(principal), sanction_id)
    return PlainTextResponse(sanction.letter, headers={"Cache-Control": "no-store"})


@router.get("/bans", response_model=list[BanView], tags=["offenders and sanctions"])
async def bans(desk: DeskDep,
               principal: Principal = Depends(require(Role.COORDINATOR, Role.OPERATOR))) -> list[BanView]:
    """Access bans in force today, soonest ending first: reception must know whom to refuse."""
    found = await on_desk(desk.active_bans, reader_of(principal))
    return [BanView(sanction_id=s.id, incident_id=s.incident_id, offender=o.name, kind=s.kind,
                    starts_on=s.starts_on, ends_on=s.ends_on) for s, o in found]


@router.get("/audit", response_model=list[AuditView], tags=["incidents"])
async def audit(desk: DeskDep, incident: Id | None = None, user: str | None = None,
                principal: Principal = Depends(coordinator)) -> list[AuditView]:
    """Who read or changed incident records, newest first."""
    entries = await on_desk(desk.audit_log, reader_of(principal), incident_id=incident, user=user)
    return [AuditView(at=e.at, user=e.user, action=e.action, incident_id=e.incident_id, detail=e.detail)
            for e in entries]


@router.get("/learning/summary", response_model=ReportView, tags=["learning"])
async def learning(desk: DeskDep, since: Day | None = None, until: Day | None = Query(None, description="exclusive"),
                   site: str | None = None, principal: Principal = Depends(coordinator)) -> ReportView:
    report = await on_desk(desk.learning_report, reader_of(principal), since=since, until=until, site=site)
    return report_view(report)


@router.get("/learning/quarterly", response_model=ReportView, tags=["learning"], responses=NOT_UNDERSTOOD)
async def quarterly(desk: DeskDep, quarter: str = Query(..., description="e.g. 2026-Q3"), site: str | None = None,
                    principal: Principal = Depends(coordinator)) -> ReportView:
    try:
        chosen = Quarter.parse(quarter)
    except ValueError:
        raise HTTPException(422, f"not a quarter: {quarter!r} (use e.g. 2026-Q3)") from None
    report, _ = await on_desk(desk.quarterly, reader_of(principal), chosen, site=site)
    return report_view(report)


@router.get("/learning/incidents.csv", tags=["learning"], response_class=Response)
async def export(desk: DeskDep, since: Day | None = None, until: Day | None = None, site: str | None = None,
                 principal: Principal = Depends(coordinator)) -> Response:
    """One line per incident, without names or descriptions: for a spreadsheet or management."""
    text = await on_desk(desk.export_csv, reader_of(principal), since=since, until=until, site=site)
    name = f"code4-incidenten-{since or 'begin'}-{until or 'nu'}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
