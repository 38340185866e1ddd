"""A local Twilio-compatible server: the phones of a test or demo.

It speaks Twilio's real REST paths, so the official `twilio` library talks to it unchanged
(only its API base points here):

* `POST /2010-04-01/Accounts/{sid}/Messages.json` — an SMS: queued → sent → delivered (or
  failed / undelivered when told so for that number), each step posted to the StatusCallback;
* `POST /2010-04-01/Accounts/{sid}/Calls.json` — a call: rings, is answered, fetches the TwiML
  at `Url`, "speaks" every `<Say>` (kept as the call's transcript), and presses digits to the
  `<Gather>` action; or is busy / not answered / fails when told so;
* phones text back: an inbound SMS is posted to the configured webhook as Twilio would, and a
  TwiML `<Message>` in the answer is delivered to that phone.

Every request to code4 carries a valid `X-Twilio-Signature` computed with the auth token.
Per number it can be told to answer the API with 5xx, to answer slowly, or to report a
message undelivered. `GET /` is a browsable log of all traffic; `/_sim/...` is the control
API that `code4 simulate phone` and the tests use.
"""

from __future__ import annotations

import asyncio
import base64
import html
import itertools
import secrets
import xml.etree.ElementTree as ET  # parses TwiML from the code4 under test only
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urljoin

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse
from twilio.request_validator import RequestValidator

from escalation.privacy import mask_phone
from simulators.local_server import LocalServer
from simulators.twilio_modes import CALL_FAILURES, SMS_FAILURES

API = "/2010-04-01/Accounts/{account}"
_T = TypeVar("_T")


@dataclass
class Rules:
    """How one phone number behaves."""

    sms: str = "deliver"  # one of twilio_modes.SMS_MODES
    voice: str = "answer"  # one of twilio_modes.VOICE_MODES
    press: str | None = None  # digits this phone presses by itself when a call asks for them
    press_after: float = 0.0


@dataclass
class SimMessage:
    sid: str
    to: str
    from_: str
    body: str
    direction: str  # outbound-api (code4 → phone) | inbound (phone → code4) | outbound-reply
    status: str
    created: datetime
    status_callback: str | None = None
    error_code: int | None = None


@dataclass
class SimCall:
    sid: str
    to: str
    from_: str
    url: str
    status: str
    created: datetime
    status_callback: str | None = None
    heard: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    digits: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


@dataclass
class Callback:
    url: str
    params: dict[str, str]
    status: int | None
    at: datetime



class TwilioSimulator:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sms_webhook: str | None = None,
        step_delay: float = 0.05,
        slow_seconds: float = 3.0,
        gather_wait: float | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sms_webhook = sms_webhook
        self.step_delay = step_delay
        self.slow_seconds = slow_seconds
        self.gather_wait = gather_wait  # None: as long as the TwiML's Gather timeout says
        self.messages: list[SimMessage] = []
        self.calls: list[SimCall] = []
        self.callbacks: list[Callback] = []
        self.api_requests: list[tuple[str, str, int]] = []  # (kind, to, HTTP status answered)
        self.rules: dict[str, Rules] = {}
        self._signer = RequestValidator(auth_token)
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = self._build_app()
        self._local = LocalServer(self.app)

    # ---- running ----------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        return self._local.port

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self._local.start(host, port)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._local.stop()

    def rule(self, number: str) -> Rules:
        return self.rules.setdefault(number, Rules())

    # ---- what tests and testers do with the phones ---------------------------------------------

    async def phone_sends_sms(self, from_number: str, body: str, to: str | None = None) -> list[str]:
        """A phone texts code4; returns the replies code4 sent back in its TwiML answer."""
        if not self.sms_webhook:
            raise RuntimeError("no SMS webhook configured for inbound messages")
        message = SimMessage(self._sid("SM"), to or "code4", from_number, body, "inbound", "received", _now())
        await self._record_message(message)
        params = {"MessageSid": message.sid, "AccountSid": self.account_sid, "From": from_number,
                  "To": to or "", "Body": body, "NumMedia": "0", "ApiVersion": "2010-04-01"}
        response = await self._post(self.sms_webhook, params)
        replies = []
        if response is not None and response.status_code == 200 and response.text.strip():
            for element in ET.fromstring(response.text).iter("Message"):  # noqa: S314
                text = "".join(element.itertext()).strip()
                replies.append(text)
                await self._record_message(SimMessage(self._sid("SM"), from_number, to or "code4", text,
                                                      "outbound-reply", "delivered", _now()))
        return replies

    async def press(self, number: str, digits: str) -> None:
        """The phone on the latest live call to `number` presses keys."""
        call = next((c for c in reversed(self.calls) if c.to == number and c.status == "in-progress"), None)
        if call is None:
            raise LookupError(f"no call in progress to {mask_phone(number)}")
        await call.digits.put(digits)

    def inbox(self, number: str) -> list[SimMessage]:
        return [m for m in self.messages if m.to == number and m.direction != "inbound"]

    def calls_to(self, number: str) -> list[SimCall]:
        return [c for c in self.calls if c.to == number]

    async def wait_for(self, predicate: Callable[[], _T | None], within: float = 10.0) -> _T:
        """Until `predicate()` returns something truthy; returns it."""
        async with self._changed:
            result: _T | None = None

            def check() -> bool:
                nonlocal result
                result = predicate()
                return bool(result)

            await asyncio.wait_for(self._changed.wait_for(check), within)
            return cast("_T", result)  # check() said it is truthy, so not None

    async def message_to(self, number: str, contains: str = "", within: float = 10.0, *, after: int = 0) -> SimMessage:
        def find() -> SimMessage | None:
            return next((m for m in self.inbox(number)[after:] if contains in m.body), None)
        return await self.wait_for(find, within)

    async def call_to(self, number: str, status: str = "in-progress", within: float = 10.0) -> SimCall:
        def find() -> SimCall | None:
            return next((c for c in self.calls_to(number) if c.status == status), None)
        return await self.wait_for(find, within)

    # ---- the REST API ------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Local Twilio-compatible server (code4 simulators)", docs_url=None, redoc_url=None,
                      openapi_url=None)
        self._add_twilio_api(app)
        self._add_control_api(app)
        return app

    def _add_twilio_api(self, app: FastAPI) -> None:
        """The part of Twilio's REST API that code4 uses: send a text, place a call, look either up."""
        self._add_messages_api(app)
        self._add_calls_api(app)

    def _add_messages_api(self, app: FastAPI) -> None:
        """Send a text, look it up."""

        @app.post(API + "/Messages.json")
        async def create_message(account: str, request: Request) -> JSONResponse:
            if (refused := self._authenticate(account, request)) is not None:
                return refused
            form = await _form(request)
            to = form.get("To", "")
            rules = self.rule(to)
            failure = await self._api_trouble("sms", to, rules.sms)
            if failure is not None:
                return failure
            message = SimMessage(self._sid("SM"), to, form.get("From", ""), form.get("Body", ""), "outbound-api",
                                 "queued", _now(), form.get("StatusCallback"))
            await self._record_message(message)
            self._spawn(self._deliver_sms(message, rules))
            return JSONResponse(self._message_json(message), status_code=201)

        @app.get(API + "/Messages/{sid}.json")
        async def get_message(account: str, sid: str, request: Request) -> JSONResponse:
            if (refused := self._authenticate(account, request)) is not None:
                return refused
            message = next((m for m in self.messages if m.sid == sid), None)
            if message is None:
                return _error(404, 20404, f"The requested resource {sid} was not found")
            return JSONResponse(self._message_json(message))

    def _add_calls_api(self, app: FastAPI) -> None:
        """Place a call, look it up."""

        @app.post(API + "/Calls.json")
        async def create_call(account: str, request: Request) -> JSONResponse:
            if (refused := self._authenticate(account, request)) is not None:
                return refused
            form = await _form(request)
            to = form.get("To", "")
            rules = self.rule(to)
            failure = await self._api_trouble("voice", to, rules.voice)
            if failure is not None:
                return failure
            call = SimCall(self._sid("CA"), to, form.get("From", ""), form.get("Url", ""), "queued", _now(),
                           form.get("StatusCallback"))
            self.calls.append(call)
            await self._notify()
            self._spawn(self._run_call(call, rules))
            return JSONResponse(self._call_json(call), status_code=201)

        @app.get(API + "/Calls/{sid}.json")
        async def get_call(account: str, sid: str, request: Request) -> JSONResponse:
            if (refused := self._authenticate(account, request)) is not None:
                return refused
            call = next((c for c in self.calls if c.sid == sid), None)
            if call is None:
                return _error(404, 20404, f"The requested resource {sid} was not found")
            return JSONResponse(self._call_json(call))

    def _add_control_api(self, app: FastAPI) -> None:
        """What a test or `code4 simulate phone` does to the phones, and the traffic log."""

        @app.post("/_sim/phones/{number}/sms")
        async def phone_sms(number: str, request: Request) -> JSONResponse:
            body = (await request.json()).get("body", "")
            return JSONResponse({"replies": await self.phone_sends_sms(number, body)})

        @app.post("/_sim/phones/{number}/press")
        async def phone_press(number: str, request: Request) -> JSONResponse:
            try:
                await self.press(number, (await request.json())["digits"])
            except LookupError as exc:
                raise HTTPException(404, str(exc)) from None
            return JSONResponse({"ok": True})

        @app.put("/_sim/numbers/{number}")
        async def set_rules(number: str, request: Request) -> JSONResponse:
            rules = self.rule(number)
            for key, value in (await request.json()).items():
                if hasattr(rules, key):
                    setattr(rules, key, value)
            return JSONResponse(vars(rules))

        @app.get("/_sim/traffic")
        async def traffic() -> JSONResponse:
            return JSONResponse(jsonable_encoder({
                "messages": [_public(vars(m)) for m in self.messages],
                "calls": [{k: v for k, v in vars(c).items() if k != "digits"} for c in self.calls],
                "callbacks": [vars(c) for c in self.callbacks],
            }), headers={"Cache-Control": "no-store"})

        @app.get("/", response_class=HTMLResponse)
        async def log_page() -> str:
            return self._log_html()

    def _authenticate(self, account: str, request: Request) -> JSONResponse | None:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if account != self.account_sid or not secrets.compare_digest(request.headers.get("authorization", ""),
                                                                        expected):
            return _error(401, 20003, "Authenticate")
        return None

    async def _api_trouble(self, kind: str, to: str, mode: str) -> JSONResponse | None:
        if mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if mode == "5xx":
            self.api_requests.append((kind, to, 503))
            await self._notify()
            return _error(503, 20500, "Service unavailable (simulated)")
        self.api_requests.append((kind, to, 201))
        return None

    # ---- messages and calls -------------------------------------------------------------------

    async def _deliver_sms(self, message: SimMessage, rules: Rules) -> None:
        for status in ("sent", rules.sms if rules.sms in SMS_FAILURES else "delivered"):
            await asyncio.sleep(self.step_delay)
            message.status = status
            message.error_code = SMS_FAILURES.get(status)
            await self._notify()
            if message.status_callback:
                params = {"MessageSid": message.sid, "SmsSid": message.sid, "AccountSid": self.account_sid,
                          "From": message.from_, "To": message.to, "MessageStatus": status, "SmsStatus": status,
                          "ApiVersion": "2010-04-01"}
                if message.error_code:
                    params["ErrorCode"] = str(message.error_code)
                await self._post(message.status_callback, params)

    async def _run_call(self, call: SimCall, rules: Rules) -> None:
        await asyncio.sleep(self.step_delay)
        call.status = "ringing"
        await self._notify()
        await asyncio.sleep(self.step_delay)
        if rules.voice in CALL_FAILURES:
            await self._end_call(call, rules.voice)
            return
        call.status = "in-progress"
        await self._notify()
        try:
            await self._twiml(call, call.url, rules, fetches=0)
        finally:
            await self._end_call(call, "completed")

    async def _twiml(self, call: SimCall, url: str, rules: Rules, *, fetches: int,
                     extra: dict[str, str] | None = None) -> None:
        if fetches >= 6:
            return  # a real call would not loop forever either
        response = await self._post(url, {**self._call_params(call), **(extra or {})})
        if response is None or response.status_code != 200:
            status = response.status_code if response is not None else "-"
            call.heard.append(f"[an application error occurred: HTTP {status}]")
            return
        for element in ET.fromstring(response.text):  # noqa: S314
            if element.tag == "Say":
                call.heard.append("".join(element.itertext()).strip())
            elif element.tag == "Gather":
                for say in element.iter("Say"):
                    call.heard.append("".join(say.itertext()).strip())
                await self._notify()
                digits = await self._digits(call, rules, float(element.get("timeout", "5")))
                if digits is not None:
                    call.pressed.append(digits)
                    await self._notify()
                    action = urljoin(url, element.get("action", url))
                    await self._twiml(call, action, rules, fetches=fetches + 1, extra={"Digits": digits})
                    return
            elif element.tag == "Redirect":
                await self._twiml(call, urljoin(url, "".join(element.itertext()).strip()), rules,
                                  fetches=fetches + 1)
                return
            elif element.tag == "Hangup":
                return
        await self._notify()

    async def _digits(self, call: SimCall, rules: Rules, gather_timeout: float) -> str | None:
        if rules.press:
            await asyncio.sleep(rules.press_after)
            digits, rules.press = rules.press, None  # a phone presses its keys once
            return digits
        try:
            wait = self.gather_wait if self.gather_wait is not None else gather_timeout
            return await asyncio.wait_for(call.digits.get(), wait)
        except TimeoutError:
            return None

    async def _end_call(self, call: SimCall, status: str) -> None:
        call.status = status
        await self._notify()
        if call.status_callback:
            await self._post(call.status_callback, {**self._call_params(call), "CallDuration": "12"})

    def _call_params(self, call: SimCall) -> dict[str, str]:
        return {"CallSid": call.sid, "AccountSid": self.account_sid, "From": call.from_, "To": call.to,
                "CallStatus": call.status, "Direction": "outbound-api", "ApiVersion": "2010-04-01"}

    # ---- plumbing --------------------------------------------------------------------------------

    async def _post(self, url: str, params: dict[str, str]) -> httpx.Response | None:
        signature = self._signer.compute_signature(url, params)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        except httpx.HTTPError:
            response = None
        self.callbacks.append(Callback(url, params, response.status_code if response else None, _now()))
        await self._notify()
        return response

    async def _record_message(self, message: SimMessage) -> None:
        self.messages.append(message)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _spawn(self, job: Any) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    _counter = itertools.count(1)

    def _sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):032x}"

    def _message_json(self, message: SimMessage) -> dict[str, Any]:
        return {"sid": message.sid, "account_sid": self.account_sid, "to": message.to, "from": message.from_,
                "body": message.body, "status": message.status, "direction": message.direction,
                "num_segments": "1", "error_code": message.error_code, "error_message": None,
                "date_created": format_datetime(message.created), "date_updated": format_datetime(_now()),
                "date_sent": None, "api_version": "2010-04-01", "price": None, "price_unit": "EUR",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json"}

    def _call_json(self, call: SimCall) -> dict[str, Any]:
        return {"sid": call.sid, "account_sid": self.account_sid, "to": call.to, "from": call.from_,
                "status": call.status, "direction": "outbound-api", "date_created": format_datetime(call.created),
                "date_updated": format_datetime(_now()), "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json"}

    def _log_html(self) -> str:
        rows = []
        events: list[tuple[datetime, str]] = []
        for m in self.messages:
            arrow = "phone → code4" if m.direction == "inbound" else "code4 → phone"
            phone = m.from_ if m.direction == "inbound" else m.to
            events.append((m.created, f"<td>SMS</td><td>{arrow}</td><td>{html.escape(phone)}</td>"
                           f"<td>{html.escape(m.status)}</td><td>{html.escape(m.body)}</td>"))
        for c in self.calls:
            said = "<br>".join(html.escape(text) for text in c.heard)
            keys = f"<br><b>pressed:</b> {html.escape(', '.join(c.pressed))}" if c.pressed else ""
            events.append((c.created, f"<td>call</td><td>code4 → phone</td><td>{html.escape(c.to)}</td>"
                           f"<td>{html.escape(c.status)}</td><td>{said}{keys}</td>"))
        for at, cells in sorted(events, key=lambda e: e[0], reverse=True):
            rows.append(f"<tr><td>{at:%H:%M:%S}</td>{cells}</tr>")
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta http-equiv='refresh' content='2'>"
            "<title>Local Twilio: traffic</title><style>body{font-family:sans-serif;margin:1em}"
            "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:4px;"
            "vertical-align:top;text-align:left}</style></head><body>"
            f"<h1>Local Twilio server</h1><p>Account {html.escape(self.account_sid)} · {len(self.messages)} "
            f"messages · {len(self.calls)} calls · {len(self.callbacks)} callbacks to code4</p>"
            "<table><tr><th>time</th><th>kind</th><th>direction</th><th>phone</th><th>status</th>"
            f"<th>content</th></tr>{''.join(rows)}</table></body></html>"
        )


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "more_info": "", "status": status}, status_code=status)


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k.rstrip("_"): v for k, v in data.items()}


def _now() -> datetime:
    return datetime.now(UTC)
