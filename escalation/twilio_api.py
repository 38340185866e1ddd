"""Twilio through its official library, aimed at any API base (the real one, or the local
Twilio-compatible server in `simulators/` for tests and demos).

The library is synchronous; calls run in a worker thread so the dispatcher never waits.
Errors are sorted for the outbox: 5xx, 429 and network trouble are worth retrying
(TemporaryFailure); anything else Twilio refuses will not improve (DeliveryFailure).
Status callbacks and TwiML come back to code4's public URL, with the page and route in the
query string, where Twilio's signature covers them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from escalation.channels import DeliveryFailure, TemporaryFailure
from escalation.privacy import mask_phone

DEFAULT_API_BASE = "https://api.twilio.com"


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str
    public_url: str  # where Twilio reaches code4's webhooks
    api_base: str = DEFAULT_API_BASE
    timeout_s: float = 10.0
    ring_timeout_s: int = 25


class WebhookUrls:
    """code4's Twilio webhooks, as absolute URLs (Twilio signs the exact URL it calls)."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def _url(self, path: str, **query: object) -> str:
        return f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")

    def sms_inbound(self) -> str:
        return self._url("/twilio/sms/inbound")

    def sms_status(self, page_id: str, route: int, purpose: str) -> str:
        return self._url("/twilio/sms/status", p=page_id, r=route, u=purpose)

    def voice_twiml(self, page_id: str, route: int, purpose: str, attempt: int = 1) -> str:
        return self._url("/twilio/voice/twiml", p=page_id, r=route, u=purpose, n=attempt)

    def voice_gather(self, page_id: str, route: int) -> str:
        return self._url("/twilio/voice/gather", p=page_id, r=route)

    def voice_status(self, page_id: str, route: int, purpose: str) -> str:
        return self._url("/twilio/voice/status", p=page_id, r=route, u=purpose)


class TwilioApi:
    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self._client = Client(config.account_sid, config.auth_token,
                              http_client=TwilioHttpClient(timeout=config.timeout_s))
        # The library has api.twilio.com built in; its domain's base URL is the one switch.
        self._client.api.base_url = config.api_base.rstrip("/")

    async def send_sms(self, *, to: str, body: str, status_callback: str | None) -> str:
        def create() -> str:
            extra = {"status_callback": status_callback} if status_callback else {}
            message = self._client.messages.create(to=to, from_=self.config.from_number, body=body, **extra)
            return str(message.sid)

        return await self._call(create, f"SMS to {mask_phone(to)}")

    async def place_call(self, *, to: str, twiml_url: str, status_callback: str) -> str:
        def create() -> str:
            call = self._client.calls.create(
                to=to, from_=self.config.from_number, url=twiml_url, status_callback=status_callback,
                status_callback_event=["completed"], timeout=self.config.ring_timeout_s,
            )
            return str(call.sid)

        return await self._call(create, f"call to {mask_phone(to)}")

    async def _call(self, action: Callable[[], str], what: str) -> str:
        try:
            return await asyncio.to_thread(action)
        except TwilioRestException as exc:
            detail = mask_phone(f"Twilio answered {exc.status} (code {exc.code}): {exc.msg}")
            if exc.status >= 500 or exc.status == 429:
                raise TemporaryFailure(f"{what}: {detail}") from None
            raise DeliveryFailure(f"{what}: {detail}") from None
        except (requests.RequestException, TwilioException) as exc:
            raise TemporaryFailure(f"{what}: {mask_phone(str(exc))}") from None
