"""`code4 bench --failover`: the leader killed (kill -9) again and again during a steady stream
of alarms, with a standby beside it on one PostgreSQL and one broker.

Each kill: the standby must take over (takeover = from the kill until the standby reports
itself leader and well, i.e. connected to the broker), the killed instance is started again and
becomes the next standby. Afterwards every alarm must have been received by its button and paged
to the three colleagues. Printed: takeover p50 and max, alarms pressed and lost, people paged
twice for one alarm and step, page ids sent once more (at-least-once), and press → first page
of the alarms pressed while nobody led. A benchmark, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from devices.endpoint import MqttEndpoint
from simulators.bench import broker_for, database_for
from simulators.cluster import BUTTONS, PAGERS, Cluster, Site, write_site

TAKEOVER_GOAL_S = 3.0


@dataclass
class FailoverOptions:
    kills: int = 5
    rate: float = 5.0  # alarms a second, round the buttons
    settle_s: float = 5.0  # between a takeover and the next kill
    lease_ttl_s: float = 2.0


@dataclass
class _Press:
    button: int
    alarm_id: str
    at: float  # time.monotonic()
    uids: set[str] = field(default_factory=set)  # code4's alarm ids its pages carried: one, unless paged as two
    first_page: float | None = None


def run_failover(options: FailoverOptions, *, database: str, mqtt_url: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="code4-failover-") as scratch:
        workdir = Path(scratch)
        with broker_for(mqtt_url, workdir) as (url, _), database_for(database, workdir) as database_url:
            _failover(workdir, url, database_url, options)
    return 0


def _failover(workdir: Path, broker_url: str, database_url: str, options: FailoverOptions) -> None:
    site = write_site(workdir, ack_timeout="10m")
    cluster = Cluster(workdir, database_url, broker_url, lease_ttl_s=options.lease_ttl_s)
    devices = None
    try:
        leader = cluster.start("code4-0", site)
        leader.wait_role("leader")
        standby = cluster.start("code4-1", site)
        standby.wait_role("standby")
        devices = Site(MqttEndpoint.parse(broker_url), cluster.prefix)
        print(f"code4 bench --failover: two instances on {database_url.split('@')[-1]}, broker {broker_url}, "
              f"lease {options.lease_ttl_s:g} s; {options.rate:g} alarms a second from {BUTTONS} buttons, each "
              f"paging {len(PAGERS)}; {options.kills} kills of the leader (kill -9)\n")
        presses: list[_Press] = []
        stop = threading.Event()
        stream = threading.Thread(target=_stream, args=(devices, options.rate, presses, stop), daemon=True)
        stream.start()
        takeovers: list[tuple[float, float]] = []  # (killed at, took over after s)
        for kill in range(options.kills):
            time.sleep(options.settle_s)
            killed_at = time.monotonic()
            leader.process.kill()
            leader.process.wait()
            took = standby.wait_role("leader", timeout=60)
            takeovers.append((killed_at, took))
            print(f"kill {kill + 1}: {leader.name} killed; {standby.name} leads after {took:.2f} s")
            leader, standby = standby, cluster.start(f"code4-{kill + 2}", site)
            standby.wait_role("standby", timeout=60)
        time.sleep(options.settle_s)
        stop.set()
        stream.join()
        _settle(devices, presses, timeout=30)
        _report(devices, presses, takeovers)
    finally:
        if devices is not None:
            devices.close()
        cluster.stop_all()


def _stream(devices: Site, rate: float, presses: list[_Press], stop: threading.Event) -> None:
    started = time.monotonic()
    n = 0
    while not stop.is_set():
        button = n % BUTTONS
        presses.append(_Press(button, devices.press(button), time.monotonic()))
        n += 1
        stop.wait(max(0.0, started + n / rate - time.monotonic()))


def _settle(devices: Site, presses: list[_Press], *, timeout: float) -> None:
    """Until every alarm is received and paged to all, or the time is up (then some are lost)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _match(devices, presses)
        if all(_complete(devices, p) for p in presses):
            return
        time.sleep(0.2)


def _match(devices: Site, presses: list[_Press]) -> dict[str, dict[str, set[str]]]:
    """Give each page to its press: the last press of that location's button before code4's
    alarm id was first seen. Returns, per code4 alarm id, per pager, the page ids it got."""
    arrivals: dict[str, list[tuple[float, str, dict[str, object]]]] = defaultdict(list)
    for pager_id, pager in devices.pagers.items():
        for at, kind, page in pager.timed():
            if kind == "page":
                arrivals[str(page.get("alarm_id"))].append((at, pager_id, page))
    by_button: dict[int, list[_Press]] = defaultdict(list)
    for press in presses:
        by_button[press.button].append(press)
    pages: dict[str, dict[str, set[str]]] = {}
    for uid, seen in arrivals.items():
        first_at, _, page = min(seen, key=lambda item: item[0])
        button = int(str(page.get("location", "")).split(",")[0].removeprefix("Location "))
        earlier = [p for p in by_button.get(button, []) if p.at <= first_at]
        if earlier:
            press = earlier[-1]
            press.uids.add(uid)
            press.first_page = min(first_at, press.first_page or first_at)
        for _, pager_id, page in seen:
            pages.setdefault(uid, {}).setdefault(pager_id, set()).add(f"{page.get('code')}:{page.get('page_id')}")
    return pages


def _complete(devices: Site, press: _Press) -> bool:
    if not devices.received(press.button, press.alarm_id) or not press.uids:
        return False
    paged = {pager for pager, device in devices.pagers.items()
             if any(page.get("alarm_id") in press.uids for page in device.pages())}
    return len(paged) == len(PAGERS)


def _report(devices: Site, presses: list[_Press], takeovers: list[tuple[float, float]]) -> None:
    pages = _match(devices, presses)
    lost = [p for p in presses if not _complete(devices, p)]
    split = [p for p in presses if len(p.uids) > 1]  # one press that became two alarms
    # Per alarm and pager the "code:page_id" of every page: more ids than steps is someone paged twice.
    twice = sum(1 for per_pager in pages.values() for ids in per_pager.values()
                if len({i.split(":")[0] for i in ids}) < len(ids))
    repeats = sum(n - 1 for n in _arrivals_per_page_id(devices).values())
    took = [t for _, t in takeovers]
    during = [p for p in presses if any(k <= p.at <= k + t for k, t in takeovers) and p.first_page is not None]
    waits = [p.first_page - p.at for p in during if p.first_page is not None]
    print()
    if took:
        print(f"takeover after kill -9: p50 {statistics.median(took):.2f} s, max {max(took):.2f} s "
              f"(goal <= {TAKEOVER_GOAL_S:g} s: {'met' if max(took) <= TAKEOVER_GOAL_S else 'NOT met'})")
    print(f"alarms pressed {len(presses)}, lost {len(lost)}, pressed once and raised twice {len(split)}, "
          f"people paged twice for one step {twice}, page ids sent once more after a takeover {repeats}")
    if waits:
        print(f"alarms pressed while nobody led: {len(waits)}; press -> first page p50 "
              f"{statistics.median(waits):.2f} s, max {max(waits):.2f} s")
    for press in lost[:10]:
        print(f"  lost: knop-{press.button} alarm {press.alarm_id} "
              f"(received: {devices.received(press.button, press.alarm_id)}, code4 ids {sorted(press.uids)})")


def _arrivals_per_page_id(devices: Site) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for pager_id, page in devices.pages():
        counts[(pager_id, str(page.get("page_id")))] += 1
    return counts

