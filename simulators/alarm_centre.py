"""A SIA DC-09 receiver for testers: an alarm centre that prints what it receives and answers.

Modes: `ack` (the normal answer), `nak` (refuses every message), `silent` (reads, never
answers), `wrong-sequence` (acknowledges a different message number: a transmitter must not
count that as delivered) and `down` (not listening at all). TCP or UDP; with a key it decrypts
and answers encrypted. Messages that cannot be read are answered with a NAK, as a receiver does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

from escalation.alarm_centre.dc09 import (
    MAX_SEQUENCE,
    AnswerKind,
    Dc09Error,
    Incoming,
    Link,
    build_answer,
    parse_message,
)

MAX_MESSAGE = 4096  # bytes of one message: a DC-09 body is at most 0xFFF characters


class Mode(StrEnum):
    ACK = "ack"
    NAK = "nak"
    SILENT = "silent"
    WRONG_SEQUENCE = "wrong-sequence"
    DOWN = "down"


def describe(message: Incoming) -> str:
    """One line for a tester: what came in."""
    parts = [
        f"{message.message_type} #{message.account} seq {message.sequence:04d}",
        "encrypted" if message.encrypted else "plain",
    ]
    if message.code:
        parts.append(f"event {message.code} zone {message.zone} area {message.area}")
    if message.text:
        parts.append(f"text {message.text!r}")
    parts.extend(f"[{letter}] {value!r}" for letter, value in message.extended)
    if message.timestamp is not None:
        parts.append(f"sent {message.timestamp:%Y-%m-%d %H:%M:%S}Z")
    return " · ".join(parts)


@dataclass
class AlarmCentre:
    """The receiver; `port=0` picks a free port (read `port` after `start`)."""

    port: int = 0
    host: str = "127.0.0.1"
    udp: bool = False
    key: bytes | None = None
    mode: Mode = Mode.ACK
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    out: Callable[[str], None] = field(default=lambda line: None)
    received: list[Incoming] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        if self.mode is Mode.DOWN:
            self.out(f"down: not listening on {self.host}:{self.port}")
            return
        if self.udp:
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpReceiver(self), local_addr=(self.host, self.port)
            )
            self._transport = transport
            self.port = transport.get_extra_info("sockname")[1]
        else:
            self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_MESSAGE)
            self.port = self._server.sockets[0].getsockname()[1]
        self.out(f"listening on {self.host}:{self.port} ({'UDP' if self.udp else 'TCP'}, mode {self.mode})")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def answer(self, raw: bytes) -> bytes | None:
        """What this centre answers to `raw` (None: silence)."""
        try:
            message = parse_message(raw, self.key)
        except Dc09Error as exc:
            self.out(f"unreadable, NAK: {exc}")
            return None if self.mode is Mode.SILENT else build_answer(AnswerKind.NAK, 0, Link("000"), at=self.now())
        self.received.append(message)
        self.out(describe(message))
        key = self.key if message.encrypted else None
        link = Link(message.account, line=message.line or 0, receiver=message.receiver, key=key)
        if self.mode is Mode.SILENT:
            return None
        if self.mode is Mode.NAK:
            return build_answer(AnswerKind.NAK, 0, link, at=self.now())
        sequence = message.sequence
        if self.mode is Mode.WRONG_SEQUENCE:
            sequence = sequence % MAX_SEQUENCE + 1
        stamp = self.now() if message.encrypted or message.timestamp is not None else None
        return build_answer(AnswerKind.ACK, sequence, link, at=stamp)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\r")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                reply = self.answer(line)
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
        finally:
            writer.close()


class _UdpReceiver(asyncio.DatagramProtocol):
    def __init__(self, centre: AlarmCentre) -> None:
        self.centre = centre
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: Python 3.11's selector UDP transport is no DatagramTransport subclass.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        reply = self.centre.answer(data[:MAX_MESSAGE])
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def run(centre: AlarmCentre) -> None:
    """Serve until cancelled (Ctrl-C); a `down` centre only waits."""
    await centre.start()
    try:
        await asyncio.Event().wait()
    finally:
        await centre.stop()
