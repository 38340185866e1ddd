"""The OpenAPI document as code4 answers, where FastAPI's generated one would say otherwise.

FastAPI declares every 422 as its list of validation errors. code4 also answers 422 with one
sentence when a path or query parameter is read by hand (an id that is not one, a response the
one-tap page does not know), so the shared `HTTPValidationError` says `detail` is either.
Routes whose refusals have a shape of their own (the records' form errors) declare it themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

SENTENCE = {"type": "string", "description": "what is not understood, in one sentence",
            "examples": ["not an id: 'x y'"]}


def truthful(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """A replacement for `app.openapi`: the generated document, corrected once and kept."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            validation = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if validation is not None:
                listed = validation["properties"]["detail"]
                validation["properties"]["detail"] = {"title": "Detail", "anyOf": [
                    {key: value for key, value in listed.items() if key != "title"}, SENTENCE]}
        return app.openapi_schema or {}

    return document
