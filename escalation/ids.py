"""The ids that travel between parts as text, parsed once where they come in.

Each is a `str` subclass, so a database row, an MQTT payload, a URL and a comparison with plain
text see exactly the text they always saw; what the type adds is one way to make it and one way
to read it back (`parse`), instead of prefixes and splits at every use.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Self

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic.json_schema import CoreSchema


class RecipientKind(StrEnum):
    PERSON = "person"  # someone in the agreement file's `people`
    CONTACT = "contact"  # an outside contact (the police): no role, no pager


class RecipientKey(str):
    """Who a page or notice is for: "person:<id>" or "contact:<id>"."""

    __slots__ = ()

    def __new__(cls, kind: RecipientKind, ident: str) -> Self:
        if not ident:
            raise ValueError("a recipient key names an id")
        return super().__new__(cls, f"{RecipientKind(kind)}:{ident}")

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # copy and pickle: (kind, id), not the text
        return self.kind, self.id

    @classmethod
    def person(cls, ident: str) -> Self:
        return cls(RecipientKind.PERSON, ident)

    @classmethod
    def contact(cls, ident: str) -> Self:
        return cls(RecipientKind.CONTACT, ident)

    @classmethod
    def parse(cls, text: str) -> Self:
        """The key written as text; ValueError when it is not one."""
        if isinstance(text, cls):
            return text
        kind, _, ident = text.partition(":")
        if kind not in RecipientKind.__members__.values():
            raise ValueError(f"not a recipient key: {text[:80]!r}")
        return cls(RecipientKind(kind), ident)

    @property
    def kind(self) -> RecipientKind:
        return RecipientKind(self.partition(":")[0])

    @property
    def id(self) -> str:
        return self.partition(":")[2]

    @property
    def is_contact(self) -> bool:
        return self.kind is RecipientKind.CONTACT

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return _text_schema(cls.parse, handler)


class PageId(str):
    """One page of an alarm: "<alarm uid>.<n>", n counting the alarm's pages from 1."""

    __slots__ = ()

    def __new__(cls, alarm_uid: str, number: int) -> Self:
        if not alarm_uid or number < 0:
            raise ValueError("a page id is an alarm uid and a page number")
        return super().__new__(cls, f"{alarm_uid}.{number}")

    def __getnewargs__(self) -> tuple[str, int]:  # type: ignore[override]  # copy and pickle: (uid, n), not the text
        return self.alarm_uid, self.number

    @classmethod
    def parse(cls, text: str) -> Self:
        """The page id written as text; ValueError when it is not one."""
        if isinstance(text, cls):
            return text
        alarm_uid, _, number = text.rpartition(".")
        if not alarm_uid or not (number.isascii() and number.isdigit()):
            raise ValueError(f"not a page id: {text[:80]!r}")
        return cls(alarm_uid, int(number))

    @property
    def alarm_uid(self) -> str:
        return self.rpartition(".")[0]

    @property
    def number(self) -> int:
        return int(self.rpartition(".")[2])

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return _text_schema(cls.parse, handler)


def _text_schema(parse: Callable[[str], str], handler: GetCoreSchemaHandler) -> CoreSchema:
    """Read from text through `parse`; written (JSON, Python) as the plain text."""
    # Imported here: the core imports this module and should not need pydantic until the store does.
    from pydantic import AfterValidator, PlainSerializer

    return handler(Annotated[str, AfterValidator(parse), PlainSerializer(str, return_type=str)])
