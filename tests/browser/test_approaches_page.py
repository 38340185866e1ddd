"""The coordinator flags a known visitor on the page (a plain form with its CSRF token); the
operator's board then shows the agreed approach on an alarm from that room, prominently."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import SCREENSHOTS, script_errors, sign_in
from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NOTE = "Rustig benaderen, niet aanraken (afgesproken met GGZ)"


async def test_a_coordinator_flags_a_visitor_and_the_board_shows_the_approach(code4: Harness,
                                                                              browser: Browser) -> None:
    assert code4.service is not None
    base = code4.service.http_url
    await code4.add_user("carla", ["coordinator"], name="Carla Coördinator")
    context = await browser.new_context(locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page, expected_status=(422,))
    await sign_in(page, base, "carla", OPERATOR_PASSWORD, "/approaches")
    await expect(page.locator("#approaches")).to_contain_text("Geen lopende of komende afspraken.")

    form = page.locator("#approach-form")
    await form.get_by_label("Ruimte of zone").select_option("stadhuis/spreekkamer-a")
    # The clock says 10:00 UTC: 11:00 in Amsterdam. An end before the start is sent back, kept.
    await form.get_by_label("Van").fill("2026-11-23T10:30")
    await form.get_by_label("Tot").fill("2026-11-23T10:00")
    await form.get_by_label("Bezoeker").fill("cliënt 10:30")
    await form.get_by_label("Afgesproken aanpak").fill(NOTE)
    await form.get_by_role("button", name="Afspraak opslaan").click()
    await expect(page.locator("#approach-error")).to_contain_text("Het eind moet na het begin liggen")
    await form.get_by_label("Tot").fill("2026-11-23T12:00")
    await form.get_by_role("button", name="Afspraak opslaan").click()
    row = page.locator("#approaches tbody tr")
    await expect(row).to_contain_text("Spreekkamer A, Spreekkamers, Stadhuis Testdorp")
    await expect(row).to_contain_text("23-11-2026 10:30")  # as typed: local time, stored in UTC
    await expect(row).to_contain_text("nu")
    await page.screenshot(path=SCREENSHOTS / "approaches-1-coordinator.png")
    await context.close()

    # The operator's board: an alarm from that room carries the approach.
    context = await browser.new_context(locale="nl-NL", viewport={"width": 1600, "height": 1000})
    page = await context.new_page()
    errors += script_errors(page)
    await sign_in(page, base, "ria", OPERATOR_PASSWORD, "/board")
    await expect(page.locator("#known-visitors")).to_have_text(
        f"Bekende bezoekers nu: Spreekkamer A, Spreekkamers, Stadhuis Testdorp (tot 12:00): {NOTE}")
    code4.button("knop-spreekkamer-a").press()
    card = page.locator("article.alarm")
    await expect(card.locator(".approach")).to_have_text(f"Bekende bezoeker – afgesproken aanpak: {NOTE}")
    await page.screenshot(path=SCREENSHOTS / "approaches-2-board.png")
    await card.get_by_role("link", name="Details").click()
    await expect(page.locator("#approach")).to_contain_text(NOTE)
    # Operators read the agreements but cannot make or end them.
    await page.goto(f"{base}/approaches")
    await expect(page.locator("#approaches")).to_contain_text(NOTE)
    await expect(page.locator("#approach-form")).to_have_count(0)
    await context.close()
    assert errors == []
