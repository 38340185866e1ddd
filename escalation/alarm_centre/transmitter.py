"""An asyncio SIA DC-09 transmitter for one route: a primary and a backup receiver.

`send` sends one event and waits for the receiver's answer. Only an ACK of this very message
(same sequence number and account, `Answer.acknowledges`) counts as delivered. A NAK, an
unreadable or unmatched answer, or silence is retried on the same receiver up to
`attempts_per_receiver` times; a refused connection or a DUH (the receiver cannot take this
event, sending it again will not change that) moves on to the next receiver at once. Each try
is rebuilt with a fresh timestamp; it keeps its sequence number, as a message sent again does
(see `dc09`), and the next event takes the next number. A NAK carries the receiver's clock: the
offset is kept and applied to every later timestamp, so an encrypted message is not refused
again for being outside the receiver's time window.

Every try is recorded in the `Delivery` (receiver, sequence, outcome, time), for the alarm's
timeline. Nothing a receiver sends raises out of `send`: at most `MAX_ANSWER` bytes are read,
up to the first `<CR>`, and whatever does not parse is a failed try.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from random import Random

from escalation.alarm_centre.dc09 import (
    Answer,
    AnswerKind,
    Dc09Error,
    Link,
    MessageType,
    build_null,
    next_sequence,
    parse_answer,
)
from escalation.alarm_centre.events import Occurrence, event_message

MAX_ANSWER = 1024  # bytes: an answer is a few dozen; a receiver sending more is cut off
DEFAULT_TIMEOUT = 20.0  # seconds to wait for an answer, common DC-09 practice

MessageBuilder = Callable[[int, datetime], bytes]
"""Builds the message to send from its sequence number and the (corrected) time."""


class Transport(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class Outcome(StrEnum):
    ACK = "ACK"  # the matching ACK: delivered
    NAK = "NAK"
    DUH = "DUH"
    UNMATCHED = "unmatched"  # an answer, but not an ACK of this message (wrong sequence or account, RSP)
    MALFORMED = "malformed"  # an answer that does not parse (CRC, length, key)
    SILENCE = "silence"  # no answer within the timeout
    REFUSED = "refused"  # the receiver is not there (connection refused or reset)


@dataclass(frozen=True, slots=True)
class Receiver:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """One route to an alarm centre, as its contract describes it."""

    primary: Receiver
    link: Link
    backup: Receiver | None = None
    transport: Transport = Transport.TCP
    message_type: MessageType = MessageType.SIA_DCS
    timeout: float = DEFAULT_TIMEOUT
    attempts_per_receiver: int = 3

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("the answer timeout must be positive")
        if self.attempts_per_receiver < 1:
            raise ValueError("at least one attempt per receiver")
        if self.message_type is MessageType.NULL:
            raise ValueError("events go as SIA-DCS or ADM-CID; NULL is the link test")

    def receivers(self) -> tuple[Receiver, ...]:
        return (self.primary,) if self.backup is None else (self.primary, self.backup)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try: where it went, which number, what came back and when it was sent."""

    receiver: Receiver
    sequence: int
    outcome: Outcome
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    attempts: tuple[Attempt, ...]
    sequence: int

    @property
    def delivered(self) -> bool:
        return any(attempt.outcome is Outcome.ACK for attempt in self.attempts)

    @property
    def receiver(self) -> Receiver | None:
        """The receiver that acknowledged, when one did."""
        return next((a.receiver for a in self.attempts if a.outcome is Outcome.ACK), None)


class _ReceiverGone(Exception):
    """Connection refused or reset: nobody is listening there."""


class _Datagram(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if not self.answer.done():
            self.answer.set_result(data[:MAX_ANSWER])

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(_ReceiverGone(str(exc)))


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    """Bytes up to and with the first `<CR>`, at most `MAX_ANSWER` of them."""
    buffer = b""
    while b"\r" not in buffer and len(buffer) < MAX_ANSWER:
        chunk = await reader.read(MAX_ANSWER - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return buffer.split(b"\r", 1)[0] + b"\r" if b"\r" in buffer else buffer


async def _exchange_tcp(receiver: Receiver, message: bytes) -> bytes:
    try:
        reader, writer = await asyncio.open_connection(receiver.host, receiver.port)
    except (ConnectionRefusedError, ConnectionResetError) as exc:
        raise _ReceiverGone(str(exc)) from exc
    try:
        writer.write(message)
        await writer.drain()
        return await _read_answer(reader)
    except ConnectionResetError as exc:
        raise _ReceiverGone(str(exc)) from exc
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _exchange_udp(receiver: Receiver, message: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Datagram, remote_addr=(receiver.host, receiver.port))
    try:
        transport.sendto(message)
        return await protocol.answer
    finally:
        transport.close()


class Transmitter:
    """Sends events on one route; keeps the sequence numbers and the receiver's clock offset."""

    def __init__(
        self,
        settings: RouteSettings,
        *,
        now: Callable[[], datetime],
        rng: Random | None = None,
        first_sequence: int = 1,
    ) -> None:
        next_sequence(first_sequence)  # validates it
        self.settings = settings
        self._now = now
        self._rng = rng
        self._sequence = first_sequence
        self._offset = timedelta(0)  # receiver clock minus ours, learnt from a NAK

    @property
    def clock_offset(self) -> timedelta:
        return self._offset

    @property
    def next_sequence(self) -> int:
        """The number the next message takes (a transmitter built anew continues from it)."""
        return self._sequence

    def continue_from(self, earlier: Transmitter) -> None:
        """Take over the numbering and the receiver's clock of the transmitter this one replaces."""
        self._sequence = earlier._sequence
        self._offset = earlier._offset

    def _take_sequence(self) -> int:
        sequence = self._sequence
        self._sequence = next_sequence(sequence)
        return sequence

    def _builder(self, what: Occurrence | MessageBuilder) -> MessageBuilder:
        if isinstance(what, Occurrence):
            settings, rng = self.settings, self._rng
            return lambda sequence, at: event_message(
                settings.link, settings.message_type, sequence, what, at=at, rng=rng
            )
        return what

    async def send(self, what: Occurrence | MessageBuilder, *, attempts_per_receiver: int | None = None) -> Delivery:
        """Send one event until a receiver acknowledges it or every try has failed (each
        receiver `attempts_per_receiver` times, the settings' by default). Events for different
        alarms may be under way at once: each has its own sequence number (taken without an
        await in between, so no lock is needed) and its own connections."""
        build = self._builder(what)
        sequence = self._take_sequence()
        attempts: list[Attempt] = []
        for receiver in self.settings.receivers():
            for _ in range(attempts_per_receiver or self.settings.attempts_per_receiver):
                attempt = await self._attempt(receiver, sequence, build)
                attempts.append(attempt)
                if attempt.outcome is Outcome.ACK:
                    return Delivery(tuple(attempts), sequence)
                if attempt.outcome in (Outcome.REFUSED, Outcome.DUH):
                    break
        return Delivery(tuple(attempts), sequence)

    async def link_test(self, receiver: Receiver | None = None) -> Attempt:
        """One NULL message (line supervision) to `receiver` (the primary by default); the path
        is sound when the outcome is `Outcome.ACK`."""
        link, rng = self.settings.link, self._rng
        return await self._attempt(
            receiver or self.settings.primary,
            self._take_sequence(),
            lambda sequence, at: build_null(link, sequence, at=at, rng=rng),
        )

    async def _attempt(self, receiver: Receiver, sequence: int, build: MessageBuilder) -> Attempt:
        at = self._now() + self._offset
        try:
            message = build(sequence, at)
        except Dc09Error as exc:  # the caller's event cannot be sent at all: a programming error
            raise ValueError(f"cannot build the DC-09 message: {exc}") from exc
        exchange = _exchange_udp if self.settings.transport is Transport.UDP else _exchange_tcp
        try:
            async with asyncio.timeout(self.settings.timeout):
                raw = await exchange(receiver, message)
        except TimeoutError:
            return Attempt(receiver, sequence, Outcome.SILENCE, at)
        except _ReceiverGone as exc:
            return Attempt(receiver, sequence, Outcome.REFUSED, at, str(exc))
        except OSError as exc:  # unreachable network, no route: nobody to talk to there
            return Attempt(receiver, sequence, Outcome.REFUSED, at, str(exc))
        if not raw:
            return Attempt(receiver, sequence, Outcome.SILENCE, at, "closed without answering")
        return self._judge(receiver, sequence, at, raw)

    def _judge(self, receiver: Receiver, sequence: int, at: datetime, raw: bytes) -> Attempt:
        try:
            answer = parse_answer(raw, self.settings.link.key)
        except (Dc09Error, ValueError) as exc:
            return Attempt(receiver, sequence, Outcome.MALFORMED, at, str(exc)[:200])
        if answer.acknowledges(sequence, self.settings.link.account):
            return Attempt(receiver, sequence, Outcome.ACK, at)
        if answer.kind is AnswerKind.NAK:
            self._learn_clock(answer)
            return Attempt(receiver, sequence, Outcome.NAK, at)
        if answer.kind is AnswerKind.DUH:
            return Attempt(receiver, sequence, Outcome.DUH, at)
        return Attempt(receiver, sequence, Outcome.UNMATCHED, at, _describe(answer))

    def _learn_clock(self, answer: Answer) -> None:
        if answer.timestamp is not None:
            self._offset = answer.timestamp - self._now()


def _describe(answer: Answer) -> str:
    return f"{answer.kind} {answer.sequence:04d} account {answer.account}"


__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_ANSWER",
    "Attempt",
    "Delivery",
    "MessageBuilder",
    "Outcome",
    "Receiver",
    "RouteSettings",
    "Transmitter",
    "Transport",
]
