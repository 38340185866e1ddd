"""The fixed choices of the records API as enums in its OpenAPI document, made from the tuples
of the registration rules (dispatcher/incidents/rules.py), so each list lives in one place.

A field declares its enum with `shown_as`; the value itself stays a plain string, and either
- goes on to the registration rules, which refuse a wrong one in the form's own words
  (`{"message", "errors"}`) and are as lenient as a form (`"d"` is class D, `""` clears), or
- is also checked with `one_of`, which refuses it at once as a `Literal` would (FastAPI's list).
"""

from __future__ import annotations

from enum import StrEnum
from types import GenericAlias
from typing import Any, Literal, cast

from pydantic import BeforeValidator, GetPydanticSchema

from dispatcher.incidents.rules import ABCD, CONTACT_KINDS, FORMS, OFFENDER_RELATIONS, SANCTION_ANSWERS, SANCTIONS


def _enum(name: str, values: tuple[str, ...]) -> type[StrEnum]:
    # Built at run time from the rules' tuple: a named component in the document, not a type to check
    return cast("type[StrEnum]", StrEnum(name, [(value, value) for value in values]))


ContactKind = _enum("ContactKind", CONTACT_KINDS)
AbcdClass = _enum("AbcdClass", ABCD)
AggressionForm = _enum("AggressionForm", FORMS)
OffenderRelation = _enum("OffenderRelation", OFFENDER_RELATIONS)
SanctionAnswer = _enum("SanctionAnswer", SANCTION_ANSWERS)
SanctionKind = _enum("SanctionKind", SANCTIONS)


def _as_is(value: Any) -> Any:
    return value


def shown_as(choices: type[StrEnum], *, many: bool = False, optional: bool = True) -> BeforeValidator:
    """The document shows one of `choices` (or a list of them; or null); the value passes unchanged."""
    shown: Any = GenericAlias(list, (choices,)) if many else choices
    return BeforeValidator(_as_is, json_schema_input_type=shown | None if optional else shown)


def one_of(choices: type[StrEnum]) -> GetPydanticSchema:
    """Exactly one of the values, validated (and refused) as the `Literal` of them is."""
    values = tuple(member.value for member in choices)
    return GetPydanticSchema(lambda _, handler: handler(Literal.__getitem__(values)))
