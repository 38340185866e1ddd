"""SIA DC-09 messages as the standard (ANSI/SIA DC-09) writes them, and the receiver's answers.

A message on the wire:

    <LF> CRC LLLL "SIA-DCS" SSSS Rrrr Llll #acct [data]xdata _HH:MM:SS,MM-DD-YYYY <CR>

- CRC: four hex digits, CRC-16/ARC (polynomial 0x8005 reflected, initial value 0) over the
  message body from the opening quote of the id token up to the end, without the <CR>.
- LLLL: the body's length as four hex digits, "0LLL" (so at most 0xFFF characters).
- The id token: "SIA-DCS" (SIA DC-03 events), "ADM-CID" (Ademco Contact ID, DC-05) or "NULL"
  (a link test that carries no event); with a `*` after the opening quote when encrypted.
- SSSS: the sequence number, four decimal digits 0001-9999, after 9999 comes 0001 again. A
  message sent again (after a NAK or silence) keeps its number; the next message takes the next.
- Rrrr (optional) and Llll: receiver and line number, 1-6 hex digits each.
- #acct: the account, 3-16 hex digits, as the alarm centre gave it.
- [data]: the event (see `sia_dcs_data` and `contact_id_data`), then optional extended data
  blocks such as `[Lplace]`, then the timestamp in UTC, mandatory when encrypted.

Encrypted, everything after the `[` is replaced by the hex of AES-CBC (zero IV, a 128, 192 or
256-bit key) over `pad|data]xdata_timestamp`: the pad is 1-16 random printable characters,
never `|`, `[` or `]`, so that the plain text fills whole 16-byte blocks and a receiver finds
where the data starts at the first `|`. The receiver's answers (ACK, NAK, DUH, RSP) are framed
the same way: `parse_answer` checks their CRC and length, decrypts them when they are encrypted
and returns what a transmitter matches against what it sent.

Pure: no sockets and no clock; the caller passes the time and may pass the random source.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from random import Random

from Crypto.Cipher import AES

MAX_SEQUENCE = 9999
MAX_BODY = 0xFFF
BLOCK = 16  # AES block size in bytes
ZERO_IV = bytes(BLOCK)
TIMESTAMP_FORMAT = "%H:%M:%S,%m-%d-%Y"
KEY_HEX_LENGTHS = (32, 48, 64)  # 128, 192 and 256-bit keys as hex digits
MAX_TEXT = 64  # characters of free text in one event

_HEX = re.compile(r"[0-9A-F]+")
_PRINTABLE = string.digits + string.ascii_letters + string.punctuation + " "
_PAD_CHARACTERS = "".join(ch for ch in _PRINTABLE if ch not in "|[]")  # printable: any receiver decodes them
_TEXT_REFUSED = frozenset('[]^|"\\')  # would end the data, the text or the message early


class Dc09Error(ValueError):
    """A message that cannot be built as asked, or an answer that is not a valid DC-09 answer."""


class MessageType(StrEnum):
    SIA_DCS = "SIA-DCS"
    ADM_CID = "ADM-CID"
    NULL = "NULL"


class AnswerKind(StrEnum):
    ACK = "ACK"  # received and accepted
    NAK = "NAK"  # refused (bad CRC, format, timestamp out of window): send again, same number
    DUH = "DUH"  # understood the frame but not the event in it
    RSP = "RSP"  # accepted, with data for the transmitter


def crc16(data: bytes) -> int:
    """CRC-16/ARC, as DC-09 asks (check value: `crc16(b"123456789") == 0xBB3D`)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def next_sequence(sequence: int) -> int:
    """The number after `sequence`: 0001 up to 9999, then 0001 again (0000 is the NAK's)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise Dc09Error(f"a sequence number is 1-{MAX_SEQUENCE}, not {sequence}")
    return sequence % MAX_SEQUENCE + 1


def parse_key(hex_key: str) -> bytes:
    """An AES key as the alarm centre writes it: 32, 48 or 64 hex digits (128/192/256 bits)."""
    text = hex_key.strip().upper()
    if len(text) not in KEY_HEX_LENGTHS or not _HEX.fullmatch(text):
        raise Dc09Error("an AES key is 32, 48 or 64 hex digits (128, 192 or 256 bits)")
    return bytes.fromhex(text)


def _hex_field(name: str, value: str, shortest: int, longest: int) -> str:
    text = value.upper()
    if not shortest <= len(text) <= longest or not _HEX.fullmatch(text):
        raise Dc09Error(f"{name} is {shortest}-{longest} hex digits, not {value!r}")
    return text


@dataclass(frozen=True, slots=True)
class Link:
    """What the alarm centre assigned to code4: account, line, receiver and the optional key."""

    account: str
    line: int = 0
    receiver: int | None = None
    key: bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", _hex_field("the account", self.account, 3, 16))
        for name, number in (("the line", self.line), ("the receiver", self.receiver)):
            if number is not None and not 0 <= number <= 0xFFFFFF:
                raise Dc09Error(f"{name} number is 0-FFFFFF (hex), not {number}")
        if self.key is not None and len(self.key) * 2 not in KEY_HEX_LENGTHS:
            raise Dc09Error("an AES key is 16, 24 or 32 bytes")

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    def route(self) -> str:
        """The `Rrrr Llll` part of the header: receiver (when set) and line, in hex."""
        receiver = "" if self.receiver is None else f"R{self.receiver:X}"
        return f"{receiver}L{self.line:X}"


def format_timestamp(at: datetime) -> str:
    """`_HH:MM:SS,MM-DD-YYYY` in UTC; `at` must know its time zone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise Dc09Error("a DC-09 timestamp needs an aware datetime (UTC is sent)")
    return "_" + at.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def clean_text(text: str) -> str:
    """Free text as a receiver can take it: ASCII (accents dropped, `é` becomes `e`), none of
    the characters that end a field, single spaces, at most `MAX_TEXT` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    kept = "".join(ch if ch.isprintable() and ch not in _TEXT_REFUSED else " " for ch in ascii_text)
    return " ".join(kept.split())[:MAX_TEXT].strip()


def _check_range(name: str, value: int, highest: int) -> None:
    if not 0 <= value <= highest:
        raise Dc09Error(f"{name} is 0-{highest}, not {value}")


def sia_dcs_data(account: str, code: str, *, zone: int, area: int = 1, text: str = "") -> str:
    """The data of a SIA-DCS message (SIA DC-03 inside DC-09): `#acct|Nri<area>/<CODE><zone>^text^`.

    `ri` is the area (partition) and the number after the two-letter event code the zone (point);
    the text, when there is any, goes between carets, as DC-03's ASCII field.
    """
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise Dc09Error(f"a SIA event code is two capital letters, not {code!r}")
    _check_range("the zone", zone, 999)
    _check_range("the area", area, 99)
    cleaned = clean_text(text)
    caption = f"^{cleaned}^" if cleaned else ""
    return f"#{_hex_field('the account', account, 3, 16)}|Nri{area}/{code}{zone:03d}{caption}"


def contact_id_data(account: str, event: int, *, restore: bool = False, zone: int, partition: int = 1) -> str:
    """The data of an ADM-CID message (Contact ID, DC-05): `#acct|QEEE GG ZZZ`.

    Q is the qualifier (1 new event, 3 restore), EEE the event code, GG the partition and ZZZ the
    zone or user. Contact ID has no text: send it as extended data (`[L...]`) beside it.
    """
    _check_range("a Contact ID event", event, 999)
    _check_range("the zone", zone, 999)
    _check_range("the partition", partition, 99)
    qualifier = 3 if restore else 1
    return f"#{_hex_field('the account', account, 3, 16)}|{qualifier}{event:03d} {partition:02d} {zone:03d}"


def extended_data(blocks: Sequence[tuple[str, str]]) -> str:
    """DC-09 extended data: `[<letter><value>]` per block, e.g. `("L", "Front desk")` is a location."""
    out = []
    for letter, value in blocks:
        if not re.fullmatch(r"[A-Z]", letter):
            raise Dc09Error(f"an extended data identifier is one capital letter, not {letter!r}")
        out.append(f"[{letter}{clean_text(value)}]")
    return "".join(out)


def _pad(length: int, rng: Random | None) -> str:
    pick = rng.choice if rng is not None else secrets.choice
    return "".join(pick(_PAD_CHARACTERS) for _ in range(length))


def _encrypt(key: bytes, plain: str, rng: Random | None) -> str:
    """`pad|plain` under AES-CBC with a zero IV, as hex: the pad fills the last block (1-16)."""
    body = "|" + plain
    padded = _pad(BLOCK - len(body) % BLOCK, rng) + body
    return AES.new(key, AES.MODE_CBC, iv=ZERO_IV).encrypt(padded.encode("ascii")).hex().upper()


def frame(body: str) -> bytes:
    """`<LF>CRC LLLL body<CR>`: the CRC and length of the body, from its opening quote."""
    if len(body) > MAX_BODY:
        raise Dc09Error(f"a DC-09 message is at most {MAX_BODY} characters, this one {len(body)}")
    try:
        raw = body.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Dc09Error("a DC-09 message is ASCII") from exc
    return b"\n" + f"{crc16(raw):04X}{len(body):04X}".encode("ascii") + raw + b"\r"


def build_message(
    link: Link,
    message_type: MessageType,
    sequence: int,
    data: str,
    *,
    at: datetime | None,
    extra: str = "",
    rng: Random | None = None,
) -> bytes:
    """One DC-09 message, encrypted when the link has a key (then `at` is required).

    `data` is what `sia_dcs_data` or `contact_id_data` made (empty for NULL), `extra` what
    `extended_data` made; `rng` only chooses the encryption pad (tests pass a seeded one).
    """
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise Dc09Error(f"a sequence number is 1-{MAX_SEQUENCE}, not {sequence}")
    if link.key is not None and at is None:
        raise Dc09Error("an encrypted DC-09 message must carry its timestamp")
    stamp = format_timestamp(at) if at is not None else ""
    inner = f"{data}]{extra}{stamp}"
    star = "*" if link.key is not None else ""
    payload = _encrypt(link.key, inner, rng) if link.key is not None else inner
    return frame(f'"{star}{message_type}"{sequence:04d}{link.route()}#{link.account}[{payload}')


def build_null(link: Link, sequence: int, *, at: datetime | None, rng: Random | None = None) -> bytes:
    """A link test (NULL message): no event, the receiver only answers it; used for supervision."""
    return build_message(link, MessageType.NULL, sequence, "", at=at, rng=rng)


@dataclass(frozen=True, slots=True)
class Answer:
    """A receiver's answer, as the transmitter matches it to what it sent."""

    kind: AnswerKind
    sequence: int  # 0 on a NAK: it refers to the message just sent, whatever its number
    receiver: int | None
    line: int | None
    account: str | None  # None on a NAK ("A0" there)
    timestamp: datetime | None  # the receiver's clock (a NAK carries it, so a transmitter can correct)
    encrypted: bool

    def acknowledges(self, sequence: int, account: str) -> bool:
        """True only for an ACK of this very message: the one answer that counts as delivered."""
        return self.kind is AnswerKind.ACK and self.sequence == sequence and self.account == account.upper()


# The route's digits are matched lazily: a NAK's `L0A0[` is line 0 and the "A0" that stands in
# for its account, not line 0xA0 (pysiaalarm even writes `L0R0A0`, hence either order).
_ANSWER = re.compile(
    r"(?P<crc>[0-9A-Fa-f]{4})(?P<length>[0-9A-Fa-f]{4})"
    r'(?P<body>"(?P<star>\*)?(?P<kind>ACK|NAK|DUH|RSP)"(?P<sequence>\d{4})'
    r"(?P<route>(?:[RL][0-9A-Fa-f]{1,6}?){0,2})(?:#(?P<account>[0-9A-Fa-f]{3,16})|A0)?\[(?P<rest>.*))",
    re.DOTALL,
)
_ANSWER_TAIL = re.compile(r"[^\[\]|]*\|?[^\[\]]*\](?:\[[^\[\]]*\])*(?:_(?P<stamp>\d\d:\d\d:\d\d,\d\d-\d\d-\d{4}))?")


def _route_numbers(route: str) -> tuple[int | None, int | None]:
    parts = {piece[0]: int(piece[1:], 16) for piece in re.findall(r"[RL][0-9A-Fa-f]+", route)}
    return parts.get("R"), parts.get("L")


def _decrypt(key: bytes | None, hex_text: str) -> str:
    if key is None:
        raise Dc09Error("an encrypted answer, but this link has no key")
    text = hex_text.rstrip("]")
    if not text or len(text) % (2 * BLOCK) or not _HEX.fullmatch(text.upper()):
        raise Dc09Error("the encrypted part of the answer is not whole AES blocks in hex")
    plain = AES.new(key, AES.MODE_CBC, iv=ZERO_IV).decrypt(bytes.fromhex(text))
    return plain.decode("latin-1")


def _unframe(raw: bytes | str, pattern: re.Pattern[str], what: str) -> re.Match[str]:
    """The frame's parts, once its CRC and length match its body (the same for both directions)."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    match = pattern.fullmatch(text.strip("\r\n\x00"))
    if match is None:
        raise Dc09Error(f"not a DC-09 {what}: {text[:80]!r}")
    body = match["body"]
    if int(match["crc"], 16) != crc16(body.encode("latin-1")):
        raise Dc09Error(f"the {what}'s CRC does not match")
    if int(match["length"], 16) != len(body):
        raise Dc09Error(f"the {what}'s length does not match")
    return match


def _timestamp(stamp: str | None) -> datetime | None:
    return datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC) if stamp else None


def parse_answer(raw: bytes | str, key: bytes | None = None) -> Answer:
    """Read a receiver's answer; raise `Dc09Error` for a wrong CRC or length, a frame that is not
    an answer, or an encrypted answer that does not decrypt to one with this key."""
    match = _unframe(raw, _ANSWER, "answer")
    encrypted = match["star"] is not None
    tail = _decrypt(key, match["rest"]) if encrypted else match["rest"]
    content = _ANSWER_TAIL.fullmatch(tail)
    if content is None:
        raise Dc09Error("the answer's data cannot be read (a wrong key, when it is encrypted)")
    stamp = content["stamp"]
    if encrypted and not stamp:  # the standard requires it; without it a wrong key could pass
        raise Dc09Error("an encrypted answer without its timestamp (a wrong key?)")
    receiver, line = _route_numbers(match["route"])
    account = match["account"]
    return Answer(
        kind=AnswerKind(match["kind"]),
        sequence=int(match["sequence"]),
        receiver=receiver,
        line=line,
        account=account.upper() if account else None,
        timestamp=_timestamp(stamp),
        encrypted=encrypted,
    )


def build_answer(
    kind: AnswerKind,
    sequence: int,
    link: Link,
    *,
    at: datetime | None,
    rng: Random | None = None,
) -> bytes:
    """A receiver's answer to message `sequence` on `link` (receivers and test simulators).

    A NAK names no message: it carries 0000, "A0" for the account and the receiver's clock, so
    the transmitter can correct its own. An answer on an encrypted link is encrypted, with its
    timestamp, as the standard asks.
    """
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise Dc09Error(f"an answer's sequence number is 0-{MAX_SEQUENCE}, not {sequence}")
    if link.key is not None and at is None:
        raise Dc09Error("an encrypted DC-09 answer must carry its timestamp")
    stamp = format_timestamp(at) if at is not None else ""
    if kind is AnswerKind.NAK:
        return frame(f'"NAK"0000{link.route()}A0[]{stamp}')
    star = "*" if link.key is not None else ""
    payload = _encrypt(link.key, f"]{stamp}", rng) if link.key is not None else f"]{stamp}"
    return frame(f'"{star}{kind}"{sequence:04d}{link.route()}#{link.account}[{payload}')


@dataclass(frozen=True, slots=True)
class Incoming:
    """A transmitter's message as a receiver reads it (`parse_message`)."""

    message_type: MessageType
    sequence: int
    receiver: int | None
    line: int | None
    account: str
    encrypted: bool
    data: str  # the event as sent: `#acct|Nri1/PA017^text^`, `#acct|1122 01 017` or empty (NULL)
    extended: tuple[tuple[str, str], ...]  # (letter, value) per `[Xvalue]` block
    timestamp: datetime | None
    code: str = ""  # SIA code (`PA`) or Contact ID qualifier and event (`1122`)
    zone: int | None = None
    area: int | None = None
    text: str = ""


_MESSAGE = re.compile(
    r"(?P<crc>[0-9A-Fa-f]{4})(?P<length>[0-9A-Fa-f]{4})"
    r'(?P<body>"(?P<star>\*)?(?P<type>SIA-DCS|ADM-CID|NULL)"(?P<sequence>\d{4})'
    r"(?P<route>(?:[RL][0-9A-Fa-f]{1,6}){0,2})#(?P<account>[0-9A-Fa-f]{3,16})\[(?P<rest>.*))",
    re.DOTALL,
)
_CONTENT = re.compile(
    r"(?P<data>[^\[\]]*)\](?P<extended>(?:\[[^\[\]]*\])*)(?:_(?P<stamp>\d\d:\d\d:\d\d,\d\d-\d\d-\d{4}))?"
)
_SIA_EVENT = re.compile(
    r"#[0-9A-Fa-f]{3,16}\|Nri(?P<area>\d{1,2})/(?P<code>[A-Z]{2})(?P<zone>\d{3})(?:\^(?P<text>[^^]*)\^)?"
)
_CID_EVENT = re.compile(r"#[0-9A-Fa-f]{3,16}\|(?P<code>[136]\d{3}) (?P<area>\d\d) (?P<zone>\d{3})")


def _event_fields(message_type: MessageType, data: str) -> tuple[str, int | None, int | None, str]:
    """(code, zone, area, text) of the event in `data`."""
    pattern = {MessageType.SIA_DCS: _SIA_EVENT, MessageType.ADM_CID: _CID_EVENT}.get(message_type)
    if pattern is None:
        if data:
            raise Dc09Error("a NULL message carries no event")
        return "", None, None, ""
    event = pattern.fullmatch(data)
    if event is None:
        raise Dc09Error(f"the {message_type} event cannot be read: {data!r}")
    fields = event.groupdict()
    return fields["code"], int(fields["zone"]), int(fields["area"]), fields.get("text") or ""


def parse_message(raw: bytes | str, key: bytes | None = None) -> Incoming:
    """Read a transmitter's message; raise `Dc09Error` for a wrong CRC or length, a frame that is
    not a SIA-DCS, ADM-CID or NULL message, or an encrypted one that this key does not open."""
    match = _unframe(raw, _MESSAGE, "message")
    encrypted = match["star"] is not None
    rest = match["rest"]
    if encrypted:
        plain = _decrypt(key, rest)
        if "|" not in plain:
            raise Dc09Error("the decrypted message has no pad separator (a wrong key?)")
        rest = plain.split("|", 1)[1]
    content = _CONTENT.fullmatch(rest)
    if content is None or (encrypted and not content["stamp"]):
        raise Dc09Error("the message's data cannot be read (a wrong key, when it is encrypted)")
    message_type = MessageType(match["type"])
    stamp = content["stamp"]
    receiver, line = _route_numbers(match["route"])
    blocks = re.findall(r"\[([A-Z])([^\[\]]*)\]", content["extended"])
    code, zone, area, event_text = _event_fields(message_type, content["data"])
    return Incoming(
        message_type=message_type,
        sequence=int(match["sequence"]),
        receiver=receiver,
        line=line,
        account=match["account"].upper(),
        encrypted=encrypted,
        data=content["data"],
        extended=tuple((letter, value) for letter, value in blocks),
        timestamp=_timestamp(stamp),
        code=code,
        zone=zone,
        area=area,
        text=event_text,
    )
