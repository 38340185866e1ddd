"""Several `code4 run` instances on one database and one broker, and a site of simulated
devices that counts what reaches it: what the chaos tests (tests/chaos/) and
`code4 bench --failover` kill, freeze and measure.

The site: BUTTONS buttons, each at a location of its own, that repeat their alarm until
`received`; three colleagues with pagers, paged together in the first step, then the BHV with
code 4. Pagers keep every page that arrives, so a page sent twice is counted, not lost.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devices.endpoint import MqttEndpoint
from devices.protocol import Topics
from gateway.mqtt.broker import free_port
from simulators.devices import SimButton, SimPager

BUTTONS = 50
PAGERS = ("pager-1", "pager-2", "pager-3")


def site_yaml(ack_timeout: str) -> str:
    """BUTTONS buttons, each at a location of its own; three colleagues with pagers, paged
    together in the first step (`ack_timeout`), then the BHV with code 4."""
    lines = ["organisation: Failover site", "fallback: desk", "sites:", "  - id: hq", "    name: HQ", "    zones:",
             "      - id: floor", "        name: Floor", "        locations:"]
    lines += [f"          - {{id: loc-{i}, name: Location {i}}}" for i in range(BUTTONS)]
    lines.append("people:")
    lines += [f"  - {{id: p{n}, name: Person {n}, roles: [bhv], teams: [desk], zones: [floor]}}"
              for n in range(1, len(PAGERS) + 1)]
    lines.append("devices:")
    lines += [f"  - {{id: knop-{i}, type: fixed_button, location: hq/loc-{i}}}" for i in range(BUTTONS)]
    lines += [f"  - {{id: {pager}, type: responder_pager, person: p{n}}}" for n, pager in enumerate(PAGERS, 1)]
    lines += ["agreements:", "  - id: desk", "    steps:",
              f"      - {{id: collega, targets: [{{team: desk}}], channels: [pager], ack_timeout: {ack_timeout}}}",
              "      - {id: bhv, code: '4', targets: [{role: bhv}], channels: [pager]}"]
    return "\n".join(lines) + "\n"


def write_site(directory: Path, ack_timeout: str) -> Path:
    """The site file in `directory`, for the instances to load."""
    path = directory / "site.yaml"
    path.write_text(site_yaml(ack_timeout), encoding="utf-8")
    return path


@dataclass
class Instance:
    """One `code4 run` process, its HTTP port and its log (JSON lines)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    host: str = "127.0.0.1"

    def health(self) -> dict[str, Any]:
        try:
            return dict(httpx.get(f"http://{self.host}:{self.port}/api/health", timeout=1).json())
        except (httpx.HTTPError, ValueError):
            return {}

    def role(self) -> str | None:
        return self.health().get("role")

    def wait_role(self, role: str, timeout: float = 30) -> float:
        """Seconds until this instance reports `role` and is well (a leader: connected to the broker)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited; its log:\n{self.log_path.read_text()[-3000:]}")
            if self.health() == {"status": "ok", "role": role}:
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not {role} within {timeout} s (is {self.health()})")

    def log_lines(self, after: int = 0) -> list[dict[str, Any]]:
        with self.log_path.open("rb") as file:
            file.seek(after)
            text = file.read().decode("utf-8", "replace")
        lines = []
        for line in text.splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def log_size(self) -> int:
        return self.log_path.stat().st_size


@dataclass
class Cluster:
    """code4 instances on one database and one broker (a URL: one node or a cluster's nodes)."""

    workdir: Path
    database_url: str
    broker_url: str
    prefix: str = field(default_factory=lambda: f"cluster-{uuid.uuid4().hex[:6]}/v1")
    lease_ttl_s: float = 2.0
    link_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # one key: links work on every instance
    instances: list[Instance] = field(default_factory=list)

    def start(self, name: str, site: Path, *, host: str = "127.0.0.1", database_url: str | None = None,
              broker_url: str | None = None, wrapper: tuple[str, ...] = ()) -> Instance:
        """`wrapper`: a command it runs under (`ip netns exec NAME` for a machine of its own);
        `host`, `database_url`, `broker_url`: how it is reached and reaches them from there."""
        port = free_port()
        data = self.workdir / name
        data.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODE4_")}
        env.update(CODE4_MQTT_URL=broker_url or self.broker_url, CODE4_DATABASE_URL=database_url or self.database_url,
                   CODE4_CONFIG=str(site), CODE4_HTTP=f"{host}:{port}", CODE4_DATA_DIR=str(data),
                   CODE4_TOPIC_PREFIX=self.prefix, CODE4_SECRET_KEY=self.link_key, CODE4_LOG_FORMAT="json",
                   CODE4_LOG_LEVEL="info", CODE4_LEASE_TTL_S=str(self.lease_ttl_s), PYTHONUNBUFFERED="1")
        log_path = self.workdir / f"{name}.log"
        process = subprocess.Popen([*wrapper, sys.executable, "-m", "gateway.cli", "run"], env=env, cwd=data,
                                   stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
        instance = Instance(name, process, port, log_path, host)
        self.instances.append(instance)
        return instance

    def stop_all(self) -> None:
        for instance in self.instances:
            if instance.process.poll() is None:
                instance.process.send_signal(signal.SIGCONT)
                instance.process.terminate()
        for instance in self.instances:
            try:
                instance.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                instance.process.kill()
                instance.process.wait()


class Site:
    """The devices: BUTTONS buttons that repeat their alarm until `received`, and the pagers,
    which keep every page they get (a repeated page_id is counted, not shown twice)."""

    def __init__(self, endpoint: MqttEndpoint, prefix: str, buttons: int = BUTTONS) -> None:
        topics = Topics(prefix)
        self.buttons = [SimButton(_spread(endpoint, i), f"knop-{i}", topics=topics, repeat_every=1.0)
                        for i in range(buttons)]
        self.pagers = {name: SimPager(_spread(endpoint, i), name, topics=topics) for i, name in enumerate(PAGERS)}
        for device in [*self.buttons, *self.pagers.values()]:
            device.connect()

    def close(self) -> None:
        for device in [*self.buttons, *self.pagers.values()]:
            device.close()

    def press(self, button: int) -> str:
        return self.buttons[button].press(kind="assist")

    def received(self, button: int, alarm_id: str) -> bool:
        return any(d.get("state") == "received" and d.get("alarm_id") == alarm_id
                   for d in self.buttons[button].messages("feedback"))

    def pages(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, page) for name, pager in self.pagers.items() for page in pager.pages()]

    def pages_by_location(self) -> dict[str, dict[str, dict[str, int]]]:
        """location -> pager -> page_id -> how often it arrived."""
        found: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        for name, page in self.pages():
            found[str(page.get("location", "")).split(",")[0]][name][str(page.get("page_id"))] += 1
        return found

    def all_paged(self, pressed: Mapping[int, str]) -> bool:
        """Every button (number: its alarm id) heard `received`, and every pager got a page for
        its location."""
        found = self.pages_by_location()
        return all(self.received(b, alarm_id) for b, alarm_id in pressed.items()) and \
            all(len(found.get(f"Location {b}", {})) == len(PAGERS) for b in pressed)

    def page_ids(self) -> dict[tuple[str, str, str], set[str]]:
        """Per (location, pager, code of the step) the page ids the pager got: one each, unless
        someone was paged twice for one step (a page id sent once more is still one)."""
        ids: dict[tuple[str, str, str], set[str]] = {}
        for pager, page in self.pages():
            location = str(page.get("location", "")).split(",")[0]
            ids.setdefault((location, pager, str(page.get("code"))), set()).add(str(page.get("page_id")))
        return ids

    def paged_twice(self) -> int:
        """How often someone got two different pages for one alarm's step."""
        return sum(1 for ids in self.page_ids().values() if len(ids) > 1)

    def wait(self, condition: Callable[[], bool], timeout: float, what: str,
             missing: Callable[[], str] = lambda: "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError(f"not within {timeout} s: {what} {missing()}")


def _spread(endpoint: MqttEndpoint, index: int) -> MqttEndpoint:
    """A broker cluster's nodes starting at a different one for each device, as a load
    balancer or DNS spreads real devices (one node: itself)."""
    nodes = [node.url(with_password=True) for node in endpoint.nodes]
    shift = index % len(nodes)
    return MqttEndpoint.parse(",".join(nodes[shift:] + nodes[:shift]))

