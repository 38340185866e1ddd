"""Numbers and dates that become database parameters. Ids are INTEGER columns, 32 bits in PostgreSQL
(64 in SQLite): a larger number makes the database fail instead of finding nothing, so every
id the API or a page takes — in the path, the query, a form or a JSON body — is an `Id`, and
paging offsets stop at the same bound. Dates and times lie within the calendar records take
(1900-2999): at its ends a day added, or the step to UTC, would overflow."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import HTTPException
from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from dispatcher.incidents.rules import EARLIEST, LATEST

MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _within_calendar(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"a date from {EARLIEST} to {LATEST}")
    return value


Day = Annotated[date, AfterValidator(_within_calendar)]
Moment = Annotated[datetime, AfterValidator(_within_calendar)]

_ID = TypeAdapter(Id)


def form_day(text: str | None) -> date | None:
    """A date from a form or query field; None when empty, not a date, or outside the calendar."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or EARLIEST <= day <= LATEST else None


def form_id(text: str | None) -> int:
    """An id from a form field (the pages' plain HTML forms)."""
    try:
        return _ID.validate_python(text, strict=False)
    except ValidationError:
        raise HTTPException(422, f"not an id: {str(text)[:40]!r}") from None


def as_utc(moment: datetime | None) -> datetime | None:
    """A query's time without a zone is taken as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
