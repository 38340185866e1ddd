"""The current month against the response-time targets (dispatcher/incidents/targetwatch.py):
the board's warning and the same figures for operators' own tools. Counts and site names only."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from dispatcher.incidents.targets import Line, Share
from dispatcher.incidents.targetwatch import Current
from gateway.deps import DeskDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role

router = APIRouter(prefix="/api")


class ShareView(BaseModel):
    accepted_within_s: int
    target_pct: float
    met: int  # alarms accepted in time
    counted: int  # alarms that count for this target (see the README, "Response-time targets")
    share_pct: float | None  # None: no alarm counted yet
    shown: str  # rounded down to a tenth, as the pages show it
    met_target: bool | None  # None: no alarm counted yet


class LineView(BaseModel):
    month: str  # YYYY-MM in the organisation's time zone
    site: str | None  # None: every site
    below: bool
    shares: list[ShareView]


class CurrentTargets(BaseModel):
    month: str  # YYYY-MM in the organisation's time zone
    since: datetime
    computed_at: datetime  # figures are kept for a minute
    below: bool  # some target with alarms counted is not met this month
    overall: LineView
    sites: list[LineView]


@router.get("/targets/current", response_model=CurrentTargets, tags=["learning"])
async def current_targets(desk: DeskDep, _: Principal = Depends(require(Role.OPERATOR, Role.COORDINATOR,
                                                                         Role.ADMIN))) -> CurrentTargets:
    """This month's share of alarms accepted in time, per target, over every site and per site."""
    return current_view(await asyncio.to_thread(desk.targets.current))


def current_view(current: Current) -> CurrentTargets:
    return CurrentTargets(month=current.month, since=current.since, computed_at=current.computed_at,
                          below=bool(current.below), overall=line_view(current.overall),
                          sites=[line_view(line) for line in current.sites])


def line_view(line: Line) -> LineView:
    return LineView(month=line.month, site=line.site, below=line.below, shares=[_share(s) for s in line.shares])


def _share(share: Share) -> ShareView:
    percent = share.percent
    return ShareView(accepted_within_s=share.target.accepted_within, target_pct=float(share.target.share),
                     met=share.met, counted=share.counted, share_pct=None if percent is None else float(percent),
                     shown=share.shown, met_target=share.ok)
