"""The records API's document tells the truth: its choices are the registration rules' own
lists, its 422 is the body that is sent, and declaring the enums changed no answer."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dispatcher.incidents.rules import ABCD, CONTACT_KINDS, FORMS, SANCTIONS
from gateway.records.api import RegistrationPatch, ReportIn, SanctionIn
from gateway.records.api import router as records


def _schemas() -> dict[str, Any]:
    from fastapi import FastAPI

    app = FastAPI()
    app.include_router(records)
    schemas: dict[str, Any] = app.openapi()["components"]["schemas"]
    return schemas


def test_the_enums_are_the_rules_lists() -> None:
    schemas = _schemas()
    assert schemas["ContactKind"]["enum"] == list(CONTACT_KINDS)
    assert schemas["AbcdClass"]["enum"] == list(ABCD)
    assert schemas["AggressionForm"]["enum"] == list(FORMS)
    assert schemas["SanctionKind"]["enum"] == list(SANCTIONS)
    patch = schemas["RegistrationPatch"]["properties"]
    assert {"$ref": "#/components/schemas/AbcdClass"} in patch["abcd_class"]["anyOf"]
    assert patch["aggression_forms"]["anyOf"][0]["items"] == {"$ref": "#/components/schemas/AggressionForm"}


def test_the_422_declared_is_the_form_errors_or_fastapis_list() -> None:
    detail = _schemas()["Refused"]["properties"]["detail"]["anyOf"]
    assert {"$ref": "#/components/schemas/FormErrors"} in detail
    assert {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}} in detail


def test_a_registration_choice_is_left_to_the_rules() -> None:
    """Lenient as the form (lower case, empty clears) and refused in the form's words, by the rules."""
    body = RegistrationPatch.model_validate({"abcd_class": "e", "aggression_forms": ["schoppen"], "contact_kind": ""})
    assert (body.abcd_class, body.aggression_forms, body.contact_kind) == ("e", ["schoppen"], "")
    with pytest.raises(ValidationError):
        RegistrationPatch.model_validate({"abcd_class": 4})  # still a string or nothing


@pytest.mark.parametrize(("model", "field", "good", "bad"), [
    (ReportIn, "contact_kind", "phone", "fax"),
    (SanctionIn, "kind", "ban_3", "none"),
])
def test_a_fixed_choice_is_refused_as_a_literal_was(model: Any, field: str, good: str, bad: str) -> None:
    base = {"contact_kind": "phone", "description": "x"} if model is ReportIn else {"offender_id": 1, "kind": "ban_3"}
    assert type(getattr(model.model_validate({**base, field: good}), field)) is str
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**base, field: bad})
    [error] = refused.value.errors()
    assert error["type"] == "literal_error" and error["msg"].startswith("Input should be '")
