"""Headless Chromium for browser tests: Debian's `chromium`, driven by Playwright.

Playwright's own browser download is not used. Without Chromium these tests are skipped with a
message, unless CODE4_REQUIRE_BROWSER=1 (CI sets it) makes them mandatory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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
