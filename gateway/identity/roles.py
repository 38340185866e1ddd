"""The roles an account can hold: one list for the API's schema, the checks and the CLI.

| role | may |
| --- | --- |
| operator | the board: alarms (with duress: dispatcher/visibility.py), their actions, devices, the live feed |
| coordinator | alarms (read-only); incident records, approaches for known visitors |
| admin | users, API tokens, devices, service status |
| responder | their own call-outs |
| employee | report an incident about themselves and follow it |
| hrm | reports to the Arbeidsinspectie (werkprotocol art. 6.4), and only those tasks |
| kiosk | the presence kiosk at a site's entrance (gateway/presence/): signs people in and out, nothing else |
| display | a wall display (gateway/wall/): reads the wall's view of open alarms, faults and presence, nothing else |
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    RESPONDER = "responder"
    EMPLOYEE = "employee"
    HRM = "hrm"
    KIOSK = "kiosk"
    DISPLAY = "display"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)
