"""The HTTP edge against an attacker: bodies over their limit are refused before anything reads
them, request heads that never end are cut off, and forwarded addresses count only from a
proxy code4 was told of. Real sockets against code4 running in-process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ATTACK = 20_000_000  # the probe's 20 MB form


@contextlib.asynccontextmanager
async def running(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path,
                  **kwargs: Any) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path, **kwargs)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


@pytest.fixture
async def phones(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    """code4 with Twilio configured, so its webhooks are there to attack."""
    async with running(mosquitto, database_url, clock, tmp_path, twilio=True) as harness:
        yield harness


async def connect(harness: Harness) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert harness.service is not None
    return await asyncio.open_connection("127.0.0.1", harness.service.bound_port)


def form_head(path: str, *, length: int | None = None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nHost: code4\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"{framing}\r\n\r\n").encode()


async def answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of the response, read until the server closes (or 5 s pass)."""
    raw = await asyncio.wait_for(reader.read(), 5)
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def sign_in(client: httpx.AsyncClient, username: str, password: str = OPERATOR_PASSWORD,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    form = await client.get("/login")
    prelogin = re.search(r'name="prelogin" value="([^"]+)"', form.text)
    assert prelogin
    return await client.post("/login", data={"username": username, "password": password,
                                             "prelogin": prelogin.group(1)}, headers=headers)


# ---- bodies -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/twilio/sms/inbound"])
async def test_a_huge_form_is_refused_by_its_length_before_it_is_read(phones: Harness, path: str) -> None:
    reader, writer = await connect(phones)
    writer.write(form_head(path, length=ATTACK) + b"Body=" + b"a" * 1000)  # the start, never the 20 MB
    status, body = await answer(reader)  # today's code waits for the rest, to parse it
    writer.close()
    assert (status, json.loads(body)) == (413, {"detail": "request body too large: at most 65536 bytes here"})


async def test_a_chunked_body_is_counted_and_refused_while_the_service_keeps_serving(code4: Harness) -> None:
    assert code4.service is not None
    button = code4.button("knop-balie-1")
    reader, writer = await connect(code4)
    writer.write(form_head("/login"))
    for _ in range(5):  # 80 KiB in 16 KiB chunks, and no end: the limit is 64 KiB
        writer.write(b"4000\r\n" + b"a" * 0x4000 + b"\r\n")
    await writer.drain()
    status, _ = await answer(reader)
    assert status == 413

    # Another attacker trickles a body that stays under the limit; meanwhile everyone else is served.
    _, slow = await connect(code4)
    slow.write(form_head("/login") + b"100\r\n" + b"a" * 0x100 + b"\r\n")
    alarm_id = button.press()
    await code4.wait(button.feedback, "received", alarm_id)
    async with httpx.AsyncClient(base_url=code4.service.http_url) as browser:
        assert (await browser.get("/api/health")).json() == {"status": "ok", "role": "leader"}
        assert (await sign_in(browser, "ria")).status_code == 303
    slow.close()
    writer.close()


async def test_the_import_takes_a_large_body_from_a_signed_in_user_only(code4: Harness) -> None:
    assert code4.service is not None
    admin = await code4.add_user("beheer", ["admin"])
    record = {"occurred_at": "2026-03-02T09:15:00+01:00", "source": "report", "contact_kind": "phone",
              "abcd_class": "C", "aggression_forms": ["verbaal_geweld"], "description": "Scheldpartij. " * 300}
    year = {"incidents": [record] * 300}  # ~1.3 MB: more than the default limit, far less than the import's
    assert len(json.dumps(year)) > 1_000_000
    async with httpx.AsyncClient(base_url=code4.service.http_url, timeout=60) as client:
        stranger = await client.post("/api/incidents/import", json=year)
        forged = await client.post("/api/incidents/import", json=year, headers={"Authorization": "Bearer c4_forged"})
        imported = await client.post("/api/incidents/import", json=year, headers={"Authorization": f"Bearer {admin}"})
    assert (stranger.status_code, forged.status_code) == (413, 413), "strangers get the default limit"
    assert imported.status_code == 201 and len(imported.json()["ids"]) == 300


# ---- request heads ------------------------------------------------------------------------------------


async def test_a_request_that_never_ends_is_cut_off(mosquitto: Mosquitto, database_url: str, clock: FakeClock,
                                                     tmp_path: Path) -> None:
    limits = {"http_head_timeout_s": 0.5, "http_body_timeout_s": 0.5}
    with capture_logs() as logs:
        async with running(mosquitto, database_url, clock, tmp_path, settings=limits) as code4:
            body_reader, body = await connect(code4)
            body.write(form_head("/login", length=100) + b"username=a")  # 10 bytes of 100, then nothing
            half_reader, half = await connect(code4)
            half.write(b"GET /api/hea")  # half a request line, then nothing
            silent_reader, silent = await connect(code4)  # nothing at all
            # A whole request on a kept-alive connection is answered, also after longer than the limit.
            kept_reader, kept = await connect(code4)
            for pause in (0.8, 0):
                kept.write(b"GET /api/health HTTP/1.1\r\nHost: code4\r\n\r\n")
                assert (await asyncio.wait_for(kept_reader.readline(), 5)).startswith(b"HTTP/1.1 200 ")
                await asyncio.wait_for(kept_reader.readuntil(b'{"status":"ok","role":"leader"}'), 5)
                await asyncio.sleep(pause)

            # Closed by code4, without an answer: today's uvicorn would wait for ever.
            assert await asyncio.wait_for(half_reader.read(), 5) == b""
            assert await asyncio.wait_for(silent_reader.read(), 5) == b""
            assert await answer(body_reader) == (408, b'{"detail": "request body too slow"}')
            for writer in (body, half, silent, kept):
                writer.close()
    cut_off = [e for e in logs if e["event"] == "connection closed: request head too slow"]
    assert len(cut_off) == 1 and cut_off[0]["security"], "the half request is a security event; silence is not"


# ---- forwarded addresses ---------------------------------------------------------------------------------


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(code4: Harness) -> None:
    """From loopback, a forged X-Forwarded-For neither hides the address nor dodges the
    throttle of failed sign-ins per (user, address)."""
    assert code4.service is not None
    async with httpx.AsyncClient(base_url=code4.service.http_url) as client:
        with capture_logs() as logs:
            for n in range(3):  # the free tries
                forged = {"X-Forwarded-For": f"203.0.113.{n}"}
                assert (await sign_in(client, "ria", "wrong password!", headers=forged)).status_code == 401
            blocked = await sign_in(client, "ria", "wrong password!", headers={"X-Forwarded-For": "203.0.113.9"})
    assert blocked.status_code == 429, "three failures from this address, whatever it claimed"
    assert {e["remote"] for e in logs if e["event"] == "sign-in failed"} == {"127.0.0.1"}


async def test_a_trusted_proxy_gives_the_client_address(mosquitto: Mosquitto, database_url: str, clock: FakeClock,
                                                        tmp_path: Path) -> None:
    async with running(mosquitto, database_url, clock, tmp_path, settings={"trusted_proxies": ["127.0.0.1"]}) as code4:
        assert code4.service is not None
        async with httpx.AsyncClient(base_url=code4.service.http_url) as client:
            with capture_logs() as logs:
                failed = await sign_in(client, "ria", "wrong password!", headers={"X-Forwarded-For": "203.0.113.9"})
    assert failed.status_code == 401
    assert [e["remote"] for e in logs if e["event"] == "sign-in failed"] == ["203.0.113.9"]


# ---- the API's documentation page ------------------------------------------------------------------------


async def test_the_api_docs_page_loads_nothing_from_outside(code4: Harness) -> None:
    assert code4.service is not None
    async with httpx.AsyncClient(base_url=code4.service.http_url) as browser:
        await sign_in(browser, "ria")
        page = await browser.get("/api/docs")
        assert page.status_code == 200
        assert not re.findall(r"(?:https?:)?//[^\s\"'<>]+", page.text), "only paths of this service"
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe" not in csp
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(assets) == 3  # Swagger UI's script and style, and the script that starts it
        for asset in assets:
            loaded = await browser.get(asset)
            assert loaded.status_code == 200 and len(loaded.content) > 100, asset
