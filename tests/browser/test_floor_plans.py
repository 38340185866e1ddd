"""Floor plans in headless Chromium, with the example organisation (deploy/examples/wormerland.yaml)
and its town hall's plans: the board shows each alarm lit on its plan beside the cards, the
responder's one-tap page on a phone shows the location and the gathering point on the plan, the
admin page tells the coordinates of a click. Plans are served only to those who may see them.
Screenshots are compared with tests/browser/baselines/ (tests/browser/visual.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.browser.conftest import SCREENSHOTS, script_errors, sign_in
from tests.browser.visual import matches_baseline
from tests.integration.harness import OPERATOR_PASSWORD, Harness

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "wormerland.yaml"
WALL = {"viewport": {"width": 1600, "height": 1000}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def town_hall(mosquitto: Mosquitto, database_url: str, clock: FakeClock,
                    tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=EXAMPLE)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def open_alarm(harness: Harness, device_id: str, location: str) -> str:
    harness.button(device_id).press()
    alarm = await harness.alarm_when(lambda a: a["where"]["location"] == location)
    return str(alarm["uid"])


def faulty(harness: Harness) -> list[str]:
    """The devices in fault now, as the device board lists them."""
    assert harness.service is not None
    return [device_id for device_id, facts in harness.service.devices.facts().items() if facts.faults]


async def responder_link(harness: Harness, uid: str) -> str:
    """The signed link the SMS to the first person paged carries."""
    assert harness.service is not None
    state = await harness.service.dispatcher.alarm(uid)
    assert state is not None and state.pages
    return harness.service.links.url(state.pages[0].page_id)


async def test_the_board_lights_each_alarm_on_its_own_plan_and_a_click_opens_it(
        town_hall: Harness, browser: Browser, tmp_path: Path) -> None:
    assert town_hall.service is not None
    base = town_hall.service.http_url
    town_hall.button("knop-balie-2").heartbeat(battery=0.05)  # a device in fault, on the same plan
    await town_hall.eventually(lambda: [d for d in faulty(town_hall) if d == "knop-balie-2"] or None)
    context = await browser.new_context(**WALL, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await sign_in(page, base, "ria", OPERATOR_PASSWORD, "/board")
    await expect(page.locator("#plans")).to_be_hidden()

    balie = await open_alarm(town_hall, "knop-balie-1", "Balie 1")
    await town_hall.advance(1)  # one after the other: the plans' order is the alarms' order
    spreekkamer = await open_alarm(town_hall, "knop-spreekkamer-b", "Spreekkamer B")
    plans = page.locator("#plans figure.plan-card")
    await expect(plans).to_have_count(2)
    ground = page.locator('svg.floorplan[data-plan="stadhuis/publiekshal"]')
    first = page.locator('svg.floorplan[data-plan="stadhuis/spreekkamers"]')
    await expect(ground.locator(f'a[data-alarm="{balie}"] circle.lit')).to_have_attribute("cx", "125")
    await expect(ground.locator(f'a[data-alarm="{balie}"] circle.lit')).to_have_attribute("cy", "265")
    await expect(first.locator(f'a[data-alarm="{spreekkamer}"] circle.lit')).to_have_attribute("cx", "290")
    await expect(ground.locator(".plan-gathering")).to_have_count(1)  # Trap naast de lift
    await expect(ground.locator('rect.plan-fault[data-device="knop-balie-2"]')).to_have_count(1)
    await expect(first.locator("rect.plan-fault")).to_have_count(0)
    await expect(first.locator(".plan-gathering")).to_have_count(1)  # the copy room
    await expect(ground.locator("image")).to_have_attribute("href", "/plans/stadhuis/publiekshal")
    # The plan image has loaded (an <image> that failed would be 0 wide).
    loaded = await page.evaluate("""async () => {
        const r = await fetch('/plans/stadhuis/publiekshal'); return [r.status, r.headers.get('content-type')]; }""")
    assert loaded == [200, "image/svg+xml"]

    await page.screenshot(path=SCREENSHOTS / "board-floor-plans.png", animations="disabled")
    await matches_baseline(page.locator("#plans"), "board-floor-plans", tmp_path)

    await ground.locator(f'a[data-alarm="{balie}"] circle.lit').click()
    await expect(page).to_have_url(f"{base}/board/alarms/{balie}")
    await expect(page.locator("#alarm-plan circle.lit")).to_have_attribute("cx", "125.0")  # and there too
    assert errors == []
    await context.close()


async def test_the_responder_page_on_a_phone_shows_location_and_gathering_point_on_the_plan(
        town_hall: Harness, browser: Browser, tmp_path: Path) -> None:
    uid = await open_alarm(town_hall, "knop-info", "Informatiebalie")
    link = await responder_link(town_hall, uid)
    context = await browser.new_context(**PHONE, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await page.goto(link)
    await expect(page.locator("#location")).to_have_text("Informatiebalie, Publiekshal, Gemeentehuis Wormer")
    await expect(page.locator("#gathering")).to_have_text("Achter de deur van de backoffice")
    plan = page.locator("#plan")
    await expect(plan.locator("#plan-location circle.lit")).to_have_attribute("cx", "485.0")
    # The location's own gathering point, not the zone's.
    await expect(plan.locator("#plan-gathering path")).to_have_attribute("d", re.compile(r"^M 160\.0 "))
    token = link.rsplit("/", 1)[1]
    await expect(plan.locator("image")).to_have_attribute("href", f"/r/{token}/plan")
    width = await plan.locator("svg").evaluate("svg => svg.getBoundingClientRect().width")
    assert width > 300  # the plan fills the phone's width
    await page.screenshot(path=SCREENSHOTS / "responder-floor-plan.png", full_page=True, animations="disabled")
    await matches_baseline(page, "responder-floor-plan", tmp_path)
    assert errors == []
    await context.close()


async def test_the_admin_page_tells_the_plan_coordinates_of_a_click(town_hall: Harness, browser: Browser) -> None:
    assert town_hall.service is not None
    await town_hall.add_user("beheer", ["admin"], name="Beheer")
    context = await browser.new_context(**WALL, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await sign_in(page, town_hall.service.http_url, "beheer", OPERATOR_PASSWORD, "/admin/plans")
    ground = page.locator('svg.pickable[data-plan="stadhuis/publiekshal"]')
    await expect(ground.locator("circle.placed")).to_have_count(4)  # the four counters placed already
    box = await ground.bounding_box()
    assert box is not None
    await ground.click(position={"x": box["width"] * 300 / 800, "y": box["height"] * 150 / 500})
    output = page.locator('output[data-plan="stadhuis/publiekshal"]')
    await expect(output).to_have_text(re.compile(r"^at: \[\d+, \d+\]$"))
    x, y = map(int, re.findall(r"\d+", await output.text_content() or ""))
    assert abs(x - 300) <= 2 and abs(y - 150) <= 2
    await page.screenshot(path=SCREENSHOTS / "admin-floor-plans.png")
    assert errors == []
    await context.close()


async def test_plans_are_served_only_to_who_may_see_them(town_hall: Harness) -> None:
    assert town_hall.service is not None
    base = town_hall.service.http_url
    uid = await open_alarm(town_hall, "knop-balie-2", "Balie 2")
    link = await responder_link(town_hall, uid)
    token = link.rsplit("/", 1)[1]
    coordinator = await town_hall.add_user("coco", ["coordinator"])
    responder = await town_hall.add_user("resp", ["responder"], person="jan")
    async with httpx.AsyncClient(base_url=base, timeout=10) as anonymous:
        assert (await anonymous.get("/plans/stadhuis/publiekshal")).status_code == 401
        assert (await anonymous.get(f"/r/{token[:-2]}xx/plan")).status_code == 404  # a forged link
        served = await anonymous.get(f"/r/{token}/plan")  # the responder's own link
    assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in served.headers["content-security-policy"]  # scripts in an SVG never run
    assert (await town_hall.call(responder, "/plans/stadhuis/publiekshal")).status_code == 403
    assert (await town_hall.call(coordinator, "/plans/stadhuis/publiekshal")).status_code == 200
    assert (await town_hall.call(coordinator, "/plans/stadhuis/kelder")).status_code == 404
    assert (await town_hall.call(coordinator, "/admin/plans")).status_code == 403
    # The board's API carries the plan and the place on it.
    [alarm] = await town_hall.alarms()
    assert alarm["plan"]["id"] == "stadhuis/publiekshal" and alarm["plan"]["at"] == [245.0, 265.0]
    assert alarm["plan"]["gathering_at"] == [712.0, 212.0]
    assert {"id": "knop-balie-2", "x": 245.0, "y": 265.0} in alarm["plan"]["devices"]


async def test_the_responder_app_shows_its_calls_on_the_plan(town_hall: Harness, browser: Browser,
                                                             tmp_path: Path) -> None:
    """The app (/app) shows a call as the one-tap page does, the plan behind the call's own link."""
    assert town_hall.service is not None
    await town_hall.add_user("jan", ["responder"], person="jan", name="Jan de Vries")
    uid = await open_alarm(town_hall, "knop-balie-3", "Balie 3")
    context = await browser.new_context(**PHONE, locale="nl-NL", service_workers="block")
    page = await context.new_page()
    base = town_hall.service.http_url
    await page.goto(f"{base}/app")
    signed_in = await page.evaluate("""async ([base, password]) => (await fetch(base + '/app/api/sign-in', {
        method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({username: 'jan', password, device: 'test'})})).status""", [base, OPERATOR_PASSWORD])
    assert signed_in == 200
    errors = script_errors(page)  # signed in now: the page asks nothing it may not
    await page.goto(f"{base}/app")
    call = page.locator(f'article.card[data-page^="{uid}."]')
    await expect(call.locator("svg.plan circle.location-mark")).to_have_attribute("cx", "365")
    await expect(call.locator("svg.plan path.gathering-mark")).to_have_count(1)
    href = await call.locator("svg.plan image").get_attribute("href")
    assert href is not None and re.fullmatch(r"/r/[^/]+/plan", href)
    assert errors == []
    await context.close()
