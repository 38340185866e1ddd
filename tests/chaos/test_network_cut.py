"""The cable between the leader and the rest (its database and its broker) is cut: the leader
cannot renew its lease, so it stops sending and steps down within the lease time; the standby
takes over and pages what arrives meanwhile. The leader runs in a network namespace of its own
(`ip netns`, a veth pair), as on a machine of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from devices.endpoint import MqttEndpoint
from gateway.mqtt.broker import Mosquitto, free_port
from simulators.cluster import Cluster, Site, write_site
from tests.chaos.conftest import cannot_run, figures
from tests.chaos.netns import NetNamespace
from tests.chaos.own_postgres import OwnPostgres

LEASE_S = 2.0


@pytest.fixture
def machine() -> Iterator[NetNamespace]:
    if not NetNamespace.available():
        cannot_run("this test needs root and `ip` (network namespaces)")
    namespace = NetNamespace()
    namespace.create()
    try:
        yield namespace
    finally:
        namespace.delete()


def test_the_leader_cut_off_from_its_database_stops_sending(machine: NetNamespace, tmp_path: Path) -> None:
    database = OwnPostgres(also_listen=machine.host_address)
    broker_port = free_port()
    broker = Mosquitto(tmp_path / "broker", extra_config=f"listener {broker_port} {machine.host_address}\n")
    database.start()
    broker.start_sync()
    site = write_site(tmp_path, ack_timeout="10m")
    cluster = Cluster(tmp_path, database.url, broker.url, lease_ttl_s=LEASE_S)
    devices = None
    try:
        leader = cluster.start(
            "cut-off", site, host=machine.address, wrapper=machine.wrapper,
            database_url=database.url.replace("127.0.0.1", machine.host_address),
            broker_url=f"mqtt://{machine.host_address}:{broker_port}")
        leader.wait_role("leader")
        standby = cluster.start("standby", site)
        standby.wait_role("standby")
        devices = Site(MqttEndpoint.parse(broker.url), cluster.prefix, buttons=20)
        before = {b: devices.press(b) for b in range(5)}
        devices.wait(lambda: all(devices.received(b, a) for b, a in before.items()), 10, "paged before the cut")

        machine.cut()
        cut_at = time.time()
        after = {b: devices.press(b) for b in range(5, 20)}  # pressed while the leader is cut off
        standby.wait_role("leader", timeout=15)
        took_over = time.time() - cut_at

        devices.wait(lambda: devices.all_paged({**before, **after}), 30, "every alarm paged by the standby")

        def stepped_down() -> list[float]:
            return [datetime.fromisoformat(line["timestamp"]).timestamp() for line in leader.log_lines()
                    if "steps down" in str(line.get("event"))]

        devices.wait(lambda: bool(stepped_down()), 10, "the cut-off leader stepped down")
        stepped = stepped_down()
        lines = leader.log_lines()
        gave_up_after = stepped[0] - cut_at
        late = [line for line in lines if datetime.fromisoformat(line["timestamp"]).timestamp() > stepped[0]
                and line.get("event") in ("delivered", "this instance dispatches now", "connected to broker")]
        twice = devices.paged_twice()
        figures(f"network cut between the leader and its database and broker: the leader stepped down "
                f"{gave_up_after:.2f} s after the cut (lease {LEASE_S:g} s), the standby led after {took_over:.2f} s; "
                f"alarms in 20, paged {len({loc for loc, _, _ in devices.page_ids()})}, people paged twice {twice}")
        assert gave_up_after <= LEASE_S + 0.5, "it stopped once it could not renew the lease"
        assert not late, f"the cut-off leader went on after stepping down: {late[:3]}"
        assert twice == 0
    finally:
        if devices is not None:
            devices.close()
        cluster.stop_all()
        broker.stop_sync()
        database.stop()
