"""Headless Chromium for browser tests: Debian's `chromium`, driven by Playwright.

Playwright's own browser download is not used. Without Chromium these tests are skipped with a
message, unless CODE4_REQUIRE_BROWSER=1 (CI sets it) makes them mandatory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def chromium_path() -> str:
    path = os.environ.get("CODE4_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        message = "browser tests need Chromium: apt-get install chromium (or set CODE4_CHROMIUM)"
        if os.environ.get("CODE4_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def chromium_args() -> list[str]:
    # As root in a container Chromium needs --no-sandbox; the rest keeps it off the network.
    return ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path(), args=chromium_args())
        try:
            yield launched
        finally:
            await launched.close()


async def sign_in(page: Page, base_url: str, username: str, password: str, target: str) -> None:
    """Open `target`, get sent to the sign-in page, sign in, land on `target`."""
    await page.goto(f"{base_url}{target}")
    await page.get_by_label("Gebruikersnaam").fill(username)
    await page.get_by_label("Wachtwoord").fill(password)
    await page.get_by_role("button", name="Aanmelden").click()
    await expect(page).to_have_url(f"{base_url}{target}")


def script_errors(page: Page, *, expected_status: tuple[int, ...] = ()) -> list[str]:
    """Errors the page reports in its console or throws, as they happen. A page answered with
    one of `expected_status` (a form sent back with its mistakes: 422) is no error."""
    errors: list[str] = []
    expected = tuple(f"status of {status}" for status in expected_status)

    def console(message: Any) -> None:
        if message.type == "error" and not any(e in message.text for e in expected):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
