"""A clustered broker (three NATS nodes with their MQTT listener): the node code4 and a third
of the devices are connected to dies during a stream of alarms. code4 moves to another node,
the dispatcher's persistent session with it; every alarm is received by its button and every
page handed to the broker.

What reaches the pagers is the broker's part, counted and printed: NATS 2.9 (Debian's) takes
its time after a node died (it elects new leaders and clears the dead node's consumers, and
CONNECTs and subscriptions that need its JetStream wait or fail meanwhile), so a pager whose
subscription it failed to restore misses pages until it subscribes again; its step's
acknowledgement timeout then escalates as for any page nobody answers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from devices.endpoint import MqttEndpoint
from gateway.mqtt.session import CONNECT_TIMEOUT_S
from simulators.cluster import PAGERS, Cluster, Site, write_site
from tests.chaos.conftest import cannot_run, figures
from tests.chaos.nats_cluster import NatsCluster

ALARMS = 30


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsCluster]:
    if not NatsCluster.available():
        cannot_run("this test needs nats-server (a clustering MQTT broker): apt-get install nats-server")
    cluster = NatsCluster(tmp_path / "nats")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def outbox(database: Path) -> tuple[int, int]:
    """(pages stored, pages handed to the broker)."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT count(*), count(sent_at) FROM outbox WHERE kind = 'notify'").fetchone()  # type: ignore[no-any-return]


@pytest.mark.timeout(240)  # a slow start (below) and the 60 s wait for the alarms
def test_a_broker_node_dies_during_alarms(nats: NatsCluster, tmp_path: Path) -> None:
    site = write_site(tmp_path, ack_timeout="10m")
    database = tmp_path / "code4.db"
    cluster = Cluster(tmp_path, f"sqlite:///{database}", nats.url)
    devices = None
    try:
        code4 = cluster.start("code4", site)
        # A fresh cluster may still be settling JetStream: a first CONNECT can then wait the whole
        # CONNECT_TIMEOUT_S (30 s) before code4 tries the next node. What is measured starts after.
        code4.wait_role("leader", timeout=2 * CONNECT_TIMEOUT_S + 15)
        devices = Site(MqttEndpoint.parse(nats.url), cluster.prefix, buttons=ALARMS)
        pressed: dict[int, str] = {}
        killed_at = 0.0
        for button in range(ALARMS):  # 30 alarms in 3 s; the first node dies after the 10th
            if button == 10:
                nats.kill(0)  # code4's node, and the first node of a third of the devices
                killed_at = time.time()
            pressed[button] = devices.press(button)
            time.sleep(0.1)

        def all_received_and_handed_over() -> bool:
            return all(devices.received(b, alarm_id) for b, alarm_id in pressed.items()) and \
                outbox(database) == (ALARMS * len(PAGERS), ALARMS * len(PAGERS))

        devices.wait(all_received_and_handed_over, 60, "every alarm received and its pages handed to the broker",
                     lambda: f"not received: {[b for b, a in pressed.items() if not devices.received(b, a)]}; "
                             f"pages stored, handed over: {outbox(database)}")
        reconnected = [line for line in code4.log_lines() if line.get("event") == "connected to broker"
                       and line.get("reconnect")]
        assert reconnected, "code4 reconnected"
        assert str(nats.mqtt_ports[0]) not in reconnected[0]["broker"], "code4 moved to another node"
        back_after = datetime.fromisoformat(reconnected[0]["timestamp"]).timestamp() - killed_at
        time.sleep(1.0)  # pages on their way to the pagers
        found = devices.pages_by_location()
        reached = sum(len(found.get(f"Location {b}", {})) for b in pressed)
        twice = devices.paged_twice()
        figures(f"broker node killed during {ALARMS} alarms: code4 on another node after {back_after:.2f} s; "
                f"alarms in {ALARMS}, received {ALARMS}, pages handed to the broker {outbox(database)[1]}, "
                f"pages that reached the pagers {reached} of {ALARMS * len(PAGERS)}, paged twice {twice}")
        assert twice == 0
    finally:
        if devices is not None:
            devices.close()
        cluster.stop_all()
