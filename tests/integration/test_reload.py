"""Reloading the agreement file: running alarms keep their chain; a broken file changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.conftest import TESTORG
from tests.integration.harness import Harness


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_reload_mid_alarm_does_not_change_the_running_chain(
    mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    config = tmp_path / "org.yaml"
    original = TESTORG.read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    code4 = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path, config=config)
    await code4.start()
    assert code4.service is not None
    try:
        sanne, eva, jan = code4.pager("pager-sanne"), code4.pager("pager-eva"), code4.pager("pager-jan")
        first = code4.button("knop-balie-1")
        first.press()
        await code4.wait(sanne.page)

        # The colleague step now asks Eva, with a minute to answer.
        changed = original.replace(
            "{id: collega, targets: [{team: balie, same_zone: true}], channels: [pager], ack_timeout: 20s}",
            "{id: collega, targets: [{person: eva}], channels: [pager], ack_timeout: 60s}",
        )
        assert changed != original
        config.write_text(changed, encoding="utf-8")
        assert code4.service.reload()

        await code4.advance(20)  # the running alarm still has its 20 s
        await code4.wait(jan.page, lambda p: p["code"] == "4")
        assert eva.pages() == [], "the running alarm did not pick up the new colleague step"

        second = code4.button("knop-balie-2")
        second.press()
        page = await code4.wait(eva.page)  # a new alarm runs the new chain
        assert page["location"].startswith("Balie 2")

        config.write_text(changed.replace("fallback: vangnet", "fallback: [broken"), encoding="utf-8")
        with capture_logs() as logs:
            assert not code4.service.reload()
        assert any(e["event"].startswith("agreement file not reloaded") and "not valid YAML" in e["problem"]
                   for e in logs)
        third = code4.button("knop-spreekkamer-a")
        third.press()
        await code4.wait(third.feedback, "received")
        alarms = await code4.alarms()
        assert len(alarms) == 3, "the service kept running on the last good file"
    finally:
        await code4.close()
