"""The API fuzzed from its own OpenAPI document (Schemathesis): whatever a signed-in user
with every role sends to any operation — valid requests and invalid ones — code4 answers
without a server error, and every answer whose status the document lists fits what the
document says (the 422s included: FastAPI's list, a sentence, or the records' form errors).

Bounded and repeatable: a fixed number of examples per operation and mode, derandomized,
without Hypothesis' example database. Two operations are left out, because they would make
the rest meaningless or never end (each is covered by its own tests):
- `DELETE /api/tokens/{token_id}` could revoke the fuzzing user's own token (ids are small
  numbers) and turn every later request into a 401;
- `GET /api/events` is an endless event stream.
Changing one's own account cannot lock the user out: the API refuses that (409), and the
run checks at the end that the token still works with every role.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.harness import Harness

EXCLUDED = {("DELETE", "/api/tokens/{token_id}"), ("GET", "/api/events")}
EXAMPLES = 15  # per operation and mode


@pytest.mark.timeout(300)
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_no_request_to_the_api_gets_a_server_error(code4: Harness) -> None:
    assert code4.service is not None
    token = await code4.add_user("fuzzer", ["operator", "coordinator", "admin"], name="Fuzz")
    code4.button("knop-balie-1").press()  # an open alarm, an incident and its aftercare to find
    await code4.alarm_when(lambda alarm: True)
    spec = (await code4.call(token, "/api/openapi.json")).json()

    failures, calls = await asyncio.to_thread(fuzz, spec, code4.service.http_url, token)

    assert not failures, f"{len(failures)} server errors or undocumented answers:\n" + "\n".join(failures)
    assert calls > 500, "the fuzzer hardly ran"
    me = (await code4.call(token, "/api/me")).json()
    assert me["roles"] == ["admin", "coordinator", "operator"], "the run kept its own account intact"


def fuzz(spec: dict[str, Any], base_url: str, token: str) -> tuple[list[str], int]:
    """Every operation but the excluded, positive and negative cases; the server errors and the
    answers that do not fit the document as curl commands, and how many calls were made."""
    schema = schemathesis.openapi.from_dict(spec)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls = 0
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in EXCLUDED:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
                def run(case: schemathesis.Case) -> None:
                    nonlocal calls
                    calls += 1
                    response = case.call(base_url=base_url, session=session, headers=headers, timeout=15)
                    if response.status_code >= 500:
                        failures.append(f"{response.status_code} {case.operation.label}: "
                                        f"{case.as_curl_command(headers=headers, base_url=base_url)}")
                    else:
                        try:
                            case.validate_response(response, checks=[response_schema_conformance])
                        except FailureGroup as exc:  # its message has the curl command
                            failures.append(f"{response.status_code} not as documented: {exc.message}")

                try:
                    run()
                except Unsatisfiable:
                    continue  # nothing to make invalid (an operation without parameters or body)
    return failures, calls
