"""Chaos tests: real `code4 run` processes on one PostgreSQL and one broker, killed, paused
and resumed the way machines fail. Each test counts alarms in and pages out and prints its
figures (takeover seconds, alarms, pages, repeats).

They run on the system clock (takeover is about real seconds) and are bounded in time by the
suite's timeout.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.endpoint import MqttEndpoint
from gateway.mqtt.broker import Mosquitto
from simulators.cluster import Cluster, Site
from tests.conftest import _postgres_database

FIGURES: list[str] = []  # what each chaos test measured, printed at the end of the run


def figures(line: str) -> None:
    """Keep a test's figures for the run's summary (pytest captures what tests print)."""
    FIGURES.append(line.strip())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("chaos test figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def cannot_run(message: str) -> None:
    """A part this machine lacks: skipped on a laptop, a failure in CI (which installs it)."""
    if os.environ.get("CODE4_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if not Mosquitto.available():
        pytest.fail("these tests need Mosquitto: apt-get install mosquitto")
    broker = Mosquitto(tmp_path / "broker")
    broker.start_sync()
    databases = _postgres_database()
    database_url = next(databases)
    made = Cluster(tmp_path, database_url, broker.url)
    try:
        yield made
    finally:
        made.stop_all()
        broker.stop_sync()
        for _ in databases:  # drops the database
            pass


@pytest.fixture
def devices(cluster: Cluster) -> Iterator[Site]:
    site = Site(MqttEndpoint.parse(cluster.broker_url), cluster.prefix)
    try:
        yield site
    finally:
        site.close()
