"""Device protocol v1 over MQTT (README, "Device protocol v1 (MQTT)").

Topics are `{prefix}/dev/{device_id}/{kind}`; the device id is the topic segment (the broker
ACL ties credentials to it), never the payload. Payloads are UTF-8 JSON of at most 4 KiB;
unknown fields are ignored. `parse_uplink` turns a message into a typed payload or a
`ProtocolError` that says what was wrong; it never raises, so one bad device cannot stop
the service. Every payload is hostile until parsed: size, nesting depth, number ranges and
string lengths are checked before anything else sees it.

A message on a device's `alarm` topic is a press even when its payload is faulty: optional
fields that do not parse are dropped (and the fault counted), and a payload without a usable
`alarm_id` still raises an alarm for the control room, flagged as unreadable. Only an empty
payload (a retained message being cleared) is no alarm. Simulators use the same models to build
what they send.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from devices.kinds import AlarmKind, DeviceAlarmKind

DEFAULT_PREFIX = "code4/v1"
MAX_PAYLOAD = 4096
MAX_DEPTH = 8  # protocol v1 nests two levels (alarm.position); anything deeper is hostile
MAX_PRESS = 10_000
# The alarm id of a press whose payload had no usable one: the control room still gets the alarm.
UNREADABLE_ALARM_ID = "unreadable"
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

UPLINKS = ("alarm", "cancel", "heartbeat", "status", "position", "checkin", "response")
DOWNLINKS = ("feedback", "page")
# QoS per uplink subscription: alarms, cancels and answers must arrive; heartbeats may not.
UPLINK_QOS = {"alarm": 1, "cancel": 1, "heartbeat": 0, "status": 1, "position": 0, "checkin": 1, "response": 1}



class _Payload(BaseModel):
    # NaN and infinity are not numbers a device can mean; they would poison every comparison.
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class Position(_Payload):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=1_000_000)
    zone: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _either(self) -> Position:
        has_coordinates = self.lat is not None and self.lon is not None
        if not has_coordinates and not self.zone:
            raise ValueError("a position is {lat, lon, accuracy_m} or {zone}")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together")
        return self


Battery = Annotated[float, Field(ge=0, le=1)]


class AlarmPayload(_Payload):
    alarm_id: str = Field(min_length=1, max_length=64)
    press: int = Field(default=1, ge=1, le=MAX_PRESS)
    kind: DeviceAlarmKind = AlarmKind.PANIC
    silent: bool = True
    ts: AwareDatetime | None = None  # with its offset: a device's local time is no moment
    position: Position | None = None
    battery: Battery | None = None


class CancelPayload(_Payload):
    alarm_id: str = Field(min_length=1, max_length=64)
    pin: str | None = Field(default=None, max_length=16)


class HeartbeatPayload(_Payload):
    battery: Battery | None = None
    rssi: int | None = Field(default=None, ge=-255, le=255)  # dBm, or a Zigbee link quality 0..255
    fw: str | None = Field(default=None, max_length=64)


class StatusPayload(_Payload):
    status: Literal["online", "offline"]


class PositionPayload(Position):
    pass


class CheckinPayload(_Payload):
    action: Literal["start", "ok", "end"]
    expect_within_s: int | None = Field(default=None, ge=1, le=7 * 86400)
    note: str | None = Field(default=None, max_length=500)


class ResponsePayload(_Payload):
    page_id: str = Field(min_length=1, max_length=96)
    response: Literal["accept", "decline", "on_scene"]


class FeedbackPayload(_Payload):
    alarm_id: str
    # checkin_due: a lone worker's timed visit ran out; answer with checkin ok before the alarm
    state: Literal["received", "help_coming", "on_scene", "closed", "checkin_due"]
    text: str | None = None


class PagePayload(_Payload):
    page_id: str
    alarm_id: str
    code: str
    text: str
    location: str
    gathering_point: str | None = None
    role: Literal[1, 2, 3] | None = None


Uplink = (
    AlarmPayload | CancelPayload | HeartbeatPayload | StatusPayload | PositionPayload | CheckinPayload
    | ResponsePayload
)
_MODELS: dict[str, type[Uplink]] = {
    "alarm": AlarmPayload, "cancel": CancelPayload, "heartbeat": HeartbeatPayload, "status": StatusPayload,
    "position": PositionPayload, "checkin": CheckinPayload, "response": ResponsePayload,
}


@dataclass(frozen=True)
class DeviceMessage:
    device_id: str
    kind: str
    payload: Uplink
    retained: bool = False  # replayed by the broker on subscribe: a fact from the past, not a sign of life
    problem: str | None = None  # faults in the payload worked around (an alarm is never dropped for them)


@dataclass(frozen=True)
class ProtocolError:
    """A message code4 could not use, with what a device maker needs to fix it."""

    topic: str
    device_id: str | None
    kind: str | None
    reason: str


class Topics:
    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix.rstrip("/")
        self._depth = len(self.prefix.split("/"))

    def uplink_filters(self) -> list[tuple[str, int]]:
        return [(f"{self.prefix}/dev/+/{kind}", UPLINK_QOS[kind]) for kind in UPLINKS]

    def device(self, device_id: str, kind: str) -> str:
        return f"{self.prefix}/dev/{device_id}/{kind}"

    def split(self, topic: str) -> tuple[str, str] | None:
        """(device_id, kind) of a device topic under this prefix, else None."""
        parts = topic.split("/")
        if len(parts) != self._depth + 3 or "/".join(parts[: self._depth]) != self.prefix:
            return None
        if parts[self._depth] != "dev":
            return None
        return parts[self._depth + 1], parts[self._depth + 2]


class PayloadError(ValueError):
    """A payload that is not JSON code4 will read: what is wrong, for the device maker."""


def decode_json(payload: bytes, *, max_bytes: int = MAX_PAYLOAD, max_depth: int = MAX_DEPTH) -> Any:
    """UTF-8 JSON within the size and nesting limits, or PayloadError. Never anything else:
    the decoder's own failures (recursion, huge integers, NaN) all become PayloadError."""
    if len(payload) > max_bytes:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"payload is not UTF-8: {exc.reason} at byte {exc.start}") from None
    depth = _nesting(text, max_depth)
    if depth > max_depth:
        raise PayloadError(f"JSON nested deeper than {max_depth} levels")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, 4300-digit integers, NaN
        raise PayloadError(f"payload is not JSON: {str(exc)[:120]}") from None
    if not _storable(data):
        raise PayloadError("text with a NUL character or an unpaired surrogate (\\u0000, \\ud800)")
    return data


def _storable(value: Any) -> bool:
    """No NUL and no unpaired surrogate anywhere: text every database can store and log."""
    if isinstance(value, str):
        return "\x00" not in value and (value.isascii() or _encodable(value))
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a \ud800 escape
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def _nesting(text: str, limit: int) -> int:
    """How deep arrays and objects nest (strings do not count); stops counting past `limit`."""
    if text.count("[") + text.count("{") <= limit:
        return 0  # cannot be deeper than the limit: the common case costs two counts
    depth = deepest = 0
    for char in _STRINGS.sub("", text):
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def parse_uplink(topics: Topics, topic: str, payload: bytes) -> DeviceMessage | ProtocolError:
    address = _address(topics, topic)
    if isinstance(address, ProtocolError):
        return address
    device_id, kind = address
    if not payload.strip():
        return ProtocolError(topic, device_id, kind, "empty payload (a retained message being cleared)")
    try:
        data = decode_json(_quote_bare_status(payload) if kind == "status" else payload)
    except PayloadError as exc:
        return _unreadable(topic, device_id, kind, str(exc))
    if kind == "status" and isinstance(data, str):
        data = {"status": data}
    if not isinstance(data, dict):
        return _unreadable(topic, device_id, kind, "payload must be a JSON object")
    try:
        return DeviceMessage(device_id, kind, _MODELS[kind].model_validate(data))
    except ValidationError as exc:
        return _salvage(topic, device_id, kind, data, exc)


def _address(topics: Topics, topic: str) -> tuple[str, str] | ProtocolError:
    """(device_id, kind) of an uplink topic, or why it is none."""
    split = topics.split(topic)
    if split is None:
        return ProtocolError(topic, None, None, "not a device topic of this prefix")
    device_id, kind = split
    if not DEVICE_ID.match(device_id):
        return ProtocolError(topic, None, kind, "device id must be 1-64 letters, digits, '_', '.', ':' or '-'")
    if kind not in UPLINKS:
        return ProtocolError(topic, device_id, kind, f"unknown message kind {kind!r}")
    return device_id, kind


def _salvage(topic: str, device_id: str, kind: str, data: dict[str, Any],
             exc: ValidationError) -> DeviceMessage | ProtocolError:
    """A press with faulty optional fields: keep the press, drop what does not parse."""
    problems = _problems(exc)
    if kind != "alarm":
        return ProtocolError(topic, device_id, kind, problems)
    faulty = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
    if "alarm_id" in faulty or not faulty:
        return _unreadable(topic, device_id, kind, problems)
    try:
        alarm = AlarmPayload.model_validate({k: v for k, v in data.items() if k not in faulty})
    except ValidationError:
        return _unreadable(topic, device_id, kind, problems)
    return DeviceMessage(device_id, kind, alarm, problem=f"ignored: {problems}")


def _unreadable(topic: str, device_id: str, kind: str, reason: str) -> DeviceMessage | ProtocolError:
    """A press is a press: an alarm payload code4 cannot read still alarms the control room."""
    if kind != "alarm":
        return ProtocolError(topic, device_id, kind, reason)
    return DeviceMessage(device_id, kind, AlarmPayload(alarm_id=UNREADABLE_ALARM_ID), problem=f"unreadable: {reason}")


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'payload'}: {err['msg']}" for err in exc.errors()
    )[:500]


def _quote_bare_status(payload: bytes) -> bytes:
    """A last will is often bare text (online, offline): quote it so it reads as JSON."""
    text = payload.strip()
    return text if text[:1] in (b'"', b"{") else b'"' + text + b'"'


def encode(payload: BaseModel) -> bytes:
    return payload.model_dump_json(exclude_none=True).encode("utf-8")
