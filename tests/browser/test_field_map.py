"""The map of field alarms in headless Chromium: a field worker on a home visit walks, presses
the alarm, and the control room sees the last position, the trail and the visit's address on
tiles from a local tile server (and, without tiles, on a plain background). Screenshots are
compared with their baselines (tests/browser/visual.py)."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, expect

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.browser.conftest import SCREENSHOTS, script_errors, sign_in
from tests.browser.visual import matches_baseline
from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
VIEW = {"viewport": {"width": 1280, "height": 900}}
VISIT = "Dorpsstraat 12, Wormer"
WALK = [(52.49610, 4.81010), (52.49640, 4.81060), (52.49670, 4.81110), (52.49700, 4.81160), (52.49720, 4.81200)]


def tile_png() -> bytes:
    """One plain tile with a grid line on two sides, so tiles show as a grid on the screenshot."""
    image = Image.new("RGB", (256, 256), (226, 234, 218))
    draw = ImageDraw.Draw(image)
    draw.line([(0, 0), (255, 0)], fill=(180, 190, 175), width=2)
    draw.line([(0, 0), (0, 255)], fill=(180, 190, 175), width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class TileServer:
    """A tile server on 127.0.0.1 answering any /z/x/y.png with the same tile, counting requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        tile, requests = tile_png(), self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = self.path.split("/")
                if len(parts) != 4 or not parts[3].endswith(".png"):
                    self.send_error(404)
                    return
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    server = TileServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
async def mapped(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path,
                 tiles: TileServer) -> AsyncIterator[Harness]:
    """code4 with the local tile server as its map's tile source."""
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      settings={"map_tiles": f"{tiles.origin}/{{z}}/{{x}}/{{y}}.png",
                                "map_attribution": "Testtegels"})
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def trail_has(site: Harness, points: int) -> None:
    """Once the device watch holds `points` positions of Piet's device."""
    assert site.service is not None
    watch = site.service.devices
    await site.eventually(lambda: True if len(watch.trail("mob-piet")) == points else None)


async def walk_visit_and_press(site: Harness, note: str = VISIT) -> None:
    """Piet starts a home visit, walks (one position a minute) and presses his alarm."""
    assert site.service is not None
    mobile = site.button("mob-piet")
    start = {"action": "start", "expect_within_s": 1800, "note": note}
    mobile.publish("checkin", json.dumps(start).encode())
    await site.wait_events("mob-piet", "visit_started")
    for count, (lat, lon) in enumerate(WALK, start=1):
        await site.advance(60)
        mobile.publish("position", json.dumps({"lat": lat, "lon": lon, "accuracy_m": 15}).encode(), qos=0)
        await trail_has(site, count)
    mobile.press()  # no position in the press: the last one reported is the alarm's
    await site.alarm_when(lambda a: a["device_id"] == "mob-piet")


async def open_map(browser: Browser, site: Harness) -> tuple[Page, list[str]]:
    assert site.service is not None
    context = await browser.new_context(**VIEW, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await sign_in(page, site.service.http_url, "ria", OPERATOR_PASSWORD, "/board")
    await page.get_by_role("link", name="Kaart buitendienst").click()  # the board's way to the map
    await expect(page).to_have_url(f"{site.service.http_url}/board/map")
    return page, errors


async def tiles_loaded(page: Page) -> None:
    await page.wait_for_function(
        "document.querySelectorAll('.leaflet-tile-loaded').length > 0 && "
        "document.querySelectorAll('.leaflet-tile:not(.leaflet-tile-loaded)').length === 0", timeout=5000)


async def test_a_field_alarm_on_the_map_with_its_trail_and_the_visits_address(
        mapped: Harness, browser: Browser, tiles: TileServer, tmp_path: Path) -> None:
    await walk_visit_and_press(mapped)
    page, errors = await open_map(browser, mapped)

    canvas = page.locator("#field-map")
    await expect(canvas.locator(".field-marker")).to_have_count(1)
    await expect(canvas.locator(".field-label")).to_have_text(f"Piet Jansen: {VISIT}")
    await expect(canvas.locator("path.field-trail")).to_have_count(1)
    await expect(page.locator("#field-map-list")).to_contain_text(f"Piet Jansen: {VISIT}")
    await expect(page.locator("#field-map-list")).to_contain_text("Route van de laatste 15 minuten")
    await tiles_loaded(page)
    assert tiles.requests and all(p.endswith(".png") for p in tiles.requests)
    await expect(canvas.locator(".leaflet-control-scale")).to_be_visible()
    await expect(canvas.locator(".leaflet-control-attribution")).to_have_text("Testtegels")
    assert errors == []  # the page's CSP let the tiles in, and nothing else went wrong
    await page.screenshot(path=SCREENSHOTS / "field-map-1-tiles.png", animations="disabled")
    await matches_baseline(page.locator(".field-map"), "field-map-tiles", tmp_path)

    # The marker opens the alarm, whose detail page has the map too (without a link on it).
    await canvas.locator(".field-marker").click()
    await expect(page).to_have_url(re.compile(r"/board/alarms/[^/]+$"))
    await expect(page.locator("#alarm")).to_be_visible()
    await expect(page.locator("#alarm .field-label")).to_have_text(f"Piet Jansen: {VISIT}")
    await tiles_loaded(page)
    await page.screenshot(path=SCREENSHOTS / "field-map-2-alarm.png", animations="disabled")
    assert errors == []


async def test_only_those_who_see_the_board_see_the_map_and_its_csp_names_the_tile_server(
        mapped: Harness, tiles: TileServer) -> None:
    await walk_visit_and_press(mapped)
    assert mapped.token is not None
    shown = await mapped.call(mapped.token, "/board/map")
    assert shown.status_code == 200 and VISIT in shown.text
    policy = shown.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {tiles.origin};" in policy and "connect-src 'self';" in policy
    for roles in (["coordinator"], ["responder"], ["admin"]):
        other = await mapped.add_user(f"user-{roles[0]}", roles)
        for path in ("/board/map", "/board/map/markers"):
            refused = await mapped.call(other, path)
            assert refused.status_code == 403 and VISIT not in refused.text, (roles, path)
    assert (await mapped.call("not-a-token", "/board/map/markers")).status_code == 401


async def test_without_tiles_the_map_is_a_plain_background_with_the_addresses(
        code4: Harness, browser: Browser, tmp_path: Path) -> None:
    await walk_visit_and_press(code4)
    page, errors = await open_map(browser, code4)

    await expect(page.locator("#field-map-no-tiles")).to_be_visible()
    canvas = page.locator("#field-map")
    await expect(canvas.locator(".field-label")).to_have_text(f"Piet Jansen: {VISIT}")
    await expect(canvas.locator(".field-marker")).to_have_count(1)
    await expect(canvas.locator(".leaflet-control-scale")).to_be_visible()
    assert await canvas.locator(".leaflet-tile").count() == 0
    response = await page.request.get(page.url)
    assert "img-src 'self' data:;" in response.headers["content-security-policy"]  # no tile server to allow
    assert errors == []
    await page.screenshot(path=SCREENSHOTS / "field-map-3-plain.png", animations="disabled")
    await matches_baseline(page.locator(".field-map"), "field-map-plain", tmp_path)


async def test_a_visit_note_with_markup_is_shown_as_text(code4: Harness, browser: Browser) -> None:
    note = '<img src=x onerror="document.title=\'hacked\'">Kerkstraat 1'
    await walk_visit_and_press(code4, note)
    page, errors = await open_map(browser, code4)
    label = page.locator("#field-map .field-label")
    await expect(label).to_have_text(f"Piet Jansen: {note}")
    await expect(page.locator("#field-map-list")).to_contain_text(note)
    assert await page.locator("main img[src='x']").count() == 0
    assert await page.title() != "hacked" and errors == []


async def test_the_overview_follows_the_worker_after_the_press(code4: Harness, browser: Browser) -> None:
    assert code4.service is not None
    await walk_visit_and_press(code4)
    context = await browser.new_context(**VIEW, locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page)
    await page.clock.install()  # the page's timers on a clock of the test's own
    await sign_in(page, code4.service.http_url, "ria", OPERATOR_PASSWORD, "/board/map")
    dot = page.locator("#field-map path.field-marker")
    before = await dot.get_attribute("d")

    await code4.advance(30)
    code4.button("mob-piet").publish("position", json.dumps({"lat": 52.49760, "lon": 4.81260}).encode(), qos=0)
    await trail_has(code4, len(WALK) + 1)
    [moved] = (await (await page.request.get(f"{code4.service.http_url}/board/map/markers")).json())
    assert (moved["lat"], moved["lon"], len(moved["trail"])) == (52.4976, 4.8126, len(WALK) + 1)

    await page.clock.run_for(16_000)  # one poll
    await expect(dot).not_to_have_attribute("d", before or "")
    await expect(page.locator("#field-map .field-label")).to_have_text(f"Piet Jansen: {VISIT}")
    assert errors == []
