"""/api/docs in headless Chromium: Swagger UI from code4's own files renders the API under the
pages' strict CSP, and the browser asks nothing of any other host."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Request, expect

from tests.browser.conftest import SCREENSHOTS, script_errors, sign_in
from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_the_api_docs_render_from_this_service_alone(code4: Harness, browser: Browser) -> None:
    assert code4.service is not None
    base = code4.service.http_url
    context = await browser.new_context(locale="nl-NL")
    page = await context.new_page()
    errors = script_errors(page, expected_status=(404,))  # the try-out below asks for an alarm that is not there
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    await sign_in(page, base, "ria", OPERATOR_PASSWORD, "/api/docs")
    await expect(page.locator(".opblock-summary-path", has_text="/api/alarms/{uid}/close")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "api-docs.png")

    # "Try it out" on a change: it carries the session's CSRF token, so code4 answers the
    # request itself (no such alarm) instead of refusing it (403).
    seen = page.locator(".opblock-post", has=page.locator(".opblock-summary-path",
                                                           has_text="/api/alarms/{uid}/seen"))
    await seen.locator(".opblock-summary").click()
    await seen.get_by_role("button", name="Try it out").click()
    await seen.get_by_placeholder("uid").fill("a-20261123-nope0")
    await seen.get_by_role("button", name="Execute").click()
    await expect(seen.locator(".live-responses-table tbody .response-col_status")).to_contain_text("404")
    await context.close()

    assert errors == [], "no script errors and no CSP violations"
    outside = [url for url in requested if not url.startswith(base) and not url.startswith("data:")]
    assert outside == []
    assert f"{base}/api/openapi.json" in requested
