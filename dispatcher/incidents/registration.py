"""The registration form's fields and their checks, shared by the API (JSON) and the web form
(strings from a POST). Pure: values in, column values and error codes out.

Error codes are words, not sentences: the pages and the API turn them into the reader's
language (`error_messages` and the `err_*` words in gateway/web/i18n_records.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from dispatcher.incidents.rules import (
    ABCD,
    CONTACT_KINDS,
    EARLIEST,
    FORMS,
    LATEST,
    OFFENDER_RELATIONS,
    SANCTION_ANSWERS,
    class_of,
)

TEXT_LIMITS = {"location": 300, "person_affected": 200, "reporter": 200, "description": 5000, "offenders": 2000,
               "injury": 2000, "damage_description": 2000, "damage_personal_description": 2000,
               "police_report_reference": 100, "aftercare": 5000, "sanction_other": 300,
               "employee_signed_name": 200, "lead_signed_name": 200, "debrief_what": 5000,
               "debrief_went_well": 5000, "debrief_change": 5000, "debrief_actions": 5000}
BOOLEANS = ("near_miss", "hospital_admission", "death", "lasting_harm", "injured", "damage_personal",
            "damage_employer", "damage_personal_recovered", "damage_employer_recovered", "police_report",
            "employer_address_used", "repeat_offender")
AMOUNTS = ("damage_personal_amount", "damage_employer_amount")
DATES = ("police_report_date", "employee_signed_on", "lead_signed_on", "team_meeting_on")
CHOICES = {"offender_relation": OFFENDER_RELATIONS, "sanction": SANCTION_ANSWERS}
MAX_AMOUNT = Decimal("1000000")
MAX_COLLEAGUES = 50
# Everything the coordinator can set; the rest of the record comes from the alarm or is derived.
FIELDS = ("occurred_at", "site_id", "affected_person_id", "contact_kind", "abcd_class", "aggression_forms",
          *TEXT_LIMITS, *BOOLEANS, *AMOUNTS, *DATES, *CHOICES, "colleagues_involved")


@dataclass
class Checked:
    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field -> error code

    @property
    def ok(self) -> bool:
        return not self.errors


def check_registration(raw: Mapping[str, Any], *, current: Mapping[str, Any], complete: bool, now: datetime,
                       tz: ZoneInfo, people: Mapping[str, str], sites: Mapping[str, str]) -> Checked:
    """Check the fields present in `raw` (a PATCH: absent means unchanged) against the record
    as it is (`current`). `complete` also demands what a finished registration needs.
    `people` and `sites` map ids to names, from the agreement file."""
    result = Checked()
    for name, value in raw.items():
        if name not in FIELDS:
            continue
        try:
            result.changes.update(_convert(name, value, now=now, tz=tz, people=people, sites=sites))
        except _Invalid as exc:
            result.errors[name] = exc.code
    merged = {**current, **result.changes}
    _check_together(merged, result, complete=complete)
    return result


class _Invalid(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _convert(name: str, value: Any, *, now: datetime, tz: ZoneInfo, people: Mapping[str, str],
             sites: Mapping[str, str]) -> dict[str, Any]:
    """One field's column value(s); an empty value clears a field that may be empty."""
    if isinstance(value, str):
        value = value.strip()
    empty = value is None or value == ""
    converted = _convert_by_kind(name, value, empty, now.astimezone(tz).date())
    if converted is None:
        converted = _convert_named(name, value, empty, now=now, tz=tz, people=people, sites=sites)
    return converted


def _convert_by_kind(name: str, value: Any, empty: bool, today: date) -> dict[str, Any] | None:
    """Fields converted by their kind (text, yes/no, amount, date, choice); None for the rest."""
    if name in TEXT_LIMITS:
        return {name: None if empty else _text(value, TEXT_LIMITS[name])}
    if name in BOOLEANS:
        return {name: _yes_no(value)}
    if name in AMOUNTS:
        return {name: None if empty else _amount(value)}
    if name in DATES:
        return {name: None if empty else _day_before(value, today, ahead=name == "team_meeting_on")}
    if name in CHOICES:
        return {name: None if empty else _choice(value, CHOICES[name])}
    return None


def _convert_named(name: str, value: Any, empty: bool, *, now: datetime, tz: ZoneInfo,
                   people: Mapping[str, str], sites: Mapping[str, str]) -> dict[str, Any]:
    """The fields with rules of their own."""
    if name == "contact_kind":
        return {name: None if empty else _choice(value, CONTACT_KINDS)}
    if name == "abcd_class":
        return {name: None if empty else _choice(str(value).upper(), ABCD)}
    if name == "aggression_forms":
        return {name: _forms([] if empty else ([value] if isinstance(value, str) else list(value)))}
    if name == "occurred_at":
        if empty:
            raise _Invalid("required")
        return {name: _occurred(value, now, tz)}
    if name == "colleagues_involved":
        return {name: _colleagues([] if empty else ([value] if isinstance(value, str) else value), people)}
    if name == "affected_person_id":
        return {name: None} if empty else {name: value, "person_affected": _choice(value, people, "unknown_person")}
    if name == "site_id":
        if empty:
            return {name: None, "site_name": None}
        return {name: value, "site_name": _choice(value, sites, "unknown_site")}
    raise AssertionError(name)


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise _Invalid("not_a_choice")
    if len(value) > limit:
        raise _Invalid("too_long")
    return value


def _choice(value: Any, choices: Collection[str] | Mapping[str, str], code: str = "not_a_choice") -> Any:
    """The value if it is one of the choices; for a mapping (ids to names), the name."""
    if value not in choices:
        raise _Invalid(code)
    return choices[value] if isinstance(choices, Mapping) else value


def _forms(forms: list[Any]) -> list[str]:
    if not all(f in FORMS for f in forms):
        raise _Invalid("not_a_choice")
    return [f for f in FORMS if f in forms]  # the table's order, no duplicates


def _occurred(value: Any, now: datetime, tz: ZoneInfo) -> datetime:
    moment = _moment(value, tz)
    if moment > now + timedelta(minutes=5):
        raise _Invalid("in_future")
    return moment


def _colleagues(ids: Any, people: Mapping[str, str]) -> list[str]:
    if not isinstance(ids, list) or len(ids) > MAX_COLLEAGUES or not all(isinstance(i, str) for i in ids):
        raise _Invalid("not_a_choice")
    if not all(i in people for i in ids):
        raise _Invalid("unknown_person")
    return sorted(set(ids), key=ids.index)


def _day_before(value: Any, today: date, *, ahead: bool) -> date:
    """A date no later than today, unless it may lie `ahead` (a meeting may be planned)."""
    day = _date(value)
    if day > today and not ahead:
        raise _Invalid("in_future")
    return day


def _check_together(merged: Mapping[str, Any], result: Checked, *, complete: bool) -> None:
    """Checks across fields: always those of consistency; of completeness when `complete`."""
    _check_consistent(merged, result)
    if complete:
        _check_complete(merged, result)


def _check_consistent(merged: Mapping[str, Any], result: Checked) -> None:
    fail = _failer(result)
    forms = merged.get("aggression_forms") or []
    abcd = merged.get("abcd_class")
    if forms and abcd in ("A", "B"):
        fail("abcd_class", "forms_need_c_or_d")
    elif forms and abcd in ("C", "D") and class_of(forms) != abcd:
        fail("abcd_class", "class_c_is_verbal" if abcd == "C" else "class_d_not_verbal")
    if merged.get("near_miss") and forms:
        fail("near_miss", "threat_is_aggression")
    occurred_at = merged.get("occurred_at")
    if merged.get("team_meeting_on") and isinstance(occurred_at, datetime) and \
            merged["team_meeting_on"] < occurred_at.date() - timedelta(days=1):
        fail("team_meeting_on", "team_meeting_before")
    reported = merged.get("police_report_date"), merged.get("police_report_reference")
    if any(reported) and merged.get("police_report") is not True:
        fail("police_report", "report_not_done")
    if merged.get("police_report_date") and isinstance(occurred_at, datetime) and \
            merged["police_report_date"] < occurred_at.date() - timedelta(days=1):
        fail("police_report_date", "before_incident")


def _check_complete(merged: Mapping[str, Any], result: Checked) -> None:
    fail = _failer(result)
    forms = merged.get("aggression_forms") or []
    abcd = merged.get("abcd_class")
    for name in ("abcd_class", "description"):
        if not merged.get(name):
            fail(name, "required")
    if abcd in ("C", "D") and not forms:
        fail("aggression_forms", "forms_needed")
    if abcd == "D" and merged.get("police_report") is None:
        fail("police_report", "aangifte_question")
    if merged.get("sanction") == "other" and not merged.get("sanction_other"):
        fail("sanction_other", "required")
    if not merged.get("site_id") and not merged.get("location"):
        fail("location", "required")


def _failer(result: Checked) -> Callable[[str, str], None]:
    """Records a field's first error only."""
    def fail(name: str, code: str) -> None:
        result.errors.setdefault(name, code)
    return fail


def _yes_no(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("ja", "yes", "true", "on", "1"):
        return True
    if text in ("nee", "no", "false", "off", "0"):
        return False
    raise _Invalid("not_yes_no")


def _amount(value: Any) -> Decimal:
    text = str(value).replace("€", "").replace(" ", "")
    if "," in text:  # Dutch: 1.250,50
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _Invalid("not_an_amount") from None
    # The exponent is a letter only for NaN and infinity, which is_finite() has refused.
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _Invalid("not_an_amount")
    if amount < 0:
        raise _Invalid("negative")
    if amount > MAX_AMOUNT:
        raise _Invalid("too_large")
    return amount.quantize(Decimal("0.01"))


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise _Invalid("not_a_date") from None
    if not EARLIEST <= day <= LATEST:
        raise _Invalid("not_a_date")
    return day


def _moment(value: Any, tz: ZoneInfo) -> datetime:
    """A form gives local time without a zone (datetime-local); the API may give either."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise _Invalid("not_a_time") from None
    if not EARLIEST <= moment.date() <= LATEST:
        raise _Invalid("not_a_time")
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
