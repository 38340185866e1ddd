"""Facts that only some readers may learn. Every API answer, page, live feed and export asks
here, so the API and the pages cannot disagree. Pure: roles and access levels in, answers out.

Duress. The duress PIN answers the device like a cancel and escalates in silence, because
the aggressor may be watching the employee's screen. The fact reaches the control room (role
operator) and, through their page, text or call, the responders who are coming or still asked
to come; nobody else — not a responder who declined, the coordinator, the team lead, the
person it happened to or anyone who reads an export. Roles combine: an operator who is also a
coordinator sees it everywhere. For everyone else the duress entries leave the timeline, a step
that duress started reads as started for a severe alarm, the control room's notes on a duress
alarm stay with the control room (they may speak of it), and an alarm carries no duress field.
Until the control room closes a duress alarm, its incident record (which the person affected
may open) ends for them where the device's story did — at the "cancel" — so a screen an
aggressor may be watching shows no help still coming. A wrong PIN, too, shows the device a
cancel while the alarm goes on: the same holds from the first wrong PIN.

Offenders. Who the offender is — the register, the free-text offenders field, whom a sanction
is against and its letter — is for the coordinator (full access). A team lead, the person
affected and whoever reported the incident learn that there is an offender and what was
decided, not who.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dispatcher.incidents.access import Access

CONTROL_ROOM = "operator"
DURESS_KINDS = frozenset({"duress", "cancel_ignored_after_duress"})
DURESS_REASON = "duress"
SEVERE_REASON = "severe"  # what a step started by duress says to those who may not know
CONTROL_ROOM_NOTES = frozenset({"note"})  # entries that are the control room's own words
WRONG_PIN_REASONS = frozenset({"wrong_pin", "locked"})  # the device was shown a cancel


def sees_duress(roles: Iterable[str]) -> bool:
    return CONTROL_ROOM in set(roles)


def responder_told_of_duress(*, coming: bool, asked: bool) -> bool:
    """On a responder's own page: whoever is coming (also after the alarm closed) and whoever
    is still asked to come must approach with care; one who declined, or was never needed, is
    not coming and is not told."""
    return coming or asked


def sees_offenders(access: Access) -> bool:
    """Names, addresses and particulars of offenders, and the letters to them."""
    return access is Access.FULL


def story_ends_at_cancel(entries: Iterable[tuple[str, Mapping[str, Any]]], *, duress: bool, running: bool) -> bool:
    """Whether this reader (`duress`: they `sees_duress`) sees a record as the device shows its
    alarm: cancelled, nothing after. `running`: the record of an alarm not closed yet."""
    return _cancel_shown_at(list(entries), duress=duress, running=running) is not None


def _cancel_shown_at(entries: list[tuple[str, Mapping[str, Any]]], *, duress: bool, running: bool) -> int | None:
    """Where the device was shown "cancelled" while the alarm went on (duress, a wrong PIN),
    when this reader must see the story end there; else None."""
    if not running or duress:
        return None
    return next((i for i, (kind, data) in enumerate(entries)
                 if kind == "duress" or (kind == "cancel_refused" and data.get("reason") in WRONG_PIN_REASONS)),
                None)


def timeline_for(entries: Iterable[tuple[str, Mapping[str, Any]]], *, duress: bool,
                 running: bool = False) -> list[dict[str, Any] | None]:
    """For each timeline entry (kind, data) in order, the data this reader may see, or None
    where the entry is not for them. `duress`: the reader `sees_duress`; `running`: these are
    an incident record's entries and its alarm is not closed yet (`story_ends_at_cancel`)."""
    entries = list(entries)
    if duress:
        return [dict(data) for _, data in entries]
    kinds = [kind for kind, _ in entries]
    under_duress = "duress" in kinds
    cut = _cancel_shown_at(entries, duress=duress, running=running)
    shown: list[dict[str, Any] | None] = []
    for index, (kind, data) in enumerate(entries):
        after_cancel = cut is not None and index >= cut
        if kind in DURESS_KINDS or after_cancel or (under_duress and kind in CONTROL_ROOM_NOTES):
            shown.append(None)
            continue
        visible = dict(data)
        if visible.get("reason") == DURESS_REASON:
            visible["reason"] = SEVERE_REASON
        if under_duress and kind == "closed":
            visible.pop("note", None)  # the closing note is the control room's words too
        shown.append(visible)
    return shown
