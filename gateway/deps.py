"""What the HTTP handlers need from the running service, handed to them by FastAPI's `Depends`.

`create_app` puts the service on `app.state.services`; handlers name what they use
(`services: ServicesDep`, `pages: Pages`) and tests may replace any provider here with
`app.dependency_overrides[provider]`. The composition root (gateway/app.py) is the one
implementation of `Services`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, HTTPException, Request

from dispatcher.approaches import ApproachBook
from dispatcher.clock import Clock
from dispatcher.devicewatch import DeviceWatch
from dispatcher.incidents.desk import IncidentDesk
from dispatcher.metrics import EngineMetrics
from dispatcher.presence import PresenceBook
from dispatcher.service import Dispatcher
from dispatcher.store.approaches import ApproachStore
from dispatcher.store.presence import PresenceStore
from dispatcher.store.push import PushSubscriptionStore
from dispatcher.store.repository import Store
from escalation.links import ResponderLinks
from gateway.board.live import LiveFeed
from gateway.identity.accounts import Accounts
from gateway.identity.devices import DeviceSessions
from gateway.identity.throttle import LoginThrottle
from gateway.settings import Settings
from gateway.web.pages import Renderer


class Services(Protocol):
    store: Store
    dispatcher: Dispatcher
    desk: IncidentDesk
    devices: DeviceWatch
    accounts: Accounts
    throttle: LoginThrottle
    live: LiveFeed
    links: ResponderLinks
    clock: Clock
    metrics: EngineMetrics
    approaches: ApproachBook
    approach_store: ApproachStore
    presence: PresenceBook
    presence_store: PresenceStore
    device_sessions: DeviceSessions  # the responder app's sign-ins (gateway/responder/app.py)
    push_book: PushSubscriptionStore | None  # None: push not configured
    vapid_public_key: str | None
    push_origins: tuple[str, ...]  # push services allowed beside the known ones (a local one in tests)
    settings: Settings  # what the pages show as configured (the map's tile source)

    @property
    def mqtt_connected(self) -> bool: ...

    @property
    def organisation(self) -> str: ...

    def counters(self) -> dict[str, int]: ...

    async def health_checks(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TwilioWebhooks:
    """What Twilio's webhooks are checked against; `create_app` has it only when Twilio is configured."""

    auth_token: str  # signs every request (X-Twilio-Signature)
    public_url: str  # the address Twilio was given: signatures are over it, not over the one asked
    first_time: Callable[[str], Awaitable[bool]]  # True the first time a request key is seen (stored: a
    # restart does not forget it)


def services(request: Request) -> Services:
    found: Services = request.app.state.services  # Starlette's State is untyped
    return found


def secure_cookies(request: Request) -> bool:
    """Whether cookies are marked Secure: the service is reached over https."""
    return bool(request.app.state.secure_cookies)


def renderer(secure: Annotated[bool, Depends(secure_cookies)]) -> Renderer:
    return Renderer(secure_cookies=secure)


def twilio_webhooks(request: Request) -> TwilioWebhooks:
    found: TwilioWebhooks | None = getattr(request.app.state, "twilio", None)
    if found is None:  # the routes are there only with Twilio configured: a test app without it
        raise HTTPException(404, "Twilio is not configured")
    return found


ServicesDep = Annotated[Services, Depends(services)]
SecureCookies = Annotated[bool, Depends(secure_cookies)]
Pages = Annotated[Renderer, Depends(renderer)]
TwilioWebhooksDep = Annotated[TwilioWebhooks, Depends(twilio_webhooks)]


def incident_desk(services: ServicesDep) -> IncidentDesk:
    """The incident desk alone, for the record routes (follows an override of `services`)."""
    return services.desk


DeskDep = Annotated[IncidentDesk, Depends(incident_desk)]
