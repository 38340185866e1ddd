"""Response-time targets in the agreement file (`response_targets:`): which share of alarms must
be accepted within how long. Without the key code4 takes the figures of the BS 8484 lone-worker
standard for alarm handling: 80 % within 10 s and 98.5 % within 40 s. `response_targets: []`
turns the targets off.

Only the shape lives here; what counts as met is `dispatcher/incidents/targets.py`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainValidator

from escalation.weekly import parse_duration_seconds

MAX_TARGETS = 6
LONGEST = 3600  # an hour: a target beyond that is no response-time target
_PERCENT = re.compile(r"^\s*(\d{1,3}(?:[.,]\d{1,2})?)\s*%\s*$")


def parse_share(value: object) -> Decimal:
    """'80%' or '98.5%' (a comma works too): always with the percent sign, because 0.8 and 80
    alone are easy to mean differently."""
    if isinstance(value, str) and (match := _PERCENT.match(value)):
        share = Decimal(match.group(1).replace(",", "."))
        if not 0 < share <= 100:
            raise ValueError(f"a share is more than 0% and at most 100%, not {value!r}")
        return share
    raise ValueError(f"write a share as a percentage with the % sign, like '80%' or '98.5%' (not {value!r})")


def _within(value: object) -> int:
    seconds = parse_duration_seconds(value)
    if seconds > LONGEST:
        raise ValueError(f"a response-time target is at most an hour, not {value!r}")
    return seconds


class ResponseTarget(BaseModel):
    """`{accepted_within: 10s, share: 80%}`: at least 80 % of the alarms accepted within 10 s."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted_within: Annotated[int, PlainValidator(_within)]
    share: Annotated[Decimal, PlainValidator(parse_share)]

    @property
    def share_text(self) -> str:
        return format_share(self.share)


DEFAULT_TARGETS: tuple[ResponseTarget, ...] = (
    ResponseTarget(accepted_within=10, share="80%"),  # type: ignore[arg-type]  # parsed by the validators
    ResponseTarget(accepted_within=40, share="98.5%"),  # type: ignore[arg-type]
)


def checked_targets(targets: list[ResponseTarget]) -> list[ResponseTarget]:
    """At most a few, each time once, shortest first."""
    if len(targets) > MAX_TARGETS:
        raise ValueError(f"at most {MAX_TARGETS} response targets")
    times = [t.accepted_within for t in targets]
    if len(set(times)) != len(times):
        raise ValueError("each `accepted_within` may appear once in response_targets")
    return sorted(targets, key=lambda t: t.accepted_within)


def describe_targets(targets: list[ResponseTarget]) -> str:
    """One line for `code4 check`."""
    if not targets:
        return "Response-time targets: none (response_targets: [])"
    parts = [f"{t.share_text} accepted within {t.accepted_within} s" for t in targets]
    return "Response-time targets: " + ", ".join(parts)


def format_share(share: Decimal) -> str:
    """98.5 -> '98.5%', 80 -> '80%'."""
    text = f"{share:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"
