"""What the push channel needs of wherever subscriptions are kept (dispatcher/store/push.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

# Push services of the browsers people use; a subscription elsewhere is refused, so a signed-in
# user cannot make code4 post to an address of their choosing.
KNOWN_PUSH_HOSTS = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "push.services.mozilla.com",
                    "web.push.apple.com", "notify.windows.com", "push.apple.com")
MAX_ENDPOINT = 1000


@dataclass(frozen=True)
class Subscription:
    id: int
    person_id: str
    endpoint: str
    p256dh: str
    auth: str


class SubscriptionBook(Protocol):
    def active_for(self, person_id: str) -> list[Subscription]: ...

    def mark_gone(self, subscription_id: int) -> None: ...


def endpoint_allowed(endpoint: str, extra_origins: tuple[str, ...] = ()) -> bool:
    """An https endpoint of a known push service, or one of the origins the settings add (a
    local push service in tests and demos)."""
    if not endpoint or len(endpoint) > MAX_ENDPOINT:
        return False
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin in extra_origins:
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in KNOWN_PUSH_HOSTS)
