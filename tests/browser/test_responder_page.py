"""The one-tap responder page in headless Chromium on a phone-sized screen: open the link from
the SMS, tap "Ik kom", see your role; another responder accepting appears without a reload;
an expired or forged link shows its message and nothing else. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.browser.conftest import SCREENSHOTS, script_errors
from tests.conftest import FIXTURES
from tests.integration.harness import Harness

JAN, FATIMA = "+31612000001", "+31612000002"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LINK_TTL_S = 3600
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def phones(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "phoneorg.yaml", twilio=True, link_ttl_s=LINK_TTL_S)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[tuple[Page, list[str]]]:
    context = await browser.new_context(**PHONE, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    try:
        yield page, errors
    finally:
        await context.close()


async def link_for(harness: Harness, number: str) -> str:
    assert harness.twilio is not None
    sms = await harness.twilio.message_to(number, "Code 4")
    match = re.search(r"(http://\S+/r/\S+)", sms.body)
    assert match, sms.body
    return match.group(1)


async def test_open_the_link_tap_ik_kom_and_see_your_role_then_others_arrive_live(
    phones: Harness, phone: tuple[Page, list[str]]
) -> None:
    page, errors = phone
    phones.button("knop-balie-1").press(kind="man_down")
    link = await link_for(phones, JAN)

    await page.goto(link)
    await expect(page.locator("h1")).to_have_text("Code 4: persoon ligt op de grond")
    await expect(page.locator("#location")).to_have_text("Balie 1, Publiekshal, Stadhuis Testdorp")
    await expect(page.locator("#gathering")).to_have_text("Trap naast de lift")
    await expect(page.locator("#status")).to_have_text("Kun je komen?")
    await page.screenshot(path=SCREENSHOTS / "responder-1-opened.png", full_page=True)

    await page.get_by_role("button", name="Ik kom").tap()
    await expect(page.locator("#role")).to_contain_text("Jij bent nummer 1: jij benadert de agressor.")
    await expect(page.locator("#status")).to_have_text("Je komt.")
    await page.screenshot(path=SCREENSHOTS / "responder-2-accepted.png", full_page=True)
    alarm = await phones.alarm_when(lambda a: bool(a["responders"]))
    assert [(r["name"], r["role"], r["channel"]) for r in alarm["responders"]] == [("Jan de Vries", 1, "app")]

    # Fatima answers by SMS; Jan's page shows her without a reload.
    assert phones.twilio is not None
    await phones.twilio.phone_sends_sms(FATIMA, "1")
    await expect(page.locator("#others")).to_have_text("Fatima El Amrani (2)")
    await page.screenshot(path=SCREENSHOTS / "responder-3-second-arrives-live.png", full_page=True)
    assert "+316" not in await page.content(), "no phone numbers on the page"

    await page.get_by_role("button", name="Ter plaatse").tap()
    await expect(page.locator("#status")).to_have_text("Je bent ter plaatse.")
    assert errors == []


async def test_an_expired_link_shows_its_message_and_nothing_of_the_alarm(
    phones: Harness, phone: tuple[Page, list[str]]
) -> None:
    page, errors = phone
    phones.button("knop-balie-1").press(kind="man_down")
    link = await link_for(phones, JAN)
    await phones.advance(LINK_TTL_S + 1)

    response = await page.goto(link)
    assert response is not None and response.status == 410
    await expect(page.locator("#problem")).to_have_text("Deze link is verlopen.")
    content = await page.content()
    for secret in ("Balie", "Publiekshal", "Trap", "Jan", "persoon ligt"):
        assert secret not in content
    await page.screenshot(path=SCREENSHOTS / "responder-4-expired.png", full_page=True)

    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    response = await page.goto(forged)
    assert response is not None and response.status == 404
    await expect(page.locator("#problem")).to_have_text("Deze link is ongeldig.")
    # Chromium reports the 410 and 404 of the page itself; nothing else may go wrong.
    assert [e for e in errors if not re.match(r"Failed to load resource: .* (410|404)", e)] == []


async def test_the_page_works_without_javascript(phones: Harness, browser: Browser) -> None:
    context = await browser.new_context(**PHONE, java_script_enabled=False)
    page = await context.new_page()
    try:
        phones.button("knop-balie-1").press(kind="man_down")
        await page.goto(await link_for(phones, JAN))
        await page.get_by_role("button", name="Kan niet").tap()
        await expect(page.locator("#status")).to_have_text("Je hebt laten weten dat je niet kunt komen.")
    finally:
        await context.close()
