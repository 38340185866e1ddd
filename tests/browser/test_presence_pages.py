"""The kiosk at the entrance (a tablet signed in as `kiosk`): a tap on a first name signs in;
the operator's board then marks an alarm whose BHV step too few are present for, and the
presence page names who is in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.browser.conftest import SCREENSHOTS, script_errors, sign_in
from tests.conftest import FIXTURES
from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def werf(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "presenceorg.yaml")
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def test_the_kiosk_signs_in_and_the_board_marks_a_short_step(werf: Harness, browser: Browser) -> None:
    assert werf.service is not None
    base = werf.service.http_url
    await werf.add_user("zuil-stadhuis", ["kiosk"], name="Zuil stadhuis")
    context = await browser.new_context(locale="nl-NL", viewport={"width": 800, "height": 1280})  # a tablet
    page = await context.new_page()
    errors = script_errors(page, expected_status=(403,))  # the board, refused to a kiosk below
    await sign_in(page, base, "zuil-stadhuis", OPERATOR_PASSWORD, "/kiosk/stadhuis")
    people = page.locator("#kiosk-people")
    await expect(people).to_contain_text("Jan V.")
    await expect(people).not_to_contain_text("de Vries")
    await people.get_by_role("button", name="Jan V.").click()
    await expect(page.locator("#kiosk-done")).to_have_text("Jan V. is aangemeld.")
    await expect(page.locator('li[data-person="jan"]')).to_have_class("present")
    await page.screenshot(path=SCREENSHOTS / "presence-1-kiosk.png")
    await page.goto(f"{base}/board")  # the kiosk account opens nothing else
    await expect(page.locator("body")).to_contain_text("Geen toegang")
    await context.close()

    context = await browser.new_context(locale="nl-NL", viewport={"width": 1600, "height": 1000})
    page = await context.new_page()
    errors += script_errors(page)
    await sign_in(page, base, "ria", OPERATOR_PASSWORD, "/board")
    werf.button("knop-balie-1").press()
    card = page.locator("article.alarm")
    await expect(card.locator('.step-short[data-step="bhv"]')).to_have_text("bhv: te weinig aanwezig: 1 van 2")
    await page.screenshot(path=SCREENSHOTS / "presence-2-board.png")
    await page.get_by_role("link", name="Aanwezig").click()
    await expect(page.locator("#presence-stadhuis")).to_contain_text("Jan de Vries")
    await expect(page.locator("#presence-stadhuis")).to_contain_text("zuil")
    await expect(page.locator("#short-steps")).to_contain_text("te weinig aanwezig: 1 van 2")
    await page.screenshot(path=SCREENSHOTS / "presence-3-presence-page.png")
    await context.close()
    assert errors == []
