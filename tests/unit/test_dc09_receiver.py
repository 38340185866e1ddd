"""The receiver's side of DC-09 in code4 (`parse_message`, `build_answer`), as the alarm-centre
simulator uses it: what code4 sends reads back as sent, and answers read as the transmitter expects."""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random

import pytest

from escalation.alarm_centre.dc09 import (
    AnswerKind,
    Dc09Error,
    Link,
    MessageType,
    build_answer,
    build_null,
    parse_answer,
    parse_key,
    parse_message,
)
from escalation.alarm_centre.events import CentreEvent, Occurrence, event_message

ACCOUNT = "A1B2C3"
AT = datetime(2026, 3, 29, 1, 30, 5, tzinfo=UTC)
KEY = parse_key("00112233445566778899AABBCCDDEEFF")
OCCURRENCE = Occurrence(CentreEvent.PANIC, zone=17, text="Panic by Jan de Vries", location="Stadskantoor, balie 3")


def _link(key: bytes | None = None) -> Link:
    return Link(ACCOUNT, line=0x2A, receiver=0x1F, key=key)


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "aes128"])
def test_sia_dcs_reads_back_as_sent(key: bytes | None) -> None:
    raw = event_message(_link(key), MessageType.SIA_DCS, 42, OCCURRENCE, at=AT, rng=Random(1))
    message = parse_message(raw, key)
    route = (message.message_type, message.sequence, message.receiver, message.line)
    assert route == (MessageType.SIA_DCS, 42, 0x1F, 0x2A)
    assert (message.account, message.encrypted, message.timestamp) == (ACCOUNT, key is not None, AT)
    assert (message.code, message.zone, message.area, message.text) == ("HA", 17, 1, "Panic by Jan de Vries")
    assert message.extended == (("L", "Stadskantoor, balie 3"),)


def test_contact_id_and_null_read_back() -> None:
    raw = event_message(_link(KEY), MessageType.ADM_CID, 9999, OCCURRENCE, at=AT)
    message = parse_message(raw, KEY)
    assert (message.code, message.zone, message.area, message.text) == ("1122", 17, 1, "")
    null = parse_message(build_null(_link(), 7, at=None))
    assert (null.message_type, null.sequence, null.data, null.code, null.zone, null.timestamp) == (
        MessageType.NULL, 7, "", "", None, None)


def test_damaged_or_foreign_messages_are_refused() -> None:
    raw = event_message(_link(KEY), MessageType.SIA_DCS, 1, OCCURRENCE, at=AT)
    with pytest.raises(Dc09Error):
        parse_message(raw, parse_key("FF" * 16))  # the wrong key
    with pytest.raises(Dc09Error):
        parse_message(raw)  # encrypted, no key
    plain = event_message(_link(), MessageType.SIA_DCS, 1, OCCURRENCE, at=AT)
    with pytest.raises(Dc09Error, match="CRC"):
        parse_message(plain.replace(b"Panic", b"Pan1c"))
    for junk in (b"", b"\n\r", b"hello", b"X" * 5000, '\nÿ"SIA-DCS"'.encode("latin-1")):
        with pytest.raises(Dc09Error):
            parse_message(junk)


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "aes128"])
def test_answers_read_as_the_transmitter_expects(key: bytes | None) -> None:
    ack = parse_answer(build_answer(AnswerKind.ACK, 42, _link(key), at=AT, rng=Random(2)), key)
    assert ack.acknowledges(42, ACCOUNT) and not ack.acknowledges(43, ACCOUNT)
    assert (ack.encrypted, ack.receiver, ack.line) == (key is not None, 0x1F, 0x2A)
    nak = parse_answer(build_answer(AnswerKind.NAK, 0, _link(key), at=AT), key)
    assert (nak.kind, nak.sequence, nak.account, nak.timestamp) == (AnswerKind.NAK, 0, None, AT)
    with pytest.raises(Dc09Error):
        build_answer(AnswerKind.ACK, 1, _link(KEY), at=None)  # encrypted answers carry their time
