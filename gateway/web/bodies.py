"""Bodies that handlers read themselves (forms of the pages, Twilio's webhooks, the one-tap
page's JSON): parsed strictly, and refused with 400 and a message when they are not what they
claim to be. Their size is bounded before any handler runs (gateway/web/edge.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request

MAX_FIELDS = 200  # far more than any form of code4 has; parse_qsl raises beyond it


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    """The fields of an `application/x-www-form-urlencoded` body, in order, blanks kept."""
    raw = await request.body()
    try:
        # Strict both ways: raw bytes must be UTF-8, and so must every %-escape.
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None
    except ValueError:
        raise HTTPException(400, f"the form has more than {MAX_FIELDS} fields") from None


async def form_fields(request: Request) -> dict[str, str]:
    """The form as a dict; a repeated name keeps its last value."""
    return dict(await form_pairs(request))


async def json_object(request: Request) -> dict[str, Any]:
    """A JSON object body."""
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):  # not UTF-8, not JSON, a number of 5000 digits, nested too deep
        raise HTTPException(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return data


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded")
