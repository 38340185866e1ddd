"""The core's frozen dataclasses to JSON and back, for the alarm state and outbox rows.

pydantic knows how to walk dataclasses, enums, tuples and datetimes, so the core stays free
of serialisation code. `STATE_VERSION` is stored beside the state; a migration that changes its
shape rewrites the stored rows (and `upgrade_v1` says how version 1 became version 2).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from dispatcher.core import AlarmState, Feedback, Notify
from dispatcher.core.events import (
    CloseRequested,
    DeliveryFailed,
    EscalateRequested,
    Marked,
    NoteAdded,
    PoliceRequested,
    Responded,
    Seen,
)
from escalation.notices import Notice
from escalation.plan import PHONE_CHANNELS

STATE_VERSION = 2
# Version 1 kept PINs and phone numbers in the plan; version 2 keeps neither. A PIN set on an
# alarm stored before the upgrade cannot be turned into a digest without the service's key, so
# it becomes a digest no PIN matches: such an alarm is ended by the control room.
UNKNOWN_PIN = "!unknown"

_STATE: TypeAdapter[AlarmState] = TypeAdapter(AlarmState)
_NOTIFY: TypeAdapter[Notify] = TypeAdapter(Notify)
_FEEDBACK: TypeAdapter[Feedback] = TypeAdapter(Feedback)
_NOTICE: TypeAdapter[Notice] = TypeAdapter(Notice)


def dump_state(state: AlarmState) -> dict[str, Any]:
    return {"v": STATE_VERSION, "state": _STATE.dump_python(state, mode="json")}


def load_state(data: dict[str, Any]) -> AlarmState:
    if data.get("v") != STATE_VERSION:
        raise ValueError(f"stored alarm state has version {data.get('v')}, this code reads {STATE_VERSION}")
    return _STATE.validate_python(data["state"])


def dump_effect(effect: Notify | Feedback | Notice) -> tuple[str, dict[str, Any]]:
    if isinstance(effect, Notify):
        return "notify", _NOTIFY.dump_python(effect, mode="json")
    if isinstance(effect, Notice):
        return "notice", _NOTICE.dump_python(effect, mode="json")
    return "feedback", _FEEDBACK.dump_python(effect, mode="json")


def load_effect(kind: str, payload: dict[str, Any]) -> Notify | Feedback | Notice:
    if kind == "notify":
        return _NOTIFY.validate_python(payload)
    if kind == "notice":
        return _NOTICE.validate_python(payload)
    return _FEEDBACK.validate_python(payload)


# What an instance that does not dispatch may hand to the one that does (relayed commands).
RELAYABLE: dict[str, Any] = {cls.__name__: TypeAdapter(cls) for cls in (
    Responded, EscalateRequested, PoliceRequested, Seen, Marked, NoteAdded, CloseRequested, DeliveryFailed)}


def dump_event(event: object) -> dict[str, Any]:
    name = type(event).__name__
    if name not in RELAYABLE:
        raise ValueError(f"{name} is not an event a standby hands on")
    return {"type": name, "event": RELAYABLE[name].dump_python(event, mode="json")}


def load_event(data: dict[str, Any]) -> Any:
    return RELAYABLE[data["type"]].validate_python(data["event"])


def upgrade_v1(state: dict[str, Any]) -> dict[str, Any]:
    """A version 1 state (JSON) as version 2: PINs out of the plan, recipient keys instead of
    phone numbers on phone routes."""
    plan = state["plan"]
    device = dict(plan["device"])
    for old, new in (("cancel_pin", "cancel_pin_digest"), ("duress_pin", "duress_pin_digest")):
        device[new] = UNKNOWN_PIN if device.pop(old, None) and state.get("status") != "closed" else None
    steps = [{**step, "targets": [{**target, "routes": _keyed(target["routes"], target["recipient"])}
                                  for target in step["targets"]]} for step in plan["steps"]]
    pages = [{**page, "routes": _keyed(page["routes"], page["recipient"])} for page in state.get("pages", [])]
    return {**state, "plan": {**plan, "device": device, "steps": steps}, "pages": pages}


def upgrade_notify_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox row of a notification: the recipient key on a phone route, not the number."""
    return {**payload, "route": _keyed([payload["route"]], payload["recipient"])[0]}


def _keyed(routes: list[dict[str, Any]], recipient: str) -> list[dict[str, Any]]:
    return [{**route, "address": recipient} if route["channel"] in PHONE_CHANNELS else route for route in routes]
