"""The coordinator's pages and the employee's report form, server-rendered: the incident list
with the Inspectie SZW banner and overdue aftercare, the registration form, offenders and
sanctions with their letter, the short report form for a phone, "my reports", the access bans,
and the learning reports (heat map and charts drawn on the server, a printable quarterly).

Plain HTML forms (POST, then a redirect), so everything works without scripts and prints well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dispatcher.incidents.access import Access
from dispatcher.incidents.desk import IncidentDesk, Invalid, NotAllowed, NotFound
from dispatcher.incidents.registration import AMOUNTS, BOOLEANS, DATES, FIELDS
from dispatcher.incidents.reports import Quarter, Report
from dispatcher.incidents.rules import (
    AANGIFTE_CRITERIA,
    ABCD,
    CONTACT_KINDS,
    FORMS,
    INSPECTION_KINDS,
    OFFENDER_RELATIONS,
    SANCTION_ANSWERS,
    SANCTIONS,
)
from dispatcher.visibility import sees_duress, story_ends_at_cancel
from gateway.deps import DeskDep, SecureCookies
from gateway.identity.accounts import Principal
from gateway.identity.auth import require, safe_next
from gateway.identity.roles import Role
from gateway.records import charts
from gateway.records.api import on_desk, reader_of
from gateway.records.views import record_view, registration, task_view
from gateway.web.bodies import form_pairs
from gateway.web.i18n import BOARD
from gateway.web.pages import Renderer
from gateway.web.params import Id, form_day, form_id

MULTI = {"aggression_forms", "colleagues_involved"}


class Pages:
    """What a record page needs: the desk, and the renderer in the reader's language."""

    def __init__(self, desk: DeskDep, secure: SecureCookies) -> None:
        self.desk = desk
        self.renderer = Renderer(secure_cookies=secure)

    def language(self, request: Request, principal: Principal) -> str:
        return self.renderer.language(request, principal)

    def render(self, request: Request, name: str, principal: Principal, status: int = 200,
               **context: Any) -> Response:
        desk = self.desk
        return self.renderer.render(request, name, principal, status, when=_formatter(desk, "%d-%m-%Y %H:%M"),
                                    day=_formatter(desk, "%d-%m-%Y"), duration=_duration, pct=_share, **context)

    async def refused(self, request: Request, principal: Principal, call: Callable[..., Any], *args: Any,
                      **kwargs: Any) -> Any:
        """The desk's answer, or the page saying the record is not the reader's to see."""
        try:
            return await on_desk(call, *args, **kwargs)
        except HTTPException as exc:
            if exc.status_code == 403:
                message = BOARD[self.language(request, principal)]["forbidden_record"]
                return self.render(request, "forbidden.html", principal, status=403, message=message)
            raise


PagesDep = Annotated[Pages, Depends()]
router = APIRouter(include_in_schema=False)
signed_in = require(page=True)
coordinator = require(Role.COORDINATOR, page=True)


async def form_of(request: Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in await form_pairs(request):
        if key in MULTI:
            values.setdefault(key, []).append(value)
        else:
            values[key] = value
    return values


# ---- the list -----------------------------------------------------------------------------------


@router.get("/incidents")
async def incidents(request: Request, pages: PagesDep, principal: Principal = Depends(signed_in)) -> Response:
    desk = pages.desk
    reader = reader_of(principal)
    status = request.query_params.get("status") or ("todo" if principal.has(Role.COORDINATOR) else None)
    status = status if status in ("todo", "open", "reported", "registered", "anonymised") else None
    total, rows = await on_desk(desk.page, reader, status=status, limit=200)
    tasks = await on_desk(desk.open_tasks, reader)
    # Art. 6.4: the duty is shown to whoever must act on it (coordinator, afdelingshoofd, HRM).
    words = BOARD[pages.language(request, principal)]
    duties: dict[int, tuple[Any, list[str]]] = {}
    for t, i in tasks:
        if t.kind in INSPECTION_KINDS:
            duties.setdefault(i.id, (i, []))[1].append(t.kind)
    szw = [(i.id, duty_banner(words, i, kinds)) for i, kinds in duties.values()]
    counts = await asyncio.to_thread(desk.records.counts)
    now = desk.clock.now()
    return pages.render(request, "incidents.html", principal, rows=rows, total=total, shown=status,
                        tasks=[(task_view(t, now), i) for t, i in tasks], szw=szw, counts=counts,
                        coordinator=principal.has(Role.COORDINATOR), lead=desk.is_team_lead(reader),
                        hrm=principal.has(Role.HRM))


# ---- one record ---------------------------------------------------------------------------------------


@router.get("/incidents/{incident_id}")
async def record_page(incident_id: Id, request: Request, pages: PagesDep,
                      principal: Principal = Depends(signed_in)) -> Response:
    return await show_record(pages, request, principal, incident_id)


async def show_record(pages: Pages, request: Request, principal: Principal, incident_id: int, *, status: int = 200,
                      values: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> Response:
    desk = pages.desk
    found = await pages.refused(request, principal, desk.read, reader_of(principal), incident_id)
    if isinstance(found, Response):
        return found
    access, record = found
    lang = pages.language(request, principal)
    duress = sees_duress(principal.roles)
    view = record_view(record, access, duress=duress, desk=desk, language=lang, now=desk.clock.now())
    # While a duress (or wrong-PIN) alarm runs, those who may not know see it as the device
    # shows it: ended.
    alarm_open = record.alarm_open and not story_ends_at_cancel(
        ((e.kind, e.data) for e in record.timeline), duress=duress, running=record.alarm_open)
    query = request.query_params.get("q", "").strip()
    matches = await on_desk(desk.find_offenders, reader_of(principal), query) \
        if access is Access.FULL and len(query) >= 2 else []
    directory = desk.directory
    return pages.render(
        request, "record.html", principal, status=status, record=view, incident=record.incident,
        full=access is Access.FULL, alarm_only=access is Access.ALARM,
        can_tick=access is Access.FULL or (access is Access.INVOLVED
                                           and principal.person_id != record.incident.affected_person_id),
        values=values or _form_values(record.incident, desk), errors=errors or {},
        people=sorted(((p.id, p.name) for p in directory.org.people), key=lambda p: p[1]),
        sites=[(s.id, s.name) for s in directory.org.sites], forms=FORMS, abcd=ABCD, contact_kinds=CONTACT_KINDS,
        relations=OFFENDER_RELATIONS, sanction_answers=SANCTION_ANSWERS, aangifte_criteria=AANGIFTE_CRITERIA,
        sanctions=SANCTIONS, query=query, matches=matches, saved=request.query_params.get("saved"),
        alarm_open=alarm_open, today=desk.clock.now().astimezone(desk.tz).date().isoformat(),
        duty_banner=duty_banner(BOARD[lang], record.incident, view.duty) if view.duty else None)


@router.post("/incidents/{incident_id}")
async def save_record(incident_id: Id, request: Request, pages: PagesDep,
                      principal: Principal = Depends(coordinator)) -> Response:
    form = await form_of(request)
    raw = {name: form.get(name, [] if name in MULTI else "") for name in FIELDS if name in form or name in MULTI}
    complete = form.get("action") == "complete"
    try:
        await asyncio.to_thread(pages.desk.register, reader_of(principal), incident_id, raw, complete=complete)
    except Invalid as exc:
        return await show_record(pages, request, principal, incident_id, status=422, values={**raw},
                                 errors=exc.errors)
    except (NotFound, NotAllowed) as exc:
        raise HTTPException(404 if isinstance(exc, NotFound) else 403, str(exc)) from None
    return RedirectResponse(f"/incidents/{incident_id}?saved={'complete' if complete else '1'}", status_code=303)


@router.post("/incidents/{incident_id}/offenders")
async def offender(incident_id: Id, request: Request, pages: PagesDep,
                   principal: Principal = Depends(coordinator)) -> Response:
    desk = pages.desk
    form = await form_of(request)
    reader = reader_of(principal)
    if form.get("offender_id"):
        await on_desk(desk.link_offender, reader, incident_id, form_id(form["offender_id"]))
    elif form.get("unlink"):
        await on_desk(desk.unlink_offender, reader, incident_id, form_id(form["unlink"]))
    else:
        try:
            await asyncio.to_thread(desk.add_offender, reader, incident_id, name=form.get("name", ""),
                                    address=form.get("address"), notes=form.get("notes"))
        except Invalid as exc:
            return await show_record(pages, request, principal, incident_id, status=422,
                                     errors={f"offender_{k}": v for k, v in exc.errors.items()})
    return RedirectResponse(f"/incidents/{incident_id}#offenders", status_code=303)


@router.post("/incidents/{incident_id}/sanctions")
async def sanction(incident_id: Id, request: Request, pages: PagesDep,
                   principal: Principal = Depends(coordinator)) -> Response:
    form = await form_of(request)
    starts_on = form_day(form.get("starts_on"))
    if form.get("starts_on") and starts_on is None:
        return await show_record(pages, request, principal, incident_id, status=422,
                                 errors={"starts_on": "not_a_date"})
    decided = await on_desk(pages.desk.decide_sanction, reader_of(principal), incident_id,
                            form_id(form.get("offender")), kind=form.get("kind", ""), starts_on=starts_on)
    return RedirectResponse(f"/sanctions/{decided.id}/letter", status_code=303)


@router.get("/sanctions/{sanction_id}/letter")
async def letter(sanction_id: Id, request: Request, pages: PagesDep,
                 principal: Principal = Depends(coordinator)) -> Response:
    found = await on_desk(pages.desk.letter, reader_of(principal), sanction_id)
    return pages.render(request, "letter.html", principal, sanction=found)


@router.post("/tasks/{task_id}")
async def task(task_id: Id, request: Request, pages: PagesDep, principal: Principal = Depends(signed_in)) -> Response:
    form = await form_of(request)
    done = {"1": True, "0": False}.get(form.get("done", ""))
    note = form.get("note")
    updated = await pages.refused(request, principal, pages.desk.update_task, reader_of(principal), task_id,
                                  done=done, note=note, declined=form.get("declined") == "1")
    if isinstance(updated, Response):
        return updated
    return RedirectResponse(safe_next(form.get("back")) if form.get("back") else
                            f"/incidents/{updated.incident_id}#aftercare", status_code=303)


@router.get("/bans")
async def bans(request: Request, pages: PagesDep,
               principal: Principal = Depends(require(Role.COORDINATOR, Role.OPERATOR, page=True))) -> Response:
    found = await on_desk(pages.desk.active_bans, reader_of(principal))
    return pages.render(request, "bans.html", principal, bans=found)


# ---- the employee's report ------------------------------------------------------------------------------


@router.get("/report")
async def report_form(request: Request, pages: PagesDep, principal: Principal = Depends(signed_in)) -> Response:
    desk = pages.desk
    now = desk.clock.now().astimezone(desk.tz)
    return pages.render(request, "report.html", principal, values={"occurred_at": now.strftime("%Y-%m-%dT%H:%M")},
                        errors={}, **_report_choices(desk))


@router.post("/report")
async def send_report(request: Request, pages: PagesDep, principal: Principal = Depends(signed_in)) -> Response:
    desk = pages.desk
    form = await form_of(request)
    raw = {k: form.get(k, "") for k in ("occurred_at", "contact_kind", "site_id", "location", "description",
                                         "injury")}
    raw["aggression_forms"] = form.get("aggression_forms", [])
    raw["near_miss"] = "ja" if form.get("near_miss") else "nee"
    try:
        saved = await asyncio.to_thread(desk.report, reader_of(principal), raw)
    except Invalid as exc:
        return pages.render(request, "report.html", principal, status=422, values=raw, errors=exc.errors,
                            **_report_choices(desk))
    except NotAllowed:
        return pages.render(request, "report.html", principal, status=403, values=raw, errors={},
                            no_person=True, **_report_choices(desk))
    return RedirectResponse(f"/me/reports?new={saved.id}", status_code=303)


@router.get("/me/reports")
async def my_reports(request: Request, pages: PagesDep, principal: Principal = Depends(signed_in)) -> Response:
    found = await on_desk(pages.desk.my_reports, reader_of(principal))
    return pages.render(request, "my_reports.html", principal, reports=found, new=request.query_params.get("new"))


# ---- learning ------------------------------------------------------------------------------------------


@router.get("/learning")
async def learning(request: Request, pages: PagesDep, principal: Principal = Depends(coordinator)) -> Response:
    desk = pages.desk
    today = desk.clock.now().astimezone(desk.tz).date()
    since = form_day(request.query_params.get("from")) or date(today.year - 1, today.month, 1)
    until = form_day(request.query_params.get("to")) or today
    site = request.query_params.get("site") or None
    report = await on_desk(desk.learning_report, reader_of(principal), since=since,
                           until=until + timedelta(days=1), site=site)
    lang = pages.language(request, principal)
    csv_query = urlencode({k: v for k, v in (("since", since.isoformat()),
                                             ("until", (until + timedelta(days=1)).isoformat()),
                                             ("site", site)) if v})
    return pages.render(request, "learning.html", principal, report=report, since=since, until=until, site=site,
                        sites=[(s.id, s.name) for s in desk.directory.org.sites], csv_query=csv_query,
                        quarter=Quarter.of(today).previous().label, **_charts(report, lang))


@router.get("/learning/quarterly")
async def quarterly(request: Request, pages: PagesDep, principal: Principal = Depends(coordinator)) -> Response:
    desk = pages.desk
    today = desk.clock.now().astimezone(desk.tz).date()
    try:
        chosen = Quarter.parse(request.query_params.get("q") or Quarter.of(today).previous().label)
    except ValueError:
        raise HTTPException(422, "not a quarter (use e.g. 2026-Q3)") from None
    site = request.query_params.get("site") or None
    report, previous = await on_desk(desk.quarterly, reader_of(principal), chosen, site=site)
    lang = pages.language(request, principal)
    # For the works council (OR): the same figures without places, which may point at one person.
    works_council = request.query_params.get("for") == "or"
    observations = _observations(report, previous, lang, places=not works_council)
    return pages.render(request, "quarterly.html", principal, report=report, previous=previous, quarter=chosen,
                        organisation=desk.directory.org.organisation, site=site, works_council=works_council,
                        choices=[Quarter.of(today).previous(n).label for n in range(8)],
                        observations=observations, **_charts(report, lang))


# ---- helpers ----------------------------------------------------------------------------------------------


def _formatter(desk: IncidentDesk, pattern: str) -> Callable[[datetime | date | None], str]:
    def fmt(moment: datetime | date | None) -> str:
        if moment is None:
            return "–"
        if isinstance(moment, datetime):
            moment = moment.astimezone(desk.tz)
        return moment.strftime(pattern)

    return fmt


def duty_banner(words: dict[str, str], incident: Any, kinds: list[str]) -> str:
    """What art. 6.4 still asks for this incident, in one line."""
    what = words["szw_death"] if incident.death else (
        words["szw_hospital"] if incident.hospital_admission else words["szw_lasting"])
    return words["szw_banner"].format(id=incident.id, what=what,
                                      todo=" ".join(words[f"duty_{k}"] for k in INSPECTION_KINDS if k in kinds))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _share(part: int, whole: int) -> str:
    return f"{part} ({round(100 * part / whole)}%)" if whole else "–"


def _form_values(incident: Any, desk: IncidentDesk) -> dict[str, Any]:
    """The record as the form shows it: local time, Dutch amounts, ja/nee."""
    stored = registration(incident).model_dump()
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = stored.get(name)
        if name in BOOLEANS:
            values[name] = "" if value is None else ("ja" if value else "nee")
        elif name in AMOUNTS:
            values[name] = "" if value is None else f"{Decimal(value):.2f}".replace(".", ",")
        elif name == "occurred_at":
            values[name] = stored[name].astimezone(desk.tz).strftime("%Y-%m-%dT%H:%M")  # never empty
        elif name in DATES:
            values[name] = value.isoformat() if value else ""
        elif name in MULTI:
            values[name] = value or []
        else:
            values[name] = value or ""
    return values


def _report_choices(desk: IncidentDesk) -> dict[str, Any]:
    return {"sites": [(s.id, s.name) for s in desk.directory.org.sites], "forms": FORMS,
            "contact_kinds": CONTACT_KINDS}


def _charts(report: Report, lang: str) -> dict[str, Any]:
    t = BOARD[lang]
    days = [t[f"day_{d}"] for d in range(7)]
    peak = report.peak
    return {
        "heatmap": charts.heatmap(report.heatmap, days, label=t["heatmap_title"], first_hour=6, last_hour=22),
        "peak_text": t["heatmap_peak"].format(day=days[peak[0]], hour=f"{peak[1]:02d}", next=f"{peak[1] + 1:02d}",
                                              n=peak[2]) if peak else None,
        "chart_forms": charts.bars([(t[f"form_short_{f}"], n) for f, n in report.by_form], label=t["by_form"]),
        "chart_abcd": charts.bars([(t.get(f"abcd_short_{c}", c), n) for c, n in report.by_abcd], label=t["by_abcd"]),
        "chart_sites": charts.bars(report.by_site[:10], label=t["by_site"]),
        "chart_locations": charts.bars(report.by_location[:12], label=t["by_location"]),
        "chart_contact": charts.bars([(t.get(f"contact_{c}", c), n) for c, n in report.by_contact],
                                     label=t["by_contact"]),
        "chart_trend": charts.columns([(q, figures["total"]) for q, figures in report.quarters], label=t["trend"]),
    }


def _observations(report: Report, previous: Report, lang: str, *, places: bool = True) -> list[str]:
    """A few plain sentences for management: where the peak is, what changed."""
    t = BOARD[lang]
    notes = []
    if report.peak:
        day, hour, n = report.peak
        notes.append(t["heatmap_peak"].format(day=t[f"day_{day}"], hour=f"{hour:02d}", next=f"{hour + 1:02d}", n=n))
    if report.by_location and places:
        place, n = report.by_location[0]
        notes.append(t["obs_top_place"].format(place=place, n=n))
    if previous.total:
        notes.append(t["obs_change"].format(change=round(100 * (report.total - previous.total) / previous.total)))
    if report.response.unanswered:
        notes.append(t["obs_unanswered"].format(n=report.response.unanswered))
    return notes + _targets_missed(report, t)


def _targets_missed(report: Report, t: dict[str, str]) -> list[str]:
    """A sentence per month in which a response-time target was not met over every site."""
    table = report.targets
    if table is None:
        return []
    return [t["obs_target"].format(month=line.month, shown=s.shown, time=_duration(s.target.accepted_within),
                                   share=s.target.share_text, met=s.met, counted=s.counted)
            for line in table.lines if line.site is None for s in line.shares if s.ok is False]

