"""`code4 bench`: how fast an alarm becomes a page, measured against the floor of the same
broker in the same run.

It starts a Mosquitto of its own (unless --mqtt is given) and `code4 run` as a separate
process on a generated site (buttons spread over zones, four pagers per zone), then measures:

* the floor: a raw MQTT publish → receive round trip between two clients, and raw throughput;
* alarm latency: a button's alarm publish → the first page at a pager, and → `received` back
  at the button (the stored-and-acknowledged path), one alarm at a time;
* sustained alarms per second: a burst from all buttons, until every alarm has paged someone.

Figures are printed beside the floor as ratios. A benchmark, not a test: nothing here passes
or fails.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from devices.endpoint import MqttEndpoint
from gateway.broker import Mosquitto, free_port
from simulators.devices import no_delay

PAGERS_PER_ZONE = 4


def run_bench(*, alarms: int, burst: int, buttons: int, pagers: int, mqtt_url: str | None,
              database_url: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="code4-bench-") as scratch:
        workdir = Path(scratch)
        broker = None
        if mqtt_url is None:
            broker = Mosquitto(workdir / "broker")
            broker.start_sync()
            mqtt_url = broker.url
        endpoint = MqttEndpoint.parse(mqtt_url)
        prefix = f"bench-{uuid.uuid4().hex[:6]}/v1"  # never mixes with a real site on a shared broker
        try:
            return _bench(workdir, endpoint, prefix, alarms=alarms, burst=burst, buttons=buttons, pagers=pagers,
                          database_url=database_url or f"sqlite:///{workdir / 'bench.db'}")
        finally:
            if broker is not None:
                broker.stop_sync()


def _bench(workdir: Path, endpoint: MqttEndpoint, prefix: str, *, alarms: int, burst: int, buttons: int,
           pagers: int, database_url: str) -> int:
    zones = max(1, pagers // PAGERS_PER_ZONE)
    config = workdir / "bench-site.yaml"
    config.write_text(_site(buttons, zones), encoding="utf-8")
    http_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE4_")}
    env.update(CODE4_MQTT_URL=endpoint.url(with_password=True), CODE4_DATABASE_URL=database_url,
               CODE4_CONFIG=str(config), CODE4_HTTP=f"127.0.0.1:{http_port}", CODE4_DATA_DIR=str(workdir / "var"),
               CODE4_TOPIC_PREFIX=prefix, CODE4_MQTT_CLIENT_ID=f"code4-bench-{uuid.uuid4().hex[:6]}",
               CODE4_LOG_LEVEL="error", CODE4_LOG_FORMAT="json")
    log_file = (workdir / "code4.log").open("w")
    service = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], env=env, stdout=log_file,
                               stderr=subprocess.STDOUT)
    clients: list[mqtt.Client] = []
    try:
        _wait_healthy(http_port, service)
        print(f"code4 bench: broker {endpoint.url()}, database {database_url.split(':')[0]}, "
              f"{buttons} buttons, {zones * PAGERS_PER_ZONE} pagers in {zones} zones "
              f"({PAGERS_PER_ZONE} paged per alarm)\n")

        floor = _floor(endpoint, samples=alarms, burst=burst)

        pages = _Inbox()
        feedback = _Inbox()
        for zone in range(zones):
            for n in range(PAGERS_PER_ZONE):
                clients.append(_client(endpoint, f"bench-pager-{zone}-{n}", [f"{prefix}/dev/pager-{zone}-{n}/page"],
                                       pages.put))
        buttons_client = _client(endpoint, "bench-buttons", [f"{prefix}/dev/+/feedback"], feedback.put)
        clients.append(buttons_client)

        def press(i: int) -> str:
            alarm_id = uuid.uuid4().hex[:16]
            info = buttons_client.publish(f"{prefix}/dev/knop-{i % buttons}/alarm",
                                          json.dumps({"alarm_id": alarm_id}).encode(), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise RuntimeError(f"publish refused (rc {info.rc})")
            return alarm_id

        to_page: list[float] = []
        to_received: list[float] = []
        for i in range(alarms):
            seen = pages.count()
            started = time.perf_counter()
            alarm_id = press(i)
            feedback.wait(lambda d, a=alarm_id: d.get("alarm_id") == a and d.get("state") == "received")
            to_received.append(feedback.arrival(lambda d, a=alarm_id: d.get("alarm_id") == a) - started)
            # All pages of this alarm, so none of them is mistaken for the next alarm's.
            pages.wait_count(seen + PAGERS_PER_ZONE, timeout=30)
            to_page.append(pages.first_after(seen) - started)

        seen = pages.count()
        started = time.perf_counter()
        for i in range(burst):
            press(i)
        paged = pages.wait_alarms(seen, burst, timeout=max(60, burst / 10))
        elapsed = time.perf_counter() - started
        rate = paged / elapsed

        _report(floor, to_page, to_received, rate, paged, burst)
        return 0
    finally:
        for client in clients:
            client.loop_stop()
            client.disconnect()
        service.terminate()
        service.wait(timeout=30)
        log_file.close()


# ---- the floor --------------------------------------------------------------------------------


def _floor(endpoint: MqttEndpoint, *, samples: int, burst: int) -> dict[str, float]:
    inbox = _Inbox()
    topic = f"bench-floor/{uuid.uuid4().hex[:8]}"
    receiver = _client(endpoint, "bench-floor-rx", [topic], inbox.put)
    sender = _client(endpoint, "bench-floor-tx", [], lambda _: None)
    try:
        latencies = []
        for i in range(samples):
            started = time.perf_counter()
            sender.publish(topic, json.dumps({"n": i}).encode(), qos=1)
            inbox.wait(lambda d, n=i: d.get("n") == n)
            latencies.append(time.perf_counter() - started)
        before = inbox.count()
        started = time.perf_counter()
        for i in range(burst * PAGERS_PER_ZONE):
            while sender.publish(topic, json.dumps({"b": i}).encode(), qos=1).rc != mqtt.MQTT_ERR_SUCCESS:
                time.sleep(0.001)
        inbox.wait_count(before + burst * PAGERS_PER_ZONE, timeout=120)
        rate = burst * PAGERS_PER_ZONE / (time.perf_counter() - started)
        return {"p50": _pct(latencies, 50), "p99": _pct(latencies, 99), "rate": rate}
    finally:
        for client in (receiver, sender):
            client.loop_stop()
            client.disconnect()


def _report(floor: dict[str, float], to_page: list[float], to_received: list[float], rate: float,
            paged: int, burst: int) -> None:
    def row(name: str, values: list[float]) -> str:
        p50, p99 = _pct(values, 50), _pct(values, 99)
        return (f"{name:<36}{p50 * 1000:>9.2f} ms{p99 * 1000:>9.2f} ms"
                f"{p50 / floor['p50']:>10.1f}x{p99 / floor['p99']:>8.1f}x")

    print(f"{'latency':<36}{'p50':>12}{'p99':>12}{'ratio to floor (p50, p99)':>30}")
    print(f"{'floor: raw MQTT publish -> receive':<36}{floor['p50'] * 1000:>9.2f} ms{floor['p99'] * 1000:>9.2f} ms")
    print(row("alarm publish -> first page", to_page))
    print(row("alarm publish -> received (stored)", to_received))
    print()
    print(f"{'throughput':<36}{'per second':>12}")
    print(f"{'floor: raw MQTT messages':<36}{floor['rate']:>12.0f}")
    print(f"{'alarms stored and paged':<36}{rate:>12.1f}   ratio to floor {rate / floor['rate']:.4f} "
          f"(each alarm is {PAGERS_PER_ZONE + 1} messages out: {rate * (PAGERS_PER_ZONE + 1):.0f} msg/s; "
          f"{paged}/{burst} alarms paged)")


# ---- helpers ----------------------------------------------------------------------------------


class _Inbox:
    """Messages with their arrival time; waits on conditions."""

    def __init__(self) -> None:
        self.items: list[tuple[float, dict[str, object]]] = []
        self._changed = threading.Condition()

    def put(self, data: dict[str, object]) -> None:
        with self._changed:
            self.items.append((time.perf_counter(), data))
            self._changed.notify_all()

    def count(self) -> int:
        with self._changed:
            return len(self.items)

    def wait(self, predicate: Callable[[dict[str, object]], bool], timeout: float = 30) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: any(predicate(d) for _, d in self.items[-50:]), timeout):
                raise TimeoutError("expected message did not arrive")

    def wait_count(self, count: int, timeout: float) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.items) >= count, timeout):
                raise TimeoutError(f"only {len(self.items)} of {count} messages arrived")

    def arrival(self, predicate: Callable[[dict[str, object]], bool]) -> float:
        with self._changed:
            return next(at for at, d in self.items if predicate(d))

    def first_after(self, seen: int) -> float:
        with self._changed:
            return self.items[seen][0]

    def wait_alarms(self, seen: int, alarms: int, timeout: float) -> int:
        def distinct() -> int:
            return len({d.get("alarm_id") for _, d in self.items[seen:]})
        with self._changed:
            self._changed.wait_for(lambda: distinct() >= alarms, timeout)
            return distinct()


def _client(endpoint: MqttEndpoint, name: str, topics: list[str],
            on_data: Callable[[dict[str, object]], None]) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}",
                         clean_session=True)
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    client.max_inflight_messages_set(100)
    subscribed = threading.Event()
    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            data = json.loads(message.payload)
        except ValueError:
            return  # not ours to measure
        if isinstance(data, dict):
            on_data(data)

    client.on_message = on_message

    def on_connect(c: mqtt.Client, *_: object) -> None:
        no_delay(c)
        for topic in topics:
            c.subscribe(topic, qos=1)
        subscribed.set()

    client.on_connect = on_connect
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    if not subscribed.wait(10):
        raise RuntimeError(f"{name}: no connection to {endpoint.url()}")
    time.sleep(0.05)  # let SUBACK land before traffic starts
    return client


def _wait_healthy(port: int, service: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if service.poll() is not None:
            raise RuntimeError("code4 run exited during start-up; see its log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass  # not up yet
        time.sleep(0.1)
    raise RuntimeError("code4 did not become healthy in 30 s")


def _pct(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if pct < 100 else max(values)


def _site(buttons: int, zones: int) -> str:
    lines = ["organisation: Bench", "fallback: bench", "sites:", "  - id: site", "    name: Bench site", "    zones:"]
    for zone in range(zones):
        lines += [f"      - id: zone-{zone}", f"        name: Zone {zone}", "        locations:"]
        lines += [f"          - {{id: loc-{i}, name: Location {i}}}" for i in range(buttons) if i % zones == zone]
    lines.append("people:")
    for zone in range(zones):
        for n in range(PAGERS_PER_ZONE):
            lines.append(f"  - {{id: p-{zone}-{n}, name: Person {zone}-{n}, roles: [bhv], teams: [team], "
                         f"zones: [zone-{zone}]}}")
    lines.append("devices:")
    lines += [f"  - {{id: knop-{i}, type: fixed_button, location: site/loc-{i}}}" for i in range(buttons)]
    for zone in range(zones):
        lines += [f"  - {{id: pager-{zone}-{n}, type: responder_pager, person: p-{zone}-{n}}}"
                  for n in range(PAGERS_PER_ZONE)]
    lines += [
        "agreements:",
        "  - id: bench",
        "    steps:",
        "      - {id: collega, targets: [{team: team, same_zone: true}], channels: [pager], ack_timeout: 10m}",
        "      - {id: bhv, code: '4', targets: [{role: bhv}], channels: [pager]}",
    ]
    return "\n".join(lines) + "\n"
