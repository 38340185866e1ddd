"""SIA DC-09 as code4 writes it, read by a receiver code4's developers did not write: pysiaalarm
(a maintained DC-09 receiver from PyPI). Pure: no sockets, frames go straight into its parser.

pysiaalarm takes an AES key as text and uses its characters as the key's bytes, so a key of 16,
24 or 32 characters here is the hex key `text.encode().hex()` for code4 (128, 192, 256 bits).
"""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random

import pytest
from Crypto.Cipher import AES
from pysiaalarm import SIAAccount  # the test extra: a missing receiver fails here rather than skipping
from pysiaalarm.data.sia_codes import SIA_CODES
from pysiaalarm.errors import EventFormatError
from pysiaalarm.event import NAKEvent, SIAEvent
from pysiaalarm.utils import ResponseType

from devices.kinds import AlarmKind
from escalation.alarm_centre.dc09 import (
    AnswerKind,
    Dc09Error,
    Link,
    MessageType,
    build_message,
    build_null,
    clean_text,
    crc16,
    frame,
    next_sequence,
    parse_answer,
    parse_key,
    sia_dcs_data,
)
from escalation.alarm_centre.events import (
    EVENT_TABLE,
    FOR_ALARM_KIND,
    CentreEvent,
    Occurrence,
    event_message,
)

ACCOUNT = "A1B2C3"
AT = datetime(2026, 3, 29, 1, 30, 5, tzinfo=UTC)
KEY_TEXTS = {128: "0123456789ABCDEF", 192: "0123456789ABCDEF01234567", 256: "0123456789ABCDEF" * 2}
OCCURRENCE = Occurrence(CentreEvent.PANIC, zone=17, text="Panic by Jan de Vries", location="Stadskantoor, balie 3")


def _link(bits: int | None, *, account: str = ACCOUNT) -> Link:
    key = parse_key(KEY_TEXTS[bits].encode().hex()) if bits else None
    return Link(account, line=0x2A, receiver=0x1F, key=key)


def _receive(raw: bytes, bits: int | None, *, key_text: str | None = None, timeband: bool = False) -> SIAEvent:
    """What pysiaalarm's server does with a line: strip it, parse it against the known accounts."""
    assert raw.startswith(b"\n") and raw.endswith(b"\r")
    text = key_text if key_text is not None else (KEY_TEXTS[bits] if bits else None)
    account = SIAAccount(ACCOUNT, text) if timeband else SIAAccount(ACCOUNT, text, allowed_timeband=None)
    return SIAEvent.from_line(raw.decode("ascii").strip(), {ACCOUNT: account})


def _assert_framing(event: SIAEvent, raw: bytes, sequence: int, *, encrypted: bool) -> None:
    assert event.valid_message, (event.msg_crc, event.calc_crc)  # pysiaalarm's own CRC check
    assert event.full_message is not None and event.length is not None
    # pysiaalarm's `valid_length` compares decimal with hex and is never used by its server: check here.
    assert int(event.length, 16) == len(event.full_message) == len(raw) - 10
    assert event.encrypted is encrypted
    assert event.account == ACCOUNT
    assert event.sequence == f"{sequence:04d}"
    assert (event.receiver, event.line) == ("R1F", "L2A")
    assert event.timestamp == AT


def test_crc_is_crc16_arc() -> None:
    assert crc16(b"123456789") == 0xBB3D
    assert crc16(b"") == 0


@pytest.mark.parametrize("bits", [None, 128, 192, 256])
def test_pysiaalarm_reads_a_sia_dcs_event_as_sent(bits: int | None) -> None:
    raw = event_message(_link(bits), MessageType.SIA_DCS, 42, OCCURRENCE, at=AT)
    event = _receive(raw, bits)
    _assert_framing(event, raw, 42, encrypted=bits is not None)
    assert event.code == "HA"
    assert event.ri == "1"  # SIA `ri` is the area; the zone follows the event code
    assert event.message == "017^Panic by Jan de Vries^"
    assert event.extended_data is not None
    assert [(x.identifier, x.value) for x in event.extended_data] == [("L", "Stadskantoor, balie 3")]
    assert event.response is ResponseType.ACK


@pytest.mark.parametrize("bits", [None, 128, 192, 256])
def test_pysiaalarm_reads_a_contact_id_event_as_sent(bits: int | None) -> None:
    occurrence = Occurrence(CentreEvent.MAN_DOWN, zone=5, location="Gang 2", area=3)
    raw = event_message(_link(bits), MessageType.ADM_CID, 9999, occurrence, at=AT)
    event = _receive(raw, bits)
    _assert_framing(event, raw, 9999, encrypted=bits is not None)
    assert (event.event_qualifier, event.event_type, event.partition, event.ri) == ("1", "100", "03", "005")
    assert event.code == "MA"  # pysiaalarm's own Contact ID to SIA translation
    assert event.x_data == "LGang 2"
    assert event.response is ResponseType.ACK


@pytest.mark.parametrize("message_type", [MessageType.SIA_DCS, MessageType.ADM_CID])
def test_restores_reach_the_receiver_as_restores(message_type: MessageType) -> None:
    occurrence = Occurrence(CentreEvent.ASSIST, zone=1, restore=True)
    event = _receive(event_message(_link(128), message_type, 1, occurrence, at=AT), 128)
    assert event.code == "PH"
    if message_type is MessageType.ADM_CID:
        assert (event.event_qualifier, event.event_type) == ("3", "120")


@pytest.mark.parametrize("bits", [None, 256])
def test_a_null_message_is_a_link_test_the_receiver_acknowledges(bits: int | None) -> None:
    raw = build_null(_link(bits), 3, at=AT)
    event = _receive(raw, bits)
    assert event.valid_message
    assert event.message_type is not None and event.message_type.value == "NULL"
    assert (event.code, event.sequence) == ("RP", "0003")  # pysiaalarm's name for a link test
    assert event.response is ResponseType.ACK


def test_a_timestamp_of_now_is_inside_the_receivers_window() -> None:
    raw = event_message(_link(128), MessageType.SIA_DCS, 8, OCCURRENCE, at=datetime.now(UTC))
    assert _receive(raw, 128, timeband=True).response is ResponseType.ACK


def test_encryption_pads_to_whole_blocks_with_random_characters_before_the_bar() -> None:
    link = _link(128)
    assert link.key is not None
    one, two = (event_message(link, MessageType.SIA_DCS, 1, OCCURRENCE, at=AT, rng=Random(seed)) for seed in (1, 2))
    assert one != two  # a zero IV: only the pad keeps equal events from looking equal on the wire
    cipher = bytes.fromhex(one.decode().rstrip("\r").split("[", 1)[1])
    plain = AES.new(link.key, AES.MODE_CBC, iv=bytes(16)).decrypt(cipher).decode("ascii")
    pad, _, rest = plain.partition("|")
    assert 1 <= len(pad) <= 16 and not set(pad) & set("|[]")
    assert rest == f"#{ACCOUNT}|Nri1/HA017^Panic by Jan de Vries^][LStadskantoor, balie 3]_01:30:05,03-29-2026"


def test_a_wrong_key_does_not_decode() -> None:
    raw = event_message(_link(128), MessageType.SIA_DCS, 1, OCCURRENCE, at=AT, rng=Random(7))
    with pytest.raises(EventFormatError):
        _receive(raw, 128, key_text="FEDCBA9876543210")
    answer = _receive(raw, 128).create_response()
    with pytest.raises(Dc09Error):
        parse_answer(answer, b"FEDCBA9876543210")


def test_the_sequence_number_wraps_from_9999_to_0001() -> None:
    assert [next_sequence(n) for n in (1, 41, 9998, 9999)] == [2, 42, 9999, 1]
    for wrong in (0, 10000):
        with pytest.raises(Dc09Error):
            next_sequence(wrong)
        with pytest.raises(Dc09Error):
            build_message(_link(None), MessageType.SIA_DCS, wrong, "#ABC|Nri1/PA001", at=AT)


@pytest.mark.parametrize("bits", [None, 128, 192, 256])
def test_pysiaalarms_ack_matches_the_message_sent(bits: int | None) -> None:
    link = _link(bits)
    answer = parse_answer(_receive(event_message(link, MessageType.SIA_DCS, 77, OCCURRENCE, at=AT), bits)
                          .create_response(), link.key)
    assert (answer.kind, answer.sequence, answer.account) == (AnswerKind.ACK, 77, ACCOUNT)
    assert (answer.receiver, answer.line, answer.encrypted) == (0x1F, 0x2A, bits is not None)
    assert answer.acknowledges(77, ACCOUNT)
    assert not answer.acknowledges(76, ACCOUNT)
    assert (answer.timestamp is not None) is (bits is not None)  # an encrypted ACK carries the time


def test_pysiaalarms_nak_and_duh_parse() -> None:
    nak = parse_answer(NAKEvent().create_response())
    assert (nak.kind, nak.sequence, nak.account, nak.line, nak.receiver) == (AnswerKind.NAK, 0, None, 0, 0)
    assert nak.timestamp is not None and nak.timestamp.tzinfo is UTC
    assert not nak.acknowledges(0, ACCOUNT)
    assert "QQ" not in SIA_CODES
    unknown = build_message(_link(None), MessageType.SIA_DCS, 12, sia_dcs_data(ACCOUNT, "QQ", zone=1), at=AT)
    duh = parse_answer(_receive(unknown, None).create_response())
    assert (duh.kind, duh.sequence, duh.account) == (AnswerKind.DUH, 12, ACCOUNT)
    assert not duh.acknowledges(12, ACCOUNT)


def test_answers_as_the_standard_writes_them() -> None:
    nak = parse_answer(frame('"NAK"0000R0L0A0[]_23:59:58,12-31-2025'))
    assert nak.kind is AnswerKind.NAK
    assert nak.timestamp == datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC)
    ack = parse_answer(frame('"ACK"0042R1L2#abc[]'))
    assert ack.acknowledges(42, "ABC") and (ack.receiver, ack.line) == (1, 2)
    line_a0 = parse_answer(frame('"ACK"0001LA0#123[]'))
    assert (line_a0.line, line_a0.account) == (0xA0, "123")


def test_a_damaged_answer_is_refused() -> None:
    good = frame('"ACK"0042R1L2#ABC[]')
    for damaged in (good.replace(b"0042", b"0043"), good[:1] + b"0000" + good[5:],
                    good[:5] + b"0099" + good[9:], b'\n"ACK"0042\r', b""):
        with pytest.raises(Dc09Error):
            parse_answer(damaged)
    with pytest.raises(Dc09Error):  # an encrypted answer needs a key
        parse_answer(frame('"*ACK"0001L0#ABC[00000000000000000000000000000000'))


def test_what_cannot_be_built_is_refused() -> None:
    with pytest.raises(Dc09Error):  # encrypted needs the timestamp
        event_message(_link(128), MessageType.SIA_DCS, 1, OCCURRENCE, at=None)
    with pytest.raises(Dc09Error):
        event_message(_link(None), MessageType.SIA_DCS, 1, OCCURRENCE, at=datetime(2026, 1, 1))  # noqa: DTZ001
    for key in ("0123", "G" * 32, "00" * 20):
        with pytest.raises(Dc09Error):
            parse_key(key)
    for account in ("12", "XYZ1", "1" * 17):
        with pytest.raises(Dc09Error):
            Link(account)
    with pytest.raises(Dc09Error):
        Occurrence(CentreEvent.VERIFIED, zone=1, restore=True)
    with pytest.raises(Dc09Error):
        build_message(_link(None), MessageType.SIA_DCS, 1, "x" * 5000, at=None)


def test_an_unencrypted_message_without_time_is_exactly_the_standards_frame() -> None:
    raw = event_message(Link("1234"), MessageType.ADM_CID, 1, Occurrence(CentreEvent.PANIC, zone=2), at=None)
    body = '"ADM-CID"0001L0#1234[#1234|1122 01 002]'
    assert raw == f"\n{crc16(body.encode()):04X}{len(body):04X}{body}\r".encode()


def test_free_text_is_plain_ascii_without_field_ends() -> None:
    assert clean_text("Café [Noord] ^x|y\"z\\  \n  ü") == "Cafe Noord x y z u"
    assert len(clean_text("a" * 200)) == 64


def test_every_alarm_kind_has_a_standard_event_and_restores_only_what_can_be_restored() -> None:
    assert set(FOR_ALARM_KIND) == set(AlarmKind)
    assert set(EVENT_TABLE) == set(CentreEvent)
    assert (EVENT_TABLE[CentreEvent.PANIC].contact_id, EVENT_TABLE[CentreEvent.PANIC].sia) == (122, "HA")
    for event, row in EVENT_TABLE.items():
        assert row.sia in SIA_CODES, event  # pysiaalarm knows every SIA code code4 sends
        assert row.sia_restore is None or row.sia_restore in SIA_CODES, event
