"""The read-only HTTP API: its OpenAPI document, health, errors, and what it never reveals."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.harness import Harness


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_api_document_health_and_errors(code4: Harness) -> None:
    assert code4.service is not None
    spec = await code4.api("/api/openapi.json")
    assert {"/api/alarms", "/api/incidents/{incident_id}", "/api/health"} <= set(spec["paths"])
    status = await code4.api("/api/status")
    assert (status["status"], status["mqtt_connected"], status["organisation"]) == ("ok", True, "Testgemeente")
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await code4.api("/api/incidents/999")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json() == {"detail": "no incident 999"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_api_shows_names_and_channels_but_no_numbers_or_pins(code4: Harness) -> None:
    jan = code4.pager("pager-jan")
    button = code4.button("knop-balie-1")  # has cancel and duress PINs 1234 / 9999
    button.press(kind="man_down")
    await code4.wait(jan.page)
    alarms = await code4.alarms()
    record = await code4.api(f"/api/incidents/{alarms[0]['incident_id']}")
    everything = str(alarms) + str(record)
    assert "Jan de Vries" in everything and "pager" in everything
    for secret in ("+31612000001", "1234", "9999"):
        assert secret not in everything
    assert alarms[0]["severe"] and alarms[0]["step"]["id"] == "bhv"
