"""What anonymising an incident record keeps: everything the learning reports count (when,
which site and counter, kind, class, forms, whether there was an injury, the response times),
nothing that names or describes a person."""

from __future__ import annotations

from typing import Any

REDACTED = "(geanonimiseerd)"
# Timeline data the reports and the incident's story need; names, notes and PINs go.
TIMELINE_KEYS = frozenset({"kind", "silent", "press", "agreement", "fallback", "drill", "step", "code", "reason",
                           "required", "round", "outside", "role", "accepted", "from", "to", "label", "outcome",
                           "on_behalf", "response"})
ACTOR = "anoniem"


def anonymised_incident(record: dict[str, Any]) -> dict[str, Any]:
    """The columns to overwrite. A place in a building stays; a field worker's whereabouts go."""
    keep_place = bool(record.get("site_id"))
    return {
        "position": None, "person_affected": None, "affected_person_id": None, "reporter": None,
        "reported_by_user": None, "description": None, "offenders": None, "damage_description": None,
        "police_report_reference": None, "aftercare": None, "damage_personal_description": None,
        "sanction_other": None, "employee_signed_name": None, "lead_signed_name": None, "colleagues_involved": None,
        "debrief_what": None, "debrief_went_well": None, "debrief_change": None, "debrief_actions": None,
        "injury": REDACTED if record.get("injury") else None,
        "location": record.get("location") if keep_place else None,
    }


def anonymised_timeline(data: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in data.items() if k in TIMELINE_KEYS}
    return kept | {k: ACTOR for k in ("recipient", "person") if data.get(k)}
