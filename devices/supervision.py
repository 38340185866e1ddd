"""Is a device still able to raise an alarm? Pure rules, given what it last said and the time.

A device is at fault when it is offline by its own (retained) status or last will; when it
has been silent longer than its supervision interval (counted from its last message, or from
when code4 started supervising it); when its battery is below the threshold; or when it has
not been test-pressed within `test_every`. Faults clear by themselves when the facts change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

OFFLINE, SILENT, BATTERY_LOW, UNTESTED = "offline", "silent", "battery_low", "untested"


@dataclass(frozen=True)
class Rules:
    interval_s: int | None  # None: silence is not supervised
    battery_low: float
    test_every_s: int | None


@dataclass(frozen=True)
class Observed:
    registered_at: datetime
    last_seen_at: datetime | None = None
    online: bool | None = None
    battery: float | None = None
    last_test_at: datetime | None = None


def faults(rules: Rules, seen: Observed, now: datetime) -> tuple[str, ...]:
    found = []
    if seen.online is False:
        found.append(OFFLINE)
    elif rules.interval_s is not None and now >= _silent_from(rules, seen):
        found.append(SILENT)
    if seen.battery is not None and seen.battery < rules.battery_low:
        found.append(BATTERY_LOW)
    if rules.test_every_s is not None and now >= _untested_from(rules, seen):
        found.append(UNTESTED)
    return tuple(found)


def next_check(rules: Rules, seen: Observed, now: datetime) -> datetime | None:
    """The next moment the faults change if the device says nothing more."""
    moments = []
    if rules.interval_s is not None and seen.online is not False:
        moments.append(_silent_from(rules, seen))
    if rules.test_every_s is not None:
        moments.append(_untested_from(rules, seen))
    upcoming = [m for m in moments if m > now]
    return min(upcoming) if upcoming else None


def _silent_from(rules: Rules, seen: Observed) -> datetime:
    assert rules.interval_s is not None
    return (seen.last_seen_at or seen.registered_at) + timedelta(seconds=rules.interval_s)


def _untested_from(rules: Rules, seen: Observed) -> datetime:
    assert rules.test_every_s is not None
    return (seen.last_test_at or seen.registered_at) + timedelta(seconds=rules.test_every_s)
