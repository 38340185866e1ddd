"""The wall display at 1920x1080, as the BHV room sees it: open alarms in letters readable from
across the room, counting from the server's clock; a public wall leaves a silent alarm out and
dims at night; a lost connection says so and comes back by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from gateway.presence.api import set_presence
from tests.browser.conftest import SCREENSHOTS, script_errors
from tests.browser.visual import matches_baseline
from tests.conftest import FIXTURES
from tests.integration.harness import Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FULL_HD = {"width": 1920, "height": 1080}


@pytest.fixture
async def werf(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "presenceorg.yaml")
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def font_px(page: Page, selector: str) -> float:
    """The smallest computed font size among the matching elements."""
    sizes: list[Any] = await page.eval_on_selector_all(
        selector, "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes, f"nothing matches {selector}"
    return float(min(sizes))


async def test_the_wall_is_readable_from_across_the_room(werf: Harness, browser: Browser, tmp_path: Path) -> None:
    assert werf.service is not None
    base = werf.service.http_url
    token = await werf.add_user("scherm-bhv", ["display"], name="Scherm BHV-ruimte")
    for person in ("jan", "fatima"):
        await set_presence(werf.service, person, "stadhuis", True, via="kiosk", actor="test")
    werf.button("knop-balie-1").press(kind="man_down", silent=False, battery=0.05)  # and a fault: battery low
    werf.button("knop-werkbank").press(kind="panic")  # silent: a BHV room may see it, a reception not
    await werf.alarm_when(lambda a: a["device_id"] == "knop-werkbank")
    await werf.alarm_when(lambda a: a["device_id"] == "knop-balie-1")
    await werf.advance(12)
    now = werf.clock.now()

    context = await browser.new_context(locale="nl-NL", viewport=FULL_HD)
    page = await context.new_page()
    await page.clock.set_fixed_time(now)  # the page counts from the server's now: nothing moves
    errors = script_errors(page)
    await page.goto(f"{base}/wall?token={token}&silent=1")
    await expect(page).to_have_url(f"{base}/wall?silent=1")  # the token left the address bar
    [cookie] = [c for c in await context.cookies() if c["name"] == "code4_display"]
    assert cookie["httpOnly"]
    alarms = page.locator(".wall-alarm")
    await expect(alarms).to_have_count(2)
    await expect(page.locator("#wall-alarm-count")).to_have_text("2")
    balie = alarms.filter(has_text="Balie 1")
    await expect(balie.locator(".wall-what")).to_have_text("Persoon ligt op de grond")
    await expect(balie.locator(".wall-where")).to_have_text("Balie 1 · Publiekshal · Stadhuis Testdorp")
    await expect(balie.locator(".wall-since-value")).to_have_text("0:12")
    await expect(balie.locator(".wall-countdown-value")).to_have_text("0:33")  # the BHV step's 45 s
    await expect(alarms.filter(has_text="Werkbank").locator(".wall-what")).to_have_text("Stil alarm")
    await expect(page.locator("#wall-present")).to_have_text("Stadhuis TestdorpFatima A., Jan V.")
    await expect(page.locator("body")).not_to_contain_text("de Vries")
    await expect(page.locator("#wall-fault-count")).to_have_text("1")
    await expect(page.locator(".wall-fault")).to_have_text(
        "Balie 1, Publiekshal, Stadhuis Testdorp batterij bijna leeg")
    await expect(page.locator("body")).not_to_have_class("wall dim")
    # Readable from across the room: alarm lines of 40 px and more, the rest not below 28 px.
    for selector in (".wall-what", ".wall-where", ".wall-since-value", ".wall-countdown-value", ".wall-meta"):
        assert await font_px(page, selector) >= 40, selector
    for selector in ("h2", ".wall-names", ".wall-fault", "#wall-clock"):
        assert await font_px(page, selector) >= 28, selector
    (SCREENSHOTS / "wall-1920x1080.png").write_bytes(await page.screenshot(animations="disabled"))
    await matches_baseline(page, "wall-1920x1080", tmp_path)
    assert errors == []
    await context.close()


async def test_a_public_wall_hides_a_silent_alarm_dims_at_night_and_reconnects(werf: Harness,
                                                                              browser: Browser) -> None:
    assert werf.service is not None
    base = werf.service.http_url
    token = await werf.add_user("scherm-receptie", ["display"])
    werf.button("knop-werkbank").press(kind="panic")  # silent
    await werf.alarm_when(lambda a: a["device_id"] == "knop-werkbank")
    context = await browser.new_context(locale="nl-NL", viewport=FULL_HD)
    page = await context.new_page()
    await page.goto(f"{base}/wall?token={token}&night=10:00-12:00")  # 11:00 in the organisation: night
    await expect(page.locator("#wall-no-alarms")).to_be_visible()
    await expect(page.locator(".wall-alarm")).to_have_count(0)  # the silent alarm is not given away
    await expect(page.locator("body")).to_have_class("wall dim")

    werf.button("knop-balie-1").press(kind="man_down", silent=False)
    await expect(page.locator(".wall-alarm")).to_have_count(1, timeout=15_000)  # the next poll
    await expect(page.locator("body")).to_have_class("wall alarm")  # an alarm: full brightness

    await page.route("**/api/wall*", lambda route: route.abort())
    banner = page.locator("#wall-offline")
    await expect(banner).to_contain_text("Verbinding verbroken", timeout=15_000)
    await expect(banner).to_contain_text("opnieuw proberen")
    await page.unroute("**/api/wall*")
    await expect(banner).to_be_hidden(timeout=15_000)
    await expect(page.locator(".wall-alarm")).to_have_count(1)
    await context.close()
