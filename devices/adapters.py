"""Adapters for alarm hardware people already own, configured in the agreement file.

* Zigbee2MQTT: `<base>/<friendly name>` with `{"action": "emergency", "battery": 87, …}`, and
  `<base>/<friendly name>/availability` with `online`/`offline` (or `{"state": …}`).
* ChirpStack v4: `application/<id>/device/<devEUI>/event/up` with the decoded `object`.
* The Things Stack v3: `v3/<app>@<tenant>/devices/<device id>/up` with
  `uplink_message.decoded_payload`.

Each message becomes protocol v1 events for the code4 device it is mapped to: a press (the
configured action or press value) is an alarm, any message a sign of life with the battery.
These devices cannot repeat until `received` or number their presses, so the adapter does:
presses of one device within ten minutes are presses 1, 2, 3 of one alarm (a second press
escalates), later ones a new alarm; a LoRaWAN uplink seen twice (same frame counter) counts once.
Their own availability rules do not replace code4's supervision: Zigbee2MQTT calls a battery
device offline only after 25 hours, while code4 expects its heartbeat within its interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from devices.protocol import (
    MAX_PRESS,
    AlarmPayload,
    DeviceMessage,
    HeartbeatPayload,
    PayloadError,
    ProtocolError,
    StatusPayload,
    decode_json,
)

EPISODE = timedelta(minutes=10)
# LoRaWAN network servers wrap the device's few bytes in metadata of every gateway that heard
# it: larger and deeper than protocol v1, but still bounded.
MAX_ADAPTER_PAYLOAD = 64 * 1024
MAX_ADAPTER_DEPTH = 16


class AdapterConfig(Protocol):
    id: str
    kind: str
    base_topic: str
    application: str | None
    press_field: str
    battery_field: str
    battery_percent: bool
    devices: dict[str, str]

    @property
    def action_map(self) -> dict[str, str]: ...


@dataclass
class _Episode:
    alarm_id: str
    press: int
    last_at: datetime


class Adapters:
    def __init__(self, configs: list[Any]) -> None:
        self._routes: dict[str, tuple[AdapterConfig, str, str]] = {}  # topic -> (config, theirs, kind of topic)
        for config in configs:
            for theirs in config.devices:
                for topic, what in _topics(config, theirs):
                    self._routes[topic] = (config, theirs, what)
        self._episodes: dict[str, _Episode] = {}
        self._frames: dict[str, int] = {}

    def filters(self) -> list[tuple[str, int]]:
        return [(topic, 1) for topic in self._routes]

    def translate(self, topic: str, payload: bytes, now: datetime) -> list[DeviceMessage] | ProtocolError | None:
        """None when the topic is not an adapter's; else the protocol events it means."""
        route = self._routes.get(topic)
        if route is None:
            return None
        config, theirs, what = route
        device_id = config.devices[theirs]
        try:
            return self._translate(topic, config, device_id, what, payload, now)
        except PayloadError as exc:
            return ProtocolError(topic, device_id, config.kind, str(exc))
        except ValidationError as exc:
            return ProtocolError(topic, device_id, config.kind, str(exc).splitlines()[0])
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # their JSON, not the shape we know
            reason = f"unexpected payload: {type(exc).__name__}: {exc}"
            return ProtocolError(topic, device_id, config.kind, reason[:200])

    def _translate(self, topic: str, config: AdapterConfig, device_id: str, what: str, payload: bytes,
                   now: datetime) -> list[DeviceMessage] | ProtocolError:
        if payload.strip()[:1] in (b"{", b"[", b'"'):
            data = decode_json(payload, max_bytes=MAX_ADAPTER_PAYLOAD, max_depth=MAX_ADAPTER_DEPTH)
        elif len(payload) > MAX_ADAPTER_PAYLOAD:
            raise PayloadError(f"payload of {len(payload)} bytes exceeds {MAX_ADAPTER_PAYLOAD}")
        else:
            try:
                data = payload.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise PayloadError(f"payload is not UTF-8: {exc.reason}") from None
        if what == "availability":
            state = data.get("state") if isinstance(data, dict) else data
            return [DeviceMessage(device_id, "status", StatusPayload.model_validate({"status": state}))]
        if not isinstance(data, dict):
            return ProtocolError(topic, device_id, config.kind, "payload must be a JSON object")
        if config.kind == "zigbee2mqtt":
            return self._reading(config, device_id, data, data.get("action"), now)
        frame, decoded = _lorawan(config.kind, data)
        if frame is not None:
            if self._frames.get(device_id) == frame:
                return []  # the same uplink delivered again
            self._frames[device_id] = frame
        if not isinstance(decoded, dict):
            return ProtocolError(topic, device_id, config.kind, "uplink without a decoded payload")
        return self._reading(config, device_id, decoded, decoded.get(config.press_field), now)

    def _reading(self, config: AdapterConfig, device_id: str, data: dict[str, Any], action: Any,
                 now: datetime) -> list[DeviceMessage]:
        battery = _number(data.get(config.battery_field), 0, 100 if config.battery_percent else 1)
        if battery is not None and config.battery_percent:
            battery /= 100
        # A reading out of range is left out, never a reason to lose the press that came with it.
        rssi = _int(data.get("linkquality"))
        events = [DeviceMessage(device_id, "heartbeat", HeartbeatPayload(
            battery=battery, rssi=rssi if rssi is not None and -255 <= rssi <= 255 else None))]
        kind = config.action_map.get(str(action)) if action not in (None, "") else None
        if kind is not None:
            episode = self._episodes.get(device_id)
            if episode is None or now - episode.last_at > EPISODE:
                episode = _Episode(f"{config.id}-{int(now.timestamp())}", 0, now)
                self._episodes[device_id] = episode
            episode.press = min(episode.press + 1, MAX_PRESS)  # a stuck button must not overflow the press count
            episode.last_at = now
            # Validated like a device's own payload: an action mapped to a kind no device sends is refused.
            events.append(DeviceMessage(device_id, "alarm", AlarmPayload.model_validate(
                {"alarm_id": episode.alarm_id, "press": episode.press, "kind": kind, "battery": battery})))
        return events


def _topics(config: AdapterConfig, theirs: str) -> list[tuple[str, str]]:
    if config.kind == "zigbee2mqtt":
        base = config.base_topic.rstrip("/")
        return [(f"{base}/{theirs}", "state"), (f"{base}/{theirs}/availability", "availability")]
    if config.kind == "chirpstack":
        return [(f"application/{config.application}/device/{theirs.lower()}/event/up", "uplink")]
    return [(f"v3/{config.application}/devices/{theirs}/up", "uplink")]


def _lorawan(kind: str, data: dict[str, Any]) -> tuple[int | None, Any]:
    if kind == "chirpstack":
        return _int(data.get("fCnt")), data.get("object")
    message = data.get("uplink_message") or {}
    return _int(message.get("f_cnt")), message.get("decoded_payload")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any, low: float, high: float) -> float | None:
    """A finite number clamped to [low, high], else None (huge integers, NaN, text)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return max(low, min(high, number))
