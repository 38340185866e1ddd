"""The control room board in headless Chromium, against code4 running on a real broker:
sign in, see an alarm arrive live, act on it, and catch up after a lost connection.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.browser.conftest import SCREENSHOTS, script_errors
from tests.integration.harness import OPERATOR_PASSWORD, Harness

WALL = {"viewport": {"width": 1600, "height": 1000}}
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def board(code4: Harness, browser: Browser) -> AsyncIterator[tuple[Page, list[str]]]:
    context = await browser.new_context(**WALL, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    assert code4.service is not None
    await page.goto(f"{code4.service.http_url}/board")
    await expect(page).to_have_url(f"{code4.service.http_url}/login?next=/board")
    await page.get_by_label("Gebruikersnaam").fill("ria")
    await page.get_by_label("Wachtwoord").fill(OPERATOR_PASSWORD)
    await page.get_by_role("button", name="Aanmelden").click()
    await expect(page).to_have_url(f"{code4.service.http_url}/board")
    await expect(page.locator("#alarms")).to_have_text("Geen open alarmen.")
    try:
        yield page, errors
    finally:
        await context.close()


async def test_an_alarm_appears_live_and_the_operator_handles_it(code4: Harness,
                                                                   board: tuple[Page, list[str]]) -> None:
    page, errors = board
    sanne, jan, fatima = code4.pager("pager-sanne"), code4.pager("pager-jan"), code4.pager("pager-fatima")
    button = code4.button("knop-balie-1")

    pressed = time.monotonic()
    button.press()
    card = page.locator("article.alarm")
    await expect(card).to_be_visible(timeout=1000)  # within one second, no reload
    shown_after = time.monotonic() - pressed
    await expect(card.locator("h2")).to_contain_text("Balie 1, Publiekshal, Stadhuis Testdorp")
    await expect(card).to_contain_text("NIEUW ALARM")
    await expect(card).to_contain_text("Stap 1/3: collega")
    assert shown_after < 1.0

    # The countdown runs (the service's clock stands still; the board counts from it).
    countdown = card.locator(".countdown")
    first = await countdown.text_content()
    assert first and first.startswith("volgende stap over 0:")
    await expect(countdown).not_to_have_text(first, timeout=3000)
    # The title flashes until someone has seen it.
    await page.wait_for_function("document.title.startsWith('⚠')", timeout=3000)
    await page.screenshot(path=SCREENSHOTS / "board-1-new-alarm.png")
    await card.get_by_role("button", name="Gezien").click()
    await expect(card).not_to_contain_text("NIEUW ALARM")
    await page.wait_for_function("!document.title.startsWith('⚠')", timeout=3000)

    # Escalate now: the BHV step's pages go out with code 4.
    await code4.wait(sanne.page)
    await card.get_by_role("button", name="Nu opschalen").click()
    page_to_jan = await code4.wait(jan.page, lambda p: p["code"] == "4")
    await expect(card).to_contain_text("Stap 2/3: bhv (code 4)")

    # Jan accepts on his pager: the board shows him with his role.
    jan.respond(page_to_jan["page_id"], "accept")
    await expect(card.locator("ul.responders")).to_contain_text("Jan de Vries (1) – pieper")
    await expect(card).to_contain_text("1 van 2 bevestigd")
    await page.screenshot(path=SCREENSHOTS / "board-2-responder-accepted.png")

    # The detail page: timeline, chain, incident link; closing asks for confirmation.
    await card.get_by_role("link", name="Details").click()
    await expect(page.locator("#timeline")).to_contain_text("Opgeschaald door de centrale post")
    await expect(page.locator("ol.chain li.current")).to_contain_text("bhv (code 4)")
    await expect(page.locator("#incident-link")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "board-3-alarm-detail.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#outcome").select_option("resolved")
    await page.get_by_role("button", name="Afsluiten").click()
    await expect(page.locator("#status")).to_have_text("afgesloten: opgelost")
    await expect(page.locator("#timeline")).to_contain_text("Afgesloten: opgelost")
    await code4.wait(fatima.wait_for, "feedback", lambda f: f["state"] == "closed")
    await page.get_by_role("link", name="Terug naar de alarmen").click()
    await expect(page.locator("#alarms")).to_have_text("Geen open alarmen.")
    assert errors == []


async def test_an_alarm_raised_while_the_board_opens_is_not_missed(code4: Harness, browser: Browser) -> None:
    """The board reads the alarm list and opens its live feed; an alarm raised between the two
    must still be shown. The feed is held back while the alarm is raised, then let through."""
    assert code4.service is not None
    context = await browser.new_context(**WALL, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    feed_asked, let_through = asyncio.Event(), asyncio.Event()

    async def hold(route: Route) -> None:
        feed_asked.set()
        await let_through.wait()
        await route.continue_()

    await page.route("**/api/events", hold)
    await page.goto(f"{code4.service.http_url}/login?next=/board")
    await page.get_by_label("Gebruikersnaam").fill("ria")
    await page.get_by_label("Wachtwoord").fill(OPERATOR_PASSWORD)
    await page.get_by_role("button", name="Aanmelden").click()
    await asyncio.wait_for(feed_asked.wait(), 10)
    code4.button("knop-balie-1").press()
    await code4.alarm_when(lambda a: a["status"] == "notifying")  # stored and paged: nothing changes after
    let_through.set()
    try:
        await expect(page.locator("article.alarm h2")).to_contain_text("Balie 1", timeout=5000)
        assert errors == []
    finally:
        await context.close()


async def test_unanswered_is_unmistakable(code4: Harness, board: tuple[Page, list[str]]) -> None:
    page, errors = board
    code4.button("knop-balie-2").press(kind="man_down")  # straight to BHV
    await code4.alarm_when(lambda a: a["step"]["id"] == "bhv")
    await code4.advance(45)
    await code4.alarm_when(lambda a: a["step"]["id"] == "teamleider")
    await code4.advance(60)
    await code4.alarm_when(lambda a: a["unanswered"])
    card = page.locator("article.alarm")
    await expect(card.locator(".badge.danger.big")).to_have_text("ONBEANTWOORD")
    await expect(card).to_contain_text("herhaling over")
    await page.screenshot(path=SCREENSHOTS / "board-4-unanswered.png")
    assert errors == []


async def test_the_board_catches_up_after_a_lost_connection(code4: Harness, board: tuple[Page, list[str]]) -> None:
    page, errors = board
    await code4.stop()  # the connection is cut
    await expect(page.locator("#connection")).to_be_visible(timeout=5000)
    code4.button("knop-balie-2", repeat_every=3600).press()  # waits at the broker meanwhile
    await code4.start()
    await expect(page.locator("#connection")).to_be_hidden(timeout=10000)
    await expect(page.locator("article.alarm h2")).to_contain_text("Balie 2", timeout=5000)
    await page.screenshot(path=SCREENSHOTS / "board-5-caught-up.png")
    # Only the browser's own reports of the cut: requests in flight when code4 stopped (reset)
    # and the refused reconnects while it was down. The board polls more now (devices, the
    # response-time targets), so a request in flight at the stop is likely, not rare.
    cut = ("ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET")
    assert [e for e in errors if not any(c in e for c in cut) and "/api/events" not in e] == []


async def test_the_board_says_when_code4_cannot_reach_its_broker(code4: Harness,
                                                                 board: tuple[Page, list[str]]) -> None:
    """Degraded (the broker or the database away): the operators see it, and see it end."""
    page, errors = board
    await expect(page.locator("#degraded")).to_be_hidden()
    code4.mosquitto.stop_sync()
    await expect(page.locator("#degraded")).to_be_visible(timeout=10000)
    await expect(page.locator("#degraded")).to_contain_text("code4 bereikt de database of de berichtenserver niet")
    await page.screenshot(path=SCREENSHOTS / "board-6-degraded.png")
    code4.mosquitto.start_sync()
    await expect(page.locator("#degraded")).to_be_hidden(timeout=20000)
    assert errors == []


async def test_the_device_board_lists_faults_first(code4: Harness, browser: Browser) -> None:
    code4.button("knop-balie-1").heartbeat(battery=0.1)
    await code4.device_reported("knop-balie-1", lambda s: s.battery == 0.1)
    assert code4.service is not None
    context = await browser.new_context(**WALL)
    page = await context.new_page()
    try:
        await page.goto(f"{code4.service.http_url}/login?next=/board/devices")
        await page.get_by_label("Gebruikersnaam").fill("ria")
        await page.get_by_label("Wachtwoord").fill(OPERATOR_PASSWORD)
        await page.get_by_role("button", name="Aanmelden").click()
        rows = page.locator("#devices tbody tr")
        await expect(rows.first).to_have_class("fault")
        await expect(page.locator("tr[data-device='knop-balie-1']")).to_contain_text("batterij bijna leeg")
        await expect(page.locator("tr[data-device='knop-balie-1']")).to_contain_text("10 %")
        await page.screenshot(path=SCREENSHOTS / "board-6-devices.png", full_page=True)
        await page.get_by_role("link", name="knop-balie-1").click()
        await expect(page.locator("#faults")).to_have_text("batterij bijna leeg")
        await expect(page.locator("#events")).to_contain_text("storing: batterij bijna leeg")
        await page.goto(f"{code4.service.http_url}/board")  # the alarm board shows the fault too
        strip = page.locator("#faults")
        await expect(strip).to_contain_text("Apparaten met een storing: knop-balie-1 (batterij bijna leeg)")
        await page.get_by_role("link", name="English").click()
        await expect(page.locator("#faults")).to_contain_text("Device faults: knop-balie-1 (battery low)")
    finally:
        await context.close()


