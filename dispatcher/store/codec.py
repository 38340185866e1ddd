"""The core's frozen dataclasses to JSON and back, for the alarm state and outbox rows.

pydantic knows how to walk dataclasses, enums, tuples and datetimes, so the core stays free
of serialisation code. `STATE_VERSION` is stored beside the state for future migrations.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from dispatcher.core import AlarmState, Feedback, Notify

STATE_VERSION = 1

_STATE: TypeAdapter[AlarmState] = TypeAdapter(AlarmState)
_NOTIFY: TypeAdapter[Notify] = TypeAdapter(Notify)
_FEEDBACK: TypeAdapter[Feedback] = TypeAdapter(Feedback)


def dump_state(state: AlarmState) -> dict[str, Any]:
    return {"v": STATE_VERSION, "state": _STATE.dump_python(state, mode="json")}


def load_state(data: dict[str, Any]) -> AlarmState:
    if data.get("v") != STATE_VERSION:
        raise ValueError(f"stored alarm state has version {data.get('v')}, this code reads {STATE_VERSION}")
    return _STATE.validate_python(data["state"])


def dump_effect(effect: Notify | Feedback) -> tuple[str, dict[str, Any]]:
    if isinstance(effect, Notify):
        return "notify", _NOTIFY.dump_python(effect, mode="json")
    return "feedback", _FEEDBACK.dump_python(effect, mode="json")


def load_effect(kind: str, payload: dict[str, Any]) -> Notify | Feedback:
    if kind == "notify":
        return _NOTIFY.validate_python(payload)
    return _FEEDBACK.validate_python(payload)
