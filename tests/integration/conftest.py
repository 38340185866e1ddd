"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.conftest import FIXTURES
from tests.integration.harness import Harness


@pytest.fixture
async def site(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    """code4 on the device site (deviceorg.yaml): supervision, a lone worker, adapters, a drill site."""
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "deviceorg.yaml")
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()
