"""PostgreSQL restarts (every connection dropped) in the middle of a stream of alarms: the
leader cannot renew its lease, stops sending, steps down and takes the lease again once the
database is back; alarms that arrived meanwhile wait at the broker or are repeated by their
buttons, and every one is paged, nobody twice for one step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from devices.endpoint import MqttEndpoint
from gateway.mqtt.broker import Mosquitto
from simulators.cluster import Cluster, Site, write_site
from tests.chaos.conftest import cannot_run, figures
from tests.chaos.own_postgres import OwnPostgres

ALARMS = 30
DOWN_S = 3.0  # longer than the lease: the leader must give it up


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    if not OwnPostgres.available():
        cannot_run("this test needs PostgreSQL's server programs (apt-get install postgresql)")
    server = OwnPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_postgres_restarts_during_alarms(own_postgres: OwnPostgres, mosquitto: Mosquitto, tmp_path: Path) -> None:
    site = write_site(tmp_path, ack_timeout="10m")
    cluster = Cluster(tmp_path, own_postgres.url, mosquitto.url)
    devices = None
    try:
        code4 = cluster.start("code4", site)
        code4.wait_role("leader")
        devices = Site(MqttEndpoint.parse(mosquitto.url), cluster.prefix, buttons=ALARMS)
        pressed: dict[int, str] = {}
        restart: dict[str, float] = {}

        def restart_database() -> None:
            restart["at"] = time.time()
            own_postgres.restart(down_s=DOWN_S)
            restart["back"] = time.time()

        restarting = threading.Thread(target=restart_database)
        for button in range(ALARMS):  # 30 alarms in 3 s; the database restarts after the 10th
            if button == 10:
                restarting.start()
            pressed[button] = devices.press(button)
            time.sleep(0.1)
        restarting.join(timeout=60)

        devices.wait(lambda: devices.all_paged(pressed), 60, "every alarm received and paged after the restart",
                     lambda: f"not received: {[b for b, a in pressed.items() if not devices.received(b, a)]}")
        leading = [datetime.fromisoformat(line["timestamp"]).timestamp() for line in code4.log_lines()
                   if line.get("event") == "this instance dispatches now"]
        stepped_down = [line for line in code4.log_lines() if "steps down" in str(line.get("event"))]
        twice = devices.paged_twice()
        figures(f"PostgreSQL restarted during {ALARMS} alarms: down {restart['back'] - restart['at']:.2f} s; "
                f"code4 stepped down and dispatched again {leading[-1] - restart['back']:.2f} s after the database "
                f"was back; alarms in {ALARMS}, paged {len({loc for loc, _, _ in devices.page_ids()})}, pages out "
                f"{len(devices.pages())}, people paged twice {twice}")
        assert stepped_down and len(leading) == 2, "the leader gave the lease up while the database was away"
        assert twice == 0
        assert code4.role() == "leader"
    finally:
        if devices is not None:
            devices.close()
        cluster.stop_all()
