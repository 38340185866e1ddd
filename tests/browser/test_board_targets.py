"""The board warns the control room when this month's response times fall below the targets
(BS 8484's figures in the test organisation), and stays quiet while they are met; the coordinator
reads the share met per site and month on the learning page."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import SCREENSHOTS, script_errors, sign_in
from tests.integration.harness import OPERATOR_PASSWORD, Harness
from tests.integration.test_incident_records import People
from tests.integration.test_response_targets import import_history, two_sites

__all__ = ["two_sites"]  # the fixture: the test organisation with a second site and its own targets

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def earlier_alarm(code4: Harness, *, accepted_after: int) -> dict[str, object]:
    """An alarm at the town hall an hour ago (this month: the test clock stands on a Monday the 23rd)."""
    raised = code4.clock.now() - timedelta(hours=1)
    return {"occurred_at": raised.isoformat(), "site_id": "stadhuis", "source": "alarm", "kind": "panic",
            "outcome": "resolved", "timeline": [
                {"at": raised.isoformat(), "kind": "alarm_raised"},
                {"at": (raised + timedelta(seconds=accepted_after)).isoformat(), "kind": "accepted"},
                {"at": (raised + timedelta(minutes=5)).isoformat(), "kind": "closed"}]}


async def test_the_board_warns_when_this_month_falls_below_a_target(code4: Harness, browser: Browser) -> None:
    assert code4.service is not None
    base = code4.service.http_url
    admin = await code4.add_user("beheer", ["admin"])
    on_time = await code4.call(admin, "/api/incidents/import", method="POST",
                               json={"incidents": [earlier_alarm(code4, accepted_after=6)]})
    assert on_time.status_code == 201

    context = await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await sign_in(page, base, "ria", OPERATOR_PASSWORD, "/board")
    await expect(page.locator("#alarms")).to_have_text("Geen open alarmen.")
    await page.wait_for_function("() => document.getElementById('targets') !== null")
    await expect(page.locator("#targets")).to_be_hidden()  # 1 of 1 within 10 s: met

    late = await code4.call(admin, "/api/incidents/import", method="POST",
                            json={"incidents": [earlier_alarm(code4, accepted_after=55)]})
    assert late.status_code == 201
    await code4.advance(60)  # the figures are kept for a minute
    await page.reload()
    banner = page.locator("#targets")
    await expect(banner).to_be_visible()
    month = code4.clock.now().astimezone(ZoneInfo("Europe/Amsterdam"))
    await expect(banner).to_have_text(
        f"Responstijd deze maand onder de afspraak ({MONTHS[month.month - 1]} {month.year}): Alle locaties: "
        "50% binnen 10 s geaccepteerd (1 van 2, afspraak 80%), 50% binnen 40 s geaccepteerd (1 van 2, "
        "afspraak 98.5%)")  # one site: no line of its own
    await page.screenshot(path=SCREENSHOTS / "board-targets-below.png")
    assert errors == []
    await context.close()


async def test_the_coordinator_reads_the_targets_per_site_and_month(two_sites: Harness, browser: Browser) -> None:
    people = await People(two_sites).create()
    await import_history(people)
    assert two_sites.service is not None
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await sign_in(page, two_sites.service.http_url, "coco", OPERATOR_PASSWORD, "/learning?from=2026-10-01")
    table = page.locator("#targets table")
    await table.scroll_into_view_if_needed()
    yard = table.locator('tr[data-month="2026-10"][data-site="Gemeentewerf"] td.met')
    await expect(yard).to_have_count(2)
    town_hall = table.locator('tr[data-month="2026-10"][data-site="Stadhuis Testdorp"] td.not-met')
    await expect(town_hall.first).to_contain_text("50% (2 van 4) ✗ niet gehaald")
    await page.locator("#targets").screenshot(path=SCREENSHOTS / "learning-targets.png")
    assert errors == []
    await context.close()
