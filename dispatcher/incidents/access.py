"""Who may see which incident record (AVG/GDPR: only those who need it).

| who | sees |
| --- | --- |
| coordinator | every record in full, the offender register, the audit log |
| team lead of the person affected | that record (not who the offender is), and does the aftercare |
| the person affected, the one who reported it | their own record and what was done with it (not who the offender is) |
| operator | what the control room already saw of an alarm: time, place, person, timeline |
| everyone else | counts only |

A team lead is whoever the agreement file says `leads` one of the affected person's teams.
Which facts inside a record each reader may learn (duress, offenders' names) is decided in
dispatcher/visibility.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    FULL = "full"  # the coordinator
    INVOLVED = "involved"  # team lead, the person affected, the reporter
    ALARM = "alarm"  # the control room: the alarm part only
    NONE = "none"


@dataclass(frozen=True)
class Reader:
    username: str
    roles: frozenset[str]
    person_id: str | None
    display_name: str = ""


def access_to(reader: Reader, *, affected_person_id: str | None, reported_by_user: str | None, from_alarm: bool,
              leads_of: Callable[[str], Iterable[str]]) -> Access:
    """`leads_of(person_id)` gives the person ids of that person's team leads."""
    if "coordinator" in reader.roles:
        return Access.FULL
    if reported_by_user is not None and reported_by_user == reader.username:
        return Access.INVOLVED
    if reader.person_id and affected_person_id and (
            reader.person_id == affected_person_id or reader.person_id in set(leads_of(affected_person_id))):
        return Access.INVOLVED
    if from_alarm and "operator" in reader.roles:
        return Access.ALARM
    return Access.NONE

