"""What the HTTP handlers need from the running service, handed to them by FastAPI's `Depends`.

`create_app` puts the service on `app.state.services`; handlers name what they use
(`services: ServicesDep`) and tests may replace it with `app.dependency_overrides[services]`.
The composition root (gateway/app.py) is the one implementation of `Services`.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from dispatcher.approaches import ApproachBook
from dispatcher.clock import Clock
from dispatcher.devicewatch import DeviceWatch
from dispatcher.incidents.desk import IncidentDesk
from dispatcher.metrics import EngineMetrics
from dispatcher.service import Dispatcher
from dispatcher.store.approaches import ApproachStore
from dispatcher.store.repository import Store
from escalation.links import ResponderLinks
from gateway.board.live import LiveFeed
from gateway.identity.accounts import Accounts
from gateway.identity.throttle import LoginThrottle


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

    @property
    def mqtt_connected(self) -> bool: ...

    @property
    def organisation(self) -> str: ...

    def counters(self) -> dict[str, int]: ...

    async def health_checks(self) -> dict[str, Any]: ...


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]  # Starlette's State is untyped


def secure_cookies(request: Request) -> bool:
    """Whether cookies are marked Secure: the service is reached over https."""
    return bool(request.app.state.secure_cookies)


ServicesDep = Annotated[Services, Depends(services)]
SecureCookies = Annotated[bool, Depends(secure_cookies)]


def incident_desk(services: ServicesDep) -> IncidentDesk:
    """The incident desk alone, for the record routes (follows an override of `services`)."""
    return services.desk


DeskDep = Annotated[IncidentDesk, Depends(incident_desk)]
