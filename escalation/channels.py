"""The channel interface: how a decided notification reaches a person.

A channel takes a `Notify` effect (who, which route, what to say) and delivers it, or raises:
`TemporaryFailure` when trying again may help (the broker is reconnecting, the SMS gateway
answered 503), `DeliveryFailure` when it will not (no such number, channel not configured).
The dispatcher retries temporary failures for a while, then treats them as delivery failures
and moves the person to their next route. Pager (MQTT) is here; SMS, voice and the one-tap
app link plug in the same way.
"""

from __future__ import annotations

from typing import Protocol

from escalation.notices import Feedback, Notice, Notify
from escalation.plan import ChannelKind, Route


class DeliveryFailure(Exception):
    """This route will not work for this message; use the next one."""


class TemporaryFailure(Exception):
    """Worth trying again shortly."""


class Channel(Protocol):
    name: ChannelKind  # the routes it takes

    async def send(self, notify: Notify) -> str | None:
        """Deliver; return the provider's id of what was sent (a Twilio sid), if it has one."""
        ...

    async def send_notice(self, notice: Notice, route: Route) -> None:
        """Deliver a notice outside any alarm on this route (DeliveryFailure: not on this channel)."""
        ...


class FeedbackSender(Protocol):
    async def send_feedback(self, feedback: Feedback) -> None: ...


class Publisher(Protocol):
    """A connected MQTT session as channels see it."""

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None: ...
