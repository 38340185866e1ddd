"""`code4 simulate load`: many devices heartbeating and a steady stream of alarms, against a
running code4, reporting how many alarms were acknowledged (`received`) and how fast.

One MQTT connection speaks for all simulated devices (a broker without per-device accounts,
as the embedded one): it is the load on code4 that is measured, not thousands of sockets.
"""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from devices.endpoint import MqttEndpoint
from devices.protocol import Topics
from escalation.loader import load_file
from simulators.devices import no_delay


def run_load(*, endpoint: MqttEndpoint, topics: Topics, config: Path, devices: int, heartbeat_every: float,
             alarms_per_second: float, duration: float, say: Callable[[str], object] = print) -> bool:
    org = load_file(config).organisation
    buttons = [d.id for d in org.devices if d.type in ("fixed_button", "mobile_alarm")]
    everyone = [d.id for d in org.devices]
    # More devices than the file has: the rest are numbered copies, unknown to code4 (they
    # heartbeat and are handled as unknown devices if they press).
    names = (everyone + [f"load-{i}" for i in range(max(0, devices - len(everyone)))])[:devices]
    tally = _Tally()
    client = _connect(endpoint, topics, tally)
    say(f"load: {len(names)} devices heartbeating every {heartbeat_every:g} s, {alarms_per_second:g} alarms/s "
        f"from {len(buttons)} buttons, for {duration:g} s")
    heartbeats = _stream(client, topics, tally, names=names, buttons=buttons, heartbeat_every=heartbeat_every,
                         alarms_per_second=alarms_per_second, duration=duration, say=say)
    deadline = time.monotonic() + 10  # let the last acknowledgements come in
    while time.monotonic() < deadline and len(tally.acked) < len(tally.sent):
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    return _report(tally, heartbeats, say)


class _Tally:
    """When each alarm was sent and when its `received` came back."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.lock = threading.Lock()

    def on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        data = json.loads(message.payload)
        with self.lock:
            if data.get("state") == "received" and data.get("alarm_id") in self.sent:
                self.acked.setdefault(data["alarm_id"], time.monotonic())


def _connect(endpoint: MqttEndpoint, topics: Topics, tally: _Tally) -> mqtt.Client:
    """One client speaking for every device, listening to all their feedback."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"load-{uuid.uuid4().hex[:6]}",
                         clean_session=True)
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    client.max_inflight_messages_set(500)
    client.on_message = tally.on_message

    def on_connect(c: mqtt.Client, *_: Any) -> None:
        no_delay(c)
        c.subscribe(topics.device("+", "feedback"), qos=1)

    client.on_connect = on_connect
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    time.sleep(0.3)
    return client


def _stream(client: mqtt.Client, topics: Topics, tally: _Tally, *, names: list[str], buttons: list[str],
            heartbeat_every: float, alarms_per_second: float, duration: float,
            say: Callable[[str], object]) -> int:
    """Heartbeats spread evenly over the devices and alarms at the given rate, for `duration`
    seconds; returns the number of heartbeats sent."""
    started = time.monotonic()
    next_alarm = started
    heartbeats = 0
    beat_gap = heartbeat_every / max(1, len(names))
    next_beat = started
    devices_cycle = itertools.cycle(names)
    buttons_cycle = itertools.cycle(buttons)
    while (now := time.monotonic()) < started + duration:
        while next_beat <= now:
            client.publish(topics.device(next(devices_cycle), "heartbeat"), b'{"battery": 0.9}', qos=0)
            heartbeats += 1
            next_beat += beat_gap
        while alarms_per_second > 0 and next_alarm <= now and buttons:
            alarm_id = uuid.uuid4().hex[:16]
            with tally.lock:
                tally.sent[alarm_id] = time.monotonic()
            info = client.publish(topics.device(next(buttons_cycle), "alarm"),
                                  json.dumps({"alarm_id": alarm_id}).encode(), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                say(f"publish refused by the client (rc {info.rc}): slowing down")
                time.sleep(0.05)
            next_alarm += 1 / alarms_per_second
        time.sleep(min(0.01, max(0.0, min(next_beat, next_alarm) - time.monotonic())))
    return heartbeats


def _report(tally: _Tally, heartbeats: int, say: Callable[[str], object]) -> bool:
    sent, acked = tally.sent, tally.acked
    latencies = sorted(acked[a] - sent[a] for a in acked)
    say(f"heartbeats sent: {heartbeats}")
    say(f"alarms sent: {len(sent)}, acknowledged (received): {len(acked)}")
    if latencies:
        p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
        say(f"time to received: p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    missing = len(sent) - len(acked)
    if missing:
        say(f"FAILED: {missing} alarm(s) not acknowledged")
    return missing == 0
