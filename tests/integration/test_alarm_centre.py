"""code4's DC-09 transmitter on real sockets (127.0.0.1 only): against pysiaalarm's asyncio
receiver (written by others) and against code4's own alarm-centre simulator in its fault modes.

pysiaalarm takes an AES key as text and uses its characters as the key's bytes, so the hex key
code4 is given is `text.encode().hex()`; it also needs a receiver number in the message. Its UDP
server asserts that its transport is an `asyncio.DatagramTransport`, which Python 3.11's selector
UDP transport is not (it fails in `connection_made` and never answers), so pysiaalarm is met over
TCP; UDP is covered with code4's own simulator.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from pysiaalarm import SIAAccount
from pysiaalarm.aio import SIAClient
from pysiaalarm.event import SIAEvent
from pysiaalarm.utils import CommunicationsProtocol

from escalation.alarm_centre.dc09 import Link, MessageType, build_message, parse_key, sia_dcs_data
from escalation.alarm_centre.events import CentreEvent, Occurrence
from escalation.alarm_centre.transmitter import (
    Outcome,
    Receiver,
    RouteSettings,
    Transmitter,
    Transport,
)
from simulators.alarm_centre import AlarmCentre, Mode

ACCOUNT = "A1B2C3"
KEY_TEXT = "0123456789ABCDEF" * 2  # 256 bits, as pysiaalarm reads a key
TIMEOUT = 0.3
OCCURRENCE = Occurrence(CentreEvent.PANIC, zone=17, text="Panic by Jan de Vries", location="Stadskantoor, balie 3")


def _now() -> datetime:
    return datetime.now(UTC)


def _free_port(udp: bool = False) -> int:
    """A port nobody listens on (bound and released): sending there is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _link(encrypted: bool) -> Link:
    return Link(ACCOUNT, line=0x2A, receiver=0x1F, key=parse_key(KEY_TEXT.encode().hex()) if encrypted else None)


def _transmitter(primary: Receiver, backup: Receiver | None = None, *, encrypted: bool = False,
                 udp: bool = False, message_type: MessageType = MessageType.SIA_DCS) -> Transmitter:
    settings = RouteSettings(
        primary=primary,
        backup=backup,
        link=_link(encrypted),
        transport=Transport.UDP if udp else Transport.TCP,
        message_type=message_type,
        timeout=TIMEOUT,
        attempts_per_receiver=2,
    )
    return Transmitter(settings, now=_now, rng=Random(7))


@pytest.fixture
async def centres() -> AsyncIterator[list[AlarmCentre]]:
    started: list[AlarmCentre] = []
    yield started
    for centre in started:
        await centre.stop()


async def _centre(started: list[AlarmCentre], mode: Mode, *, udp: bool = False, encrypted: bool = False) -> Receiver:
    key = parse_key(KEY_TEXT.encode().hex()) if encrypted else None
    centre = AlarmCentre(udp=udp, key=key, mode=mode)
    await centre.start()
    started.append(centre)
    return Receiver("127.0.0.1", centre.port)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "aes256"])
@pytest.mark.parametrize("message_type", [MessageType.SIA_DCS, MessageType.ADM_CID], ids=["sia", "cid"])
async def test_pysiaalarm_receives_what_code4_sends(encrypted: bool, message_type: MessageType) -> None:
    events: list[SIAEvent] = []

    async def received(event: SIAEvent) -> None:
        events.append(event)

    port = _free_port()
    account = SIAAccount(ACCOUNT, KEY_TEXT if encrypted else None)
    client = SIAClient("127.0.0.1", port, [account], received, protocol=CommunicationsProtocol.TCP)
    await client.async_start()
    try:
        transmitter = _transmitter(Receiver("127.0.0.1", port), encrypted=encrypted, message_type=message_type)
        delivery = await transmitter.send(OCCURRENCE)
    finally:
        await client.async_stop()
    assert delivery.delivered, delivery.attempts
    assert [a.outcome for a in delivery.attempts] == [Outcome.ACK]
    [event] = events
    assert event.account == ACCOUNT and event.encrypted is encrypted
    assert event.sequence == f"{delivery.sequence:04d}"
    assert event.code == "HA"  # silent panic: SIA HA; from Contact ID 122 by pysiaalarm's own table
    if message_type is MessageType.SIA_DCS:
        assert event.ri == "1"  # SIA `ri` is the area; the zone follows the event code
        assert event.message == "017^Panic by Jan de Vries^"
    else:
        assert (event.event_qualifier, event.event_type, event.partition, event.ri) == ("1", "122", "01", "017")
    assert [(x.identifier, x.value) for x in event.extended_data or []] == [("L", "Stadskantoor, balie 3")]


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
async def test_own_centre_acknowledges_and_prints(centres: list[AlarmCentre], udp: bool) -> None:
    primary = await _centre(centres, Mode.ACK, udp=udp, encrypted=True)
    delivery = await _transmitter(primary, encrypted=True, udp=udp).send(OCCURRENCE)
    assert delivery.delivered and delivery.receiver == primary
    [message] = centres[0].received
    assert (message.account, message.code, message.zone, message.text) == (ACCOUNT, "HA", 17, "Panic by Jan de Vries")
    assert message.extended == (("L", "Stadskantoor, balie 3"),)


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
async def test_nak_is_retried_then_the_backup_gets_it(centres: list[AlarmCentre], udp: bool) -> None:
    primary = await _centre(centres, Mode.NAK, udp=udp)
    backup = await _centre(centres, Mode.ACK, udp=udp)
    delivery = await _transmitter(primary, backup, udp=udp).send(OCCURRENCE)
    assert [(a.receiver, a.outcome) for a in delivery.attempts] == [
        (primary, Outcome.NAK), (primary, Outcome.NAK), (backup, Outcome.ACK)]
    assert delivery.delivered and delivery.receiver == backup
    assert {a.sequence for a in delivery.attempts} == {delivery.sequence}
    assert len(centres[0].received) == 2 and len(centres[1].received) == 1


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
async def test_silent_primary_times_out_is_retried_then_backup(centres: list[AlarmCentre], udp: bool) -> None:
    primary = await _centre(centres, Mode.SILENT, udp=udp)
    backup = await _centre(centres, Mode.ACK, udp=udp)
    delivery = await _transmitter(primary, backup, udp=udp).send(OCCURRENCE)
    assert [(a.receiver, a.outcome) for a in delivery.attempts] == [
        (primary, Outcome.SILENCE), (primary, Outcome.SILENCE), (backup, Outcome.ACK)]
    assert delivery.delivered


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
async def test_down_primary_goes_to_the_backup_at_once(centres: list[AlarmCentre], udp: bool) -> None:
    primary = Receiver("127.0.0.1", _free_port(udp))
    backup = await _centre(centres, Mode.ACK, udp=udp)
    delivery = await _transmitter(primary, backup, udp=udp).send(OCCURRENCE)
    assert [(a.receiver, a.outcome) for a in delivery.attempts] == [(primary, Outcome.REFUSED), (backup, Outcome.ACK)]


async def test_both_down_is_not_delivered_and_every_attempt_is_recorded() -> None:
    primary, backup = Receiver("127.0.0.1", _free_port()), Receiver("127.0.0.1", _free_port())
    delivery = await _transmitter(primary, backup).send(OCCURRENCE)
    assert not delivery.delivered and delivery.receiver is None
    assert [(a.receiver, a.outcome) for a in delivery.attempts] == [
        (primary, Outcome.REFUSED), (backup, Outcome.REFUSED)]


async def test_an_ack_of_another_sequence_is_not_delivery(centres: list[AlarmCentre]) -> None:
    primary = await _centre(centres, Mode.WRONG_SEQUENCE)
    delivery = await _transmitter(primary).send(OCCURRENCE)
    assert not delivery.delivered
    assert [a.outcome for a in delivery.attempts] == [Outcome.UNMATCHED, Outcome.UNMATCHED]


async def test_sequence_numbers_advance_per_message(centres: list[AlarmCentre]) -> None:
    primary = await _centre(centres, Mode.ACK)
    transmitter = _transmitter(primary)
    first, second = await transmitter.send(OCCURRENCE), await transmitter.send(OCCURRENCE)
    assert (first.sequence, second.sequence) == (1, 2)
    assert [m.sequence for m in centres[0].received] == [1, 2]


async def test_link_test_detects_a_dead_receiver(centres: list[AlarmCentre]) -> None:
    alive = await _centre(centres, Mode.ACK)
    silent = await _centre(centres, Mode.SILENT)
    dead = Receiver("127.0.0.1", _free_port())
    transmitter = _transmitter(alive)
    assert (await transmitter.link_test()).outcome is Outcome.ACK
    assert centres[0].received[-1].message_type is MessageType.NULL
    assert (await transmitter.link_test(dead)).outcome is Outcome.REFUSED
    assert (await transmitter.link_test(silent)).outcome is Outcome.SILENCE


async def test_a_hostile_receiver_cannot_break_send() -> None:
    """Endless bytes without a <CR>, then garbage: a failed attempt each, nothing raised."""
    import asyncio

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r")
        writer.write(b"X" * 100_000)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        delivery = await _transmitter(Receiver("127.0.0.1", port)).send(OCCURRENCE)
    finally:
        server.close()
        await server.wait_closed()
    assert not delivery.delivered
    assert [a.outcome for a in delivery.attempts] == [Outcome.MALFORMED, Outcome.MALFORMED]


async def test_a_nak_corrects_the_clock_and_a_builder_gets_the_corrected_time(centres: list[AlarmCentre]) -> None:
    """The receiver's clock is an hour ahead: after its NAK the next try is stamped with its time."""
    ahead = AlarmCentre(mode=Mode.NAK, now=lambda: _now() + timedelta(hours=1))
    await ahead.start()
    centres.append(ahead)
    stamps: list[tuple[int, datetime]] = []

    def build(sequence: int, at: datetime) -> bytes:
        stamps.append((sequence, at))
        return build_message(_link(False), MessageType.SIA_DCS, sequence, sia_dcs_data(ACCOUNT, "HA", zone=1), at=at)

    transmitter = _transmitter(Receiver("127.0.0.1", ahead.port))
    delivery = await transmitter.send(build)
    assert [a.outcome for a in delivery.attempts] == [Outcome.NAK, Outcome.NAK]
    assert abs(transmitter.clock_offset - timedelta(hours=1)) < timedelta(seconds=2)
    (first_sequence, first_at), (second_sequence, second_at) = stamps
    assert first_sequence == second_sequence == delivery.sequence  # a message sent again keeps its number
    assert abs(second_at - first_at - timedelta(hours=1)) < timedelta(seconds=2)
