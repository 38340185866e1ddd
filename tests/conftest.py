"""Shared fixtures: a Mosquitto of our own per test, SQLite and PostgreSQL databases, a fake
clock, and code4 running in-process against them."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto

FIXTURES = Path(__file__).parent / "fixtures"
TESTORG = FIXTURES / "testorg.yaml"
MONDAY_11 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 in Amsterdam, office hours
POSTGRES_ADMIN = os.environ.get("CODE4_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("CODE4_REQUIRE_POSTGRES") == "1"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Mosquitto.available():
        pytest.fail("these tests need Mosquitto: apt-get install mosquitto")
    broker = Mosquitto(tmp_path / "broker")
    broker.start_sync()
    try:
        yield broker
    finally:
        broker.stop_sync()


def _postgres_database() -> Iterator[str]:
    import psycopg

    admin = POSTGRES_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    name = f"code4_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = (f"PostgreSQL not reachable at {POSTGRES_ADMIN} ({exc}); set CODE4_TEST_POSTGRES_URL to an "
                   "admin URL to run these tests")
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'code4.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_11)


@pytest.fixture
async def code4(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[object]:
    from tests.integration.harness import Harness

    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


@pytest.fixture
async def push_service() -> AsyncIterator[object]:
    """The local Web Push service (simulators/push_service.py)."""
    from simulators.push_service import PushServiceSimulator

    service = PushServiceSimulator()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def push_code4(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path,
                     push_service: Any) -> AsyncIterator[object]:
    """code4 with the push organisation (tests/fixtures/pushorg.yaml), taking the local push service."""
    from tests.integration.harness import Harness

    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "pushorg.yaml", settings={"push_origins": [push_service.origin]})
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()
