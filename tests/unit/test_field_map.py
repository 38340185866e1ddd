"""The field map's tile setting: a tile URL or nothing, and the one origin the pages then allow."""

from __future__ import annotations

import pytest
from fastapi.responses import HTMLResponse

from gateway.board.fieldmap import allow_tiles, tile_origin
from gateway.settings import Settings, SettingsError
from gateway.web.pages import page_headers


def test_the_tile_setting_is_a_tile_url_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE4_MAP_TILES", "https://tiles.example.org/{z}/{x}/{y}.png")
    assert Settings.load().map_tiles == "https://tiles.example.org/{z}/{x}/{y}.png"
    monkeypatch.setenv("CODE4_MAP_TILES", "")  # an env file with the line left empty
    assert Settings.load().map_tiles is None
    for wrong in ("javascript:alert(1)//{z}{x}{y}", "https://tiles.example.org/tile.png", "//{z}/{x}/{y}.png",
                  "https://tiles.example.org/{z}/{x}.png"):
        monkeypatch.setenv("CODE4_MAP_TILES", wrong)
        with pytest.raises(SettingsError, match="CODE4_MAP_TILES"):
            Settings.load()


def test_the_pages_allow_images_from_the_tile_server_only() -> None:
    assert tile_origin("https://tiles.example.org/osm/{z}/{x}/{y}.png") == "https://tiles.example.org"
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    page = allow_tiles(HTMLResponse("", headers=page_headers()), "https://tiles.example.org/{z}/{x}/{y}.png")
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.org;" in policy
    assert "default-src 'self';" in policy and "connect-src 'self';" in policy
    plain = allow_tiles(HTMLResponse("", headers=page_headers()), None)
    assert plain.headers["Content-Security-Policy"] == page_headers()["Content-Security-Policy"]
