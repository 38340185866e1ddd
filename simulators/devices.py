"""Simulated devices that speak protocol v1 exactly as real ones must: a panic button (with
the repeat-until-`received` rule, cancel with PIN, a retained online status and an offline
last will) and a responder pager. Plain synchronous paho-mqtt clients; they know nothing of
code4's internals and share only the payload schemas in `devices.protocol`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from devices.endpoint import MqttEndpoint
from devices.protocol import (
    AlarmPayload,
    CancelPayload,
    CheckinPayload,
    HeartbeatPayload,
    Position,
    PositionPayload,
    ResponsePayload,
    Topics,
    encode,
)


class SimulatorError(RuntimeError):
    pass


def no_delay(client: mqtt.Client) -> None:
    """Switch off Nagle's algorithm on a connected paho client: a device's small alarm must go
    out at once, not up to 40 ms later behind an unacknowledged packet."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class SimDevice:
    """Connection, subscriptions and a log of what arrived, with waiting helpers."""

    downlinks: tuple[str, ...] = ()

    def __init__(self, endpoint: MqttEndpoint, device_id: str, *, topics: Topics | None = None,
                 client_id: str | None = None) -> None:
        self.endpoint = endpoint
        self.device_id = device_id
        self.topics = topics or Topics()
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.arrived: list[float] = []  # time.monotonic() of each received message
        self._changed = threading.Condition()
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"sim-{device_id}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if endpoint.username:
            self.client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            self.client.tls_set()
        self.client.will_set(self.topics.device(device_id, "status"), b'"offline"', qos=1, retain=True)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._next_node
        self.client.on_connect_fail = self._next_node
        self.client.on_subscribe = self._on_subscribe
        self._subscribing: dict[int, str] = {}  # subscriptions not yet granted, by message id
        self._connected = threading.Event()
        self._nodes = endpoint.nodes  # a broker cluster's nodes: on a lost connection, the next one
        self._node = 0

    def connect(self, timeout: float = 5.0) -> SimDevice:
        for index, node in enumerate(self._nodes):
            try:
                self.client.connect(node.host, node.port, keepalive=30)
            except OSError:
                continue  # this node is away: the next one
            self._node = index
            break
        else:
            raise SimulatorError(f"{self.device_id}: no broker answers at {self.endpoint.url()}")
        self.client.loop_start()
        if not self._connected.wait(timeout):
            raise SimulatorError(f"{self.device_id}: no connection to {self.endpoint.url()}")
        return self

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> SimDevice:
        return self.connect()

    def __exit__(self, *_: object) -> None:
        self.close()

    def on(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        self._listeners.append(listener)

    def publish(self, kind: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(self.topics.device(self.device_id, kind), payload, qos=qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_NO_CONN and qos > 0:
            return  # kept by paho and sent once connected again, as a device keeps it
        if info.rc != mqtt.MQTT_ERR_SUCCESS:  # e.g. 15: too many unacknowledged messages
            raise SimulatorError(f"{self.device_id}: publish refused by the client (rc {info.rc})")

    def wait_for(self, kind: str, predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
                 timeout: float = 5.0, *, after: int = 0) -> dict[str, Any]:
        """The first message of `kind` (from index `after` on) that matches, or an error."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for got_kind, data in self.received[after:]:
                    if got_kind == kind and predicate(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [d for k, d in self.received if k == kind]
                    raise SimulatorError(f"{self.device_id}: no matching {kind} within {timeout} s; got {seen}")
                self._changed.wait(left)

    def messages(self, kind: str) -> list[dict[str, Any]]:
        with self._changed:
            return [d for k, d in self.received if k == kind]

    def timed(self) -> list[tuple[float, str, dict[str, Any]]]:
        """Everything received so far with its arrival time (time.monotonic())."""
        with self._changed:
            return [(at, kind, data) for at, (kind, data) in zip(self.arrived, self.received, strict=True)]

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any = None) -> None:
        if reason.is_failure:
            return
        no_delay(client)
        for kind in self.downlinks:
            self._subscribe(client, self.topics.device(self.device_id, kind))
        client.publish(self.topics.device(self.device_id, "status"), b'"online"', qos=1, retain=True)
        self._connected.set()

    def _subscribe(self, client: mqtt.Client, topic: str) -> None:
        _, mid = client.subscribe(topic, qos=1)
        if mid is not None:  # None: not connected; on_connect subscribes again
            self._subscribing[mid] = topic

    def _on_subscribe(self, client: mqtt.Client, _userdata: Any, mid: int, reasons: list[Any], *_: Any) -> None:
        """A broker may refuse a subscription (a clustered one that is electing, say): without
        it the device would never hear `received` or a page, so it asks again."""
        topic = self._subscribing.pop(mid, None)
        if topic is not None and any(reason.is_failure for reason in reasons):
            threading.Timer(1.0, self._subscribe, args=(client, topic)).start()

    def _next_node(self, client: mqtt.Client, *_: Any) -> None:
        """Connection lost or refused: paho reconnects by itself, to the host it is set to; make
        that the cluster's next node. (paho knows one host only, and its public setters refuse
        while it is reconnecting, hence its attributes.)"""
        if len(self._nodes) > 1:
            self._node = (self._node + 1) % len(self._nodes)
            client._host, client._port = self._nodes[self._node].host, self._nodes[self._node].port

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        kind = message.topic.rsplit("/", 1)[-1]
        try:
            data = json.loads(message.payload)
        except ValueError:
            return
        with self._changed:
            self.received.append((kind, data))
            self.arrived.append(time.monotonic())
            self._changed.notify_all()
        for listener in self._listeners:
            listener(kind, data)


class SimButton(SimDevice):
    """A panic button or mobile alarm. `press` repeats the alarm every `repeat_every` seconds
    until code4 answers `received`, as the protocol asks of every device."""

    downlinks = ("feedback",)

    def __init__(self, endpoint: MqttEndpoint, device_id: str, *, repeat_every: float = 3.0, **kwargs: Any) -> None:
        super().__init__(endpoint, device_id, **kwargs)
        self.repeat_every = repeat_every
        self.presses: dict[str, int] = {}
        self.repeats = 0
        self._awaiting: dict[str, threading.Event] = {}
        self.on(self._note_received)

    def press(self, *, kind: str = "panic", alarm_id: str | None = None, silent: bool = True,
              position: dict[str, Any] | None = None, battery: float | None = None) -> str:
        alarm_id = alarm_id or uuid.uuid4().hex[:16]
        self.presses[alarm_id] = 1
        self._send_alarm(alarm_id, kind, silent, position, battery)
        return alarm_id

    def press_again(self, alarm_id: str, *, kind: str = "panic") -> int:
        self.presses[alarm_id] += 1
        self._send_alarm(alarm_id, kind, True, None, None)
        return self.presses[alarm_id]

    def cancel(self, alarm_id: str, pin: str | None = None) -> None:
        self.publish("cancel", encode(CancelPayload(alarm_id=alarm_id, pin=pin)))

    def heartbeat(self, *, battery: float | None = None, rssi: int | None = None) -> None:
        self.publish("heartbeat", encode(HeartbeatPayload(battery=battery, rssi=rssi)), qos=0)

    def feedback(
        self, state: str, alarm_id: str | None = None, timeout: float = 5.0, *, after: int = 0
    ) -> dict[str, Any]:
        return self.wait_for(
            "feedback", lambda d: d.get("state") == state and (alarm_id is None or d.get("alarm_id") == alarm_id),
            timeout, after=after,
        )

    def _send_alarm(self, alarm_id: str, kind: str, silent: bool, position: dict[str, Any] | None,
                    battery: float | None) -> None:
        # The kind is any text (from the command line or a scenario): the protocol's model checks it.
        payload = encode(AlarmPayload.model_validate({
            "alarm_id": alarm_id, "press": self.presses[alarm_id], "kind": kind, "silent": silent,
            "position": Position(**position) if position else None, "battery": battery,
        }))
        acknowledged = threading.Event()
        self._awaiting[alarm_id] = acknowledged
        self.publish("alarm", payload)

        def repeat() -> None:  # until `received`: a PUBACK only says the broker has it
            while not acknowledged.wait(self.repeat_every):
                self.repeats += 1
                try:
                    self.publish("alarm", payload)
                except SimulatorError:
                    continue

        threading.Thread(target=repeat, name=f"repeat-{alarm_id}", daemon=True).start()

    def _note_received(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "feedback" and data.get("state") == "received":
            waiting = self._awaiting.pop(str(data.get("alarm_id")), None)
            if waiting is not None:
                waiting.set()


class SimPager(SimDevice):
    """A responder pager: shows pages, answers accept / decline / on_scene, optionally by
    itself after a delay."""

    downlinks = ("page", "feedback")

    def __init__(self, endpoint: MqttEndpoint, device_id: str, *, auto: str | None = None,
                 auto_delay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(endpoint, device_id, **kwargs)
        self.auto = auto
        self.auto_delay = auto_delay
        self._answered: set[str] = set()
        self.on(self._maybe_answer)

    def page(self, predicate: Callable[[dict[str, Any]], bool] = lambda _: True, timeout: float = 5.0,
             *, after: int = 0) -> dict[str, Any]:
        return self.wait_for("page", predicate, timeout, after=after)

    def pages(self) -> list[dict[str, Any]]:
        return self.messages("page")

    def respond(self, page_id: str, response: str) -> None:
        self.publish("response", encode(ResponsePayload.model_validate({"page_id": page_id, "response": response})))

    def _maybe_answer(self, kind: str, data: dict[str, Any]) -> None:
        page_id = data.get("page_id")
        if kind != "page" or not self.auto or not page_id or page_id in self._answered:
            return
        self._answered.add(page_id)
        threading.Timer(self.auto_delay, self.respond, args=(page_id, self.auto)).start()


class SimMobile(SimButton):
    """A field worker's mobile alarm: it reports where it is as it moves, and keeps timed
    check-ins for home visits. Its alarms carry its current position."""

    def __init__(self, endpoint: MqttEndpoint, device_id: str, *, route: list[tuple[float, float]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(endpoint, device_id, **kwargs)
        self.route = route or []
        self.leg = 0

    @property
    def here(self) -> dict[str, Any] | None:
        if not self.route:
            return None
        lat, lon = self.route[min(self.leg, len(self.route) - 1)]
        return {"lat": lat, "lon": lon, "accuracy_m": 10}

    def move(self) -> dict[str, Any] | None:
        """One step along the route, reported."""
        if self.leg < len(self.route) - 1:
            self.leg += 1
        if self.here:
            self.publish("position", encode(PositionPayload(**self.here)), qos=0)
        return self.here

    def press(self, *, kind: str = "panic", alarm_id: str | None = None, silent: bool = True,
              position: dict[str, Any] | None = None, battery: float | None = None) -> str:
        """A press where the mobile is now, unless told another position."""
        return super().press(kind=kind, alarm_id=alarm_id, silent=silent, battery=battery,
                             position=self.here if position is None else position)

    def checkin(self, action: str, *, expect_within_s: int | None = None, note: str | None = None) -> None:
        self.publish("checkin", encode(CheckinPayload.model_validate(
            {"action": action, "expect_within_s": expect_within_s, "note": note})))
