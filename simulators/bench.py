"""`code4 bench`: how fast an alarm becomes a page, measured against the floor of the same
broker in the same run, on SQLite and on PostgreSQL.

For each database it starts `code4 run` as a separate process on a generated site (buttons over
zones, four pagers paged per alarm, and a fleet of supervised devices) against a Mosquitto of
its own, and measures from outside, as devices and pagers see it:

* the floor: a raw MQTT publish → receive round trip between two clients on the same broker;
* quiet: one alarm at a time — press → `received` at the button, press → the first page;
* burst: `--burst` alarms within one second while `--devices` devices heartbeat once a minute;
  their step times out after one second, so their deadlines fire during the burst: how late
  the next step's page comes, and code4's own deadline lateness (its /metrics);
* sustained (`--sustain`): the highest alarm rate held for `--sustain-seconds` with every alarm
  paged and press → first page p99 under `--bound-ms`, with the CPU each part used per alarm
  (code4, its broker, and the bench's own clients), so a rate can be read against the cores.

Figures are printed beside the floor as ratios. A benchmark, not a test: nothing here passes or
fails. Alarms are matched to their pages by the button's location: a button presses again only
once its previous alarm was received and paged.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from devices.endpoint import MqttEndpoint
from gateway.mqtt.broker import Mosquitto, free_port
from simulators.devices import no_delay

PAGERS_PER_ZONE = 4
BURST_STEP_S = 1  # the burst's first step times out after this: its deadlines fire during the run


@dataclass
class Options:
    latency_alarms: int = 100
    burst: int = 100
    devices: int = 10_000
    buttons: int = 100
    pagers: int = 20
    sustain: bool = False
    sustain_seconds: float = 30.0
    bound_ms: float = 100.0
    start_rate: float = 100.0


def run_bench(options: Options, *, mqtt_url: str | None, databases: list[str]) -> int:
    # The measuring side must not pause to collect garbage in the middle of a measurement: it
    # runs for minutes, holds little, and its own pauses would count against code4.
    gc.disable()
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="code4-bench-") as scratch:
            workdir = Path(scratch)
            with broker_for(mqtt_url, workdir) as (url, broker_pid), database_for(database, workdir) as database_url:
                _bench(workdir, MqttEndpoint.parse(url), options, database_url, broker_pid=broker_pid)
        print()
    return 0


@contextmanager
def broker_for(mqtt_url: str | None, workdir: Path) -> Iterator[tuple[str, int | None]]:
    """(URL, process id): the broker given (no process of ours), or a Mosquitto of its own."""
    if mqtt_url is not None:
        yield mqtt_url, None
        return
    broker = Mosquitto(workdir / "broker")
    broker.start_sync()
    try:
        yield broker.url, broker.pid
    finally:
        broker.stop_sync()


@contextmanager
def database_for(name: str, workdir: Path) -> Iterator[str]:
    """`sqlite` (a fresh file), or a PostgreSQL admin URL: a throw-away database on it."""
    if name == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    import psycopg

    admin = name.replace("postgresql+psycopg://", "postgresql://")
    database = f"code4_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{database}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _bench(workdir: Path, endpoint: MqttEndpoint, options: Options, database_url: str, *,
           broker_pid: int | None) -> None:
    zones = max(1, options.pagers // PAGERS_PER_ZONE)
    prefix = f"bench-{uuid.uuid4().hex[:6]}/v1"  # never mixes with a real site on a shared broker
    config = workdir / "bench-site.yaml"
    config.write_text(_site(options.buttons, zones, options.devices), encoding="utf-8")
    http_port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE4_")}
    env.update(CODE4_MQTT_URL=endpoint.url(with_password=True), CODE4_DATABASE_URL=database_url,
               CODE4_CONFIG=str(config), CODE4_HTTP=f"127.0.0.1:{http_port}", CODE4_DATA_DIR=str(workdir / "var"),
               CODE4_TOPIC_PREFIX=prefix, CODE4_MQTT_CLIENT_ID=f"code4-bench-{uuid.uuid4().hex[:6]}",
               CODE4_LOG_LEVEL="error", CODE4_LOG_FORMAT="json", CODE4_METRICS_HTTP=f"127.0.0.1:{metrics_port}")
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    log_file = (workdir / "code4.log").open("w")
    service = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], env=env, stdout=log_file,
                               stderr=subprocess.STDOUT)
    site = _Site(endpoint, prefix, options.buttons, zones)
    fleet = None
    try:
        _wait_healthy(http_port, service)
        print(f"code4 bench on {kind}: broker {endpoint.url()}, {options.buttons} buttons, "
              f"{zones * PAGERS_PER_ZONE} pagers in {zones} zones ({PAGERS_PER_ZONE} paged per alarm), "
              f"{options.devices} devices heartbeating once a minute\n")
        floor = _floor(endpoint, samples=options.latency_alarms)
        site.connect()
        quiet = [site.alarm_one(i % options.buttons) for i in range(options.latency_alarms)]
        fleet = _Fleet(endpoint, prefix, options.devices)
        fleet.start()
        time.sleep(2.0)  # the fleet under way
        burst = site.burst(options.burst, within=1.0)
        escalations = site.escalations(burst, timeout=BURST_STEP_S + 10)
        lateness_p99 = _metric_p99(metrics_port, "code4_deadline_lateness_seconds")
        batch_p99 = _metric_p99(metrics_port, "code4_commit_batch_size")
        _report(kind, floor, quiet, burst, escalations, lateness_p99, batch_p99, fleet.sent)
        if options.sustain:
            meter = _CpuMeter({"code4": service.pid, "broker": broker_pid, "bench": os.getpid()})
            _sustain(site, options, floor, meter)
    finally:
        if fleet is not None:
            fleet.stop()
        site.close()
        service.terminate()
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
        log_file.close()


# ---- the floor --------------------------------------------------------------------------------


def _floor(endpoint: MqttEndpoint, *, samples: int) -> dict[str, float]:
    inbox = _Inbox()
    topic = f"bench-floor/{uuid.uuid4().hex[:8]}"
    receiver = _client(endpoint, "bench-floor-rx", [topic], lambda _topic, data: inbox.put(data))
    sender = _client(endpoint, "bench-floor-tx", [], lambda _topic, _data: None)
    try:
        latencies = []
        for i in range(samples):
            started = time.perf_counter()
            sender.publish(topic, json.dumps({"n": i}).encode(), qos=1)

            def is_sample(data: dict[str, object], n: int = i) -> bool:
                return data.get("n") == n

            inbox.wait(is_sample)
            latencies.append(time.perf_counter() - started)
        return {"p50": _pct(latencies, 50), "p99": _pct(latencies, 99)}
    finally:
        for client in (receiver, sender):
            client.loop_stop()
            client.disconnect()


# ---- the site as its devices see it ----------------------------------------------------------------


@dataclass
class _Alarm:
    button: int
    alarm_id: str
    pressed: float
    kind: str
    received: float | None = None
    first_page: float | None = None
    uid: str | None = None
    escalated: float | None = None  # the next step's first page (after the step's deadline)


@dataclass
class _Site:
    endpoint: MqttEndpoint
    prefix: str
    buttons: int
    zones: int
    clients: list[mqtt.Client] = field(default_factory=list)
    outstanding: dict[int, _Alarm] = field(default_factory=dict)  # per button, the alarm not yet done
    by_uid: dict[str, _Alarm] = field(default_factory=dict)
    done: threading.Condition = field(default_factory=threading.Condition)

    def connect(self) -> None:
        self.presser = _client(self.endpoint, "bench-buttons", [f"{self.prefix}/dev/+/feedback"], self._feedback)
        self.pagers = _client(self.endpoint, "bench-pagers", [f"{self.prefix}/dev/+/page"], self._page)
        self.clients += [self.presser, self.pagers]

    def close(self) -> None:
        for client in self.clients:
            client.loop_stop()
            client.disconnect()

    def press(self, button: int, kind: str = "panic") -> _Alarm:
        alarm = _Alarm(button, uuid.uuid4().hex[:16], time.perf_counter(), kind)
        with self.done:
            self.outstanding[button] = alarm
        info = self.presser.publish(f"{self.prefix}/dev/knop-{button}/alarm",
                                    json.dumps({"alarm_id": alarm.alarm_id, "kind": kind}).encode(), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish refused (rc {info.rc})")
        return alarm

    def free(self, button: int) -> bool:
        with self.done:
            alarm = self.outstanding.get(button)
            return alarm is None or (alarm.received is not None and alarm.first_page is not None)

    def alarm_one(self, button: int) -> _Alarm:
        alarm = self.press(button)
        self.wait([alarm], timeout=30)
        return alarm

    def burst(self, count: int, *, within: float) -> list[_Alarm]:
        """`count` alarms spread evenly over `within` seconds, from different buttons."""
        alarms, started = [], time.perf_counter()
        for i in range(count):
            time.sleep(max(0.0, started + i * within / count - time.perf_counter()))
            alarms.append(self.press(i % self.buttons, "assist"))
        self.wait(alarms, timeout=60)
        return alarms

    def escalations(self, alarms: list[_Alarm], *, timeout: float) -> list[float]:
        """How late after its due time each alarm's next step was paged (due = first page + step)."""
        with self.done:
            self.done.wait_for(lambda: all(a.escalated is not None for a in alarms), timeout)
        return [a.escalated - a.first_page - BURST_STEP_S for a in alarms
                if a.escalated is not None and a.first_page is not None]

    def wait(self, alarms: list[_Alarm], *, timeout: float) -> None:
        with self.done:
            if not self.done.wait_for(lambda: all(a.received and a.first_page for a in alarms), timeout):
                missing = sum(1 for a in alarms if not (a.received and a.first_page))
                raise TimeoutError(f"{missing} of {len(alarms)} alarms not received and paged")

    def _feedback(self, topic: str, data: dict[str, object]) -> None:
        now = time.perf_counter()
        button = int(topic.split("/")[-2].removeprefix("knop-"))
        with self.done:
            alarm = self.outstanding.get(button)
            if alarm and data.get("alarm_id") == alarm.alarm_id and data.get("state") == "received" \
                    and alarm.received is None:
                alarm.received = now
                self.done.notify_all()

    def _page(self, _topic: str, data: dict[str, object]) -> None:
        now = time.perf_counter()
        uid = str(data.get("alarm_id"))
        with self.done:
            alarm = self.by_uid.get(uid)
            if alarm is None:
                button = int(str(data.get("location", "")).split(",")[0].removeprefix("Location "))
                alarm = self.outstanding.get(button)
                if alarm is None or alarm.uid is not None:
                    return  # a page of an older alarm of this button
                alarm.uid, alarm.first_page = uid, now
                self.by_uid[uid] = alarm
                self.done.notify_all()
            elif data.get("code") == "4" and alarm.escalated is None:
                alarm.escalated = now
                self.done.notify_all()


class _Fleet:
    """Devices heartbeating once a minute, spread evenly: `devices` / 60 heartbeats a second."""

    def __init__(self, endpoint: MqttEndpoint, prefix: str, devices: int) -> None:
        self.client = _client(endpoint, "bench-fleet", [], lambda _t, _d: None)
        self.prefix, self.devices = prefix, devices
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-fleet", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.client.loop_stop()
        self.client.disconnect()

    def _run(self) -> None:
        interval = 60.0 / max(1, self.devices)
        started = time.perf_counter()
        for n in itertools.count():
            if self._stop.is_set():
                return
            delay = started + n * interval - time.perf_counter()
            if delay > 0:
                self._stop.wait(delay)
            device = n % self.devices
            self.client.publish(f"{self.prefix}/dev/dev-{device}/heartbeat",
                                json.dumps({"battery": 0.9, "rssi": -60}).encode(), qos=0)
            self.sent += 1


# ---- sustained rate ----------------------------------------------------------------------------------


def _sustain(site: _Site, options: Options, floor: dict[str, float], meter: _CpuMeter) -> None:
    """Raise the rate while it holds: every alarm paged, press → first page p99 under the bound."""
    print(f"\nsustained alarms, {options.sustain_seconds:g} s per rate, p99 bound {options.bound_ms:g} ms; "
          f"CPU per alarm of each process (ms), and the cores busy on the whole machine (the database too)")
    print(f"{'rate (alarms/s)':<18}{'held':>6}{'p50':>11}{'p99':>11}{'backlog':>9}"
          f"{'code4':>8}{'broker':>8}{'bench':>8}{'cores':>7}")
    rate, best = options.start_rate, 0.0
    while True:
        meter.start()
        held, p50, p99, backlog, alarms, seconds = _hold(site, rate, options)
        cpu = meter.stop()
        columns = "".join(f"{used * 1000 / max(1, alarms):>8.2f}" if used is not None else f"{'-':>8}"
                          for used in (cpu.get("code4"), cpu.get("broker"), cpu.get("bench")))
        cores = (cpu.get("machine") or 0.0) / seconds
        print(f"{rate:<18.0f}{'yes' if held else 'no':>6}{p50 * 1000:>8.1f} ms{p99 * 1000:>8.1f} ms{backlog:>9}"
              f"{columns}{cores:>7.2f}")
        if not held:
            break
        best = rate
        rate *= 1.5
    print(f"highest rate held: {best:.0f} alarms/s (each paging {PAGERS_PER_ZONE}: "
          f"{best * (PAGERS_PER_ZONE + 1):.0f} messages/s out) on {os.cpu_count()} cores; "
          f"floor p99 {floor['p99'] * 1000:.2f} ms")


def _hold(site: _Site, rate: float, options: Options) -> tuple[bool, float, float, int, int, float]:
    alarms: list[_Alarm] = []
    backlog = 0
    buttons = itertools.cycle(range(site.buttons))
    started = time.perf_counter()
    total = int(rate * options.sustain_seconds)
    for i in range(total):
        time.sleep(max(0.0, started + i / rate - time.perf_counter()))
        for _ in range(site.buttons):
            button = next(buttons)
            if site.free(button):
                alarms.append(site.press(button))
                break
        else:
            backlog += 1  # every button still waits for its previous alarm: the rate is not held
    try:
        site.wait(alarms, timeout=30)
        complete = True
    except TimeoutError:
        complete = False
    seconds = time.perf_counter() - started
    latencies = [a.first_page - a.pressed for a in alarms if a.first_page is not None]
    p50, p99 = (_pct(latencies, 50), _pct(latencies, 99)) if latencies else (0.0, 0.0)
    held = complete and backlog == 0 and p99 * 1000 < options.bound_ms
    return held, p50, p99, backlog, len(alarms), seconds


class _CpuMeter:
    """CPU seconds (user + system, all threads) each named process used between start and stop,
    read from /proc; None where it cannot be read (not Linux, or a broker the bench did not start)."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self._started: dict[str, float | None] = {}

    def start(self) -> None:
        self._started = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        self._started["machine"] = _machine_busy_seconds()

    def stop(self) -> dict[str, float | None]:
        now = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        now["machine"] = _machine_busy_seconds()
        return {name: after - before if (before := self._started.get(name)) is not None and after is not None
                else None for name, after in now.items()}


def _cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in ticks


def _machine_busy_seconds() -> float | None:
    """CPU seconds all cores spent on anything but idling and waiting for the disk."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# ---- report -------------------------------------------------------------------------------------------


def _report(kind: str, floor: dict[str, float], quiet: list[_Alarm], burst: list[_Alarm], escalations: list[float],
            lateness_p99: float | None, batch_p99: float | None, heartbeats: int) -> None:
    def row(name: str, values: list[float]) -> str:
        p50, p99 = _pct(values, 50), _pct(values, 99)
        return (f"{name:<44}{p50 * 1000:>9.2f} ms{p99 * 1000:>9.2f} ms"
                f"{p50 / floor['p50']:>10.1f}x{p99 / floor['p99']:>8.1f}x")

    print(f"{'latency (' + kind + ')':<44}{'p50':>12}{'p99':>12}{'ratio to floor (p50, p99)':>30}")
    print(f"{'floor: raw MQTT publish -> receive':<44}{floor['p50'] * 1000:>9.2f} ms{floor['p99'] * 1000:>9.2f} ms")
    print(row("quiet: press -> received", [a.received - a.pressed for a in quiet if a.received]))
    print(row("quiet: press -> first page", [a.first_page - a.pressed for a in quiet if a.first_page]))
    print(row(f"burst of {len(burst)} in 1 s: press -> received", [a.received - a.pressed for a in burst
                                                                    if a.received]))
    page = [a.first_page - a.pressed for a in burst if a.first_page]
    print(row(f"burst of {len(burst)} in 1 s: press -> first page", page))
    bound = 3 * floor["p99"] + 0.005
    print(f"  goal: p99 <= 3 x floor p99 + 5 ms = {bound * 1000:.2f} ms: "
          f"{'met' if _pct(page, 99) <= bound else 'NOT met'}")
    if escalations:
        print(f"{'deadline -> next step paged (outside view)':<44}{_pct(escalations, 50) * 1000:>9.2f} ms"
              f"{_pct(escalations, 99) * 1000:>9.2f} ms")
    if lateness_p99 is not None:
        print(f"deadline lateness in code4 (its /metrics): p99 <= {lateness_p99 * 1000:.0f} ms (histogram bucket)")
    if batch_p99 is not None:
        print(f"commit batch size p99 <= {batch_p99:.0f} decisions; {heartbeats} heartbeats sent meanwhile")


def _metric_p99(port: int, name: str) -> float | None:
    """The upper bound of the bucket holding a histogram's 99th percentile."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    buckets = []
    for line in text.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    return next(bound for bound, count in buckets if count >= 0.99 * total)


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

    def wait(self, predicate: Callable[[dict[str, object]], bool], timeout: float = 30) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: any(predicate(d) for _, d in self.items[-50:]), timeout):
                raise TimeoutError("expected message did not arrive")


def _client(endpoint: MqttEndpoint, name: str, topics: list[str],
            on_data: Callable[[str, dict[str, object]], None]) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}",
                         clean_session=True)
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    subscribed = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            data = json.loads(message.payload)
        except ValueError:
            return  # not ours to measure
        if isinstance(data, dict):
            on_data(message.topic, data)

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
    for _ in range(600):
        if service.poll() is not None:
            raise RuntimeError("code4 run exited during start-up; see its log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass  # not up yet
        time.sleep(0.1)
    raise RuntimeError("code4 did not become healthy in 60 s")


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if pct < 100 else max(values)


def _site(buttons: int, zones: int, fleet: int) -> str:
    lines = ["organisation: Bench", "fallback: bench", "device_types:",
             "  fixed_button: {supervision: 5m, battery_low: 0.1}", "sites:", "  - id: site",
             "    name: Bench site", "    zones:"]
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
    # The fleet: supervised buttons elsewhere in the building, heartbeating once a minute.
    lines += [f"  - {{id: dev-{i}, type: fixed_button, location: site/loc-{i % buttons}}}" for i in range(fleet)]
    for zone in range(zones):
        lines += [f"  - {{id: pager-{zone}-{n}, type: responder_pager, person: p-{zone}-{n}}}"
                  for n in range(PAGERS_PER_ZONE)]
    lines += [
        "agreements:",
        "  - id: burst",  # its first step times out quickly, so its deadlines fire during the burst
        "    match: {kinds: [assist]}",
        "    steps:",
        f"      - {{id: collega, targets: [{{team: team, same_zone: true}}], channels: [pager], "
        f"ack_timeout: {BURST_STEP_S}s}}",
        "      - {id: bhv, code: '4', targets: [{role: bhv, same_zone: true}], channels: [pager]}",
        "  - id: bench",
        "    steps:",
        "      - {id: collega, targets: [{team: team, same_zone: true}], channels: [pager], ack_timeout: 10m}",
        "      - {id: bhv, code: '4', targets: [{role: bhv}], channels: [pager]}",
    ]
    return "\n".join(lines) + "\n"
