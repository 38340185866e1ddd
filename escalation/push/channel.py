"""The push channel: a Web Push (RFC 8030) to every device a person subscribed in the app.

The payload is encrypted for each subscription (RFC 8291, aes128gcm, by pywebpush / http-ece)
and signed for the push service with code4's VAPID key (RFC 8292); urgency `high` and a short
TTL, because a page that arrives after the step has moved on only confuses. A page carries the
page's signed answer link, so the notification's "Ik kom" / "Kan niet" answer without opening
the app.

What the push service answers decides what the outbox does: 201 is delivered; 404 or 410 means
the subscription is gone (marked so, and the person is told in the app); 429 and 5xx are
TemporaryFailure (the outbox retries, then moves the person to their next route). A delivered
push is not an answer: a page not answered within `answer_within_s` is reported back as
unanswered on this route, so the core moves the person to their next channel as it does when an
SMS fails. Push as a person's last channel is repeated instead, until they answer, the page moves
on or the alarm ends (at most `MAX_REPEATS` times): it is never a reason to count them unreachable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

import httpx
import structlog
from pywebpush import WebPusher

from escalation.channels import DeliveryFailure, TemporaryFailure
from escalation.links import ResponderLinks
from escalation.notices import Notice, Notify, Purpose
from escalation.plan import ChannelKind, Route
from escalation.push.subscriptions import Subscription, SubscriptionBook
from escalation.push.vapid import VapidKeys
from escalation.texts import headline, lang, page_text

log = structlog.get_logger("code4.push")

ACTIONS = {"nl": {"accept": "Ik kom", "decline": "Kan niet"}, "en": {"accept": "I'm coming", "decline": "Can't come"}}
MAX_PAYLOAD = 3000  # push services take 4 KiB of ciphertext; the text is cut to fit
MAX_REPEATS = 10


class Unanswered(Enum):
    """What the service made of a push left unanswered."""

    MOVED_ON = "moved_on"  # reported: the person is tried on their next channel
    REPEAT = "repeat"  # push is their last channel and the page still waits: push again
    OVER = "over"  # answered, moved on or closed meanwhile: nothing to do


class Outcome(Enum):
    DELIVERED = "delivered"
    GONE = "gone"
    LATER = "later"
    REFUSED = "refused"


@dataclass(frozen=True)
class PushSettings:
    ttl_s: int = 60  # a push the phone cannot take within a minute is dropped: the next route takes over
    answer_within_s: float = 30.0  # a page pushed but not answered by then counts as unanswered


class PushChannel:
    name = ChannelKind.PUSH

    def __init__(self, *, book: SubscriptionBook, keys: VapidKeys, links: ResponderLinks,
                 client: httpx.AsyncClient, now_s: Callable[[], int], sleep: Callable[[float], Awaitable[None]],
                 unanswered: Callable[[Notify, str], Awaitable[Unanswered]],
                 settings: PushSettings | None = None) -> None:
        self._book, self._keys, self._links, self._client = book, keys, links, client
        self._now_s, self._sleep, self._unanswered = now_s, sleep, unanswered
        self._settings = settings or PushSettings()
        self._watches: set[asyncio.Task[None]] = set()

    async def send(self, notify: Notify) -> str | None:
        if not _worth_a_push(notify):
            return None
        await self._deliver(notify)
        if notify.purpose is Purpose.PAGE:
            self._watch(notify)
        return None

    async def _deliver(self, notify: Notify) -> None:
        """To each of the person's subscriptions; delivered when one push service took it."""
        person = notify.route.address.partition(":")[2]
        subscriptions = await asyncio.to_thread(self._book.active_for, person)
        if not subscriptions:
            raise DeliveryFailure(f"{notify.name} has no push subscription")
        payload = json.dumps(self._payload(notify), ensure_ascii=False).encode()
        outcomes = await asyncio.gather(*(self._push(s, payload, notify.page_id) for s in subscriptions))
        if Outcome.DELIVERED in outcomes:
            return
        if Outcome.LATER in outcomes:
            raise TemporaryFailure("the push service asks to try again later")
        if Outcome.REFUSED in outcomes:
            raise DeliveryFailure("the push service refused the push")
        raise DeliveryFailure("every push subscription has expired")

    async def send_notice(self, notice: Notice, route: Route) -> None:
        raise DeliveryFailure("push does not carry notices")

    def _payload(self, notify: Notify) -> dict[str, object]:
        language = lang(notify.language)
        message = notify.message
        payload: dict[str, object] = {
            "page_id": notify.page_id, "purpose": notify.purpose.value, "lang": language,
            "title": headline(message, language), "body": page_text(notify.purpose, message, language)[:MAX_PAYLOAD],
            "open": "/app",
        }
        if notify.purpose is Purpose.PAGE:
            payload["answer"] = self._links.url(notify.page_id) + "/respond"  # signed for this page only
            payload["actions"] = [{"action": key, "title": title} for key, title in ACTIONS[language].items()]
        return payload

    async def _push(self, subscription: Subscription, payload: bytes, page_id: str) -> Outcome:
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            body = WebPusher(info).encode(payload, "aes128gcm")["body"]
        except Exception as exc:  # keys the browser gave that do not make a key: the subscription is useless
            log.warning("push subscription unusable; removed", subscription=subscription.id, error=str(exc))
            await asyncio.to_thread(self._book.mark_gone, subscription.id)
            return Outcome.GONE
        headers = {"TTL": str(self._settings.ttl_s), "Urgency": "high", "Content-Encoding": "aes128gcm",
                   "Content-Type": "application/octet-stream", "Topic": _topic(page_id),
                   "Authorization": self._keys.authorization(subscription.endpoint, self._now_s())}
        try:
            answer = await self._client.post(subscription.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("push service not reachable", subscription=subscription.id,
                        error=str(exc) or type(exc).__name__)
            return Outcome.LATER
        return await self._judge(subscription, answer.status_code)

    async def _judge(self, subscription: Subscription, status: int) -> Outcome:
        if status in (200, 201, 202):
            return Outcome.DELIVERED
        if status in (404, 410):
            log.info("push subscription expired; removed", subscription=subscription.id, status=status)
            await asyncio.to_thread(self._book.mark_gone, subscription.id)
            return Outcome.GONE
        if status == 429 or status >= 500:
            log.warning("push service busy", subscription=subscription.id, status=status)
            return Outcome.LATER
        # 400 (a payload or header it cannot take), 403 (our VAPID key refused), 413: not this route
        log.error("push refused by the push service", subscription=subscription.id, status=status)
        return Outcome.REFUSED

    def _watch(self, notify: Notify) -> None:
        """After `answer_within_s` without an answer: the next channel, or the push again."""
        reason = f"push not answered within {self._settings.answer_within_s:g} s"

        async def later() -> None:
            for repeat in range(1, MAX_REPEATS + 1):
                await self._sleep(self._settings.answer_within_s)
                if await self._unanswered(notify, reason) is not Unanswered.REPEAT:
                    return
                try:
                    await self._deliver(notify)
                    log.info("page pushed again: not answered yet", page_id=notify.page_id, repeat=repeat)
                except (DeliveryFailure, TemporaryFailure) as exc:  # tried again at the next round
                    log.warning("repeated push not delivered", page_id=notify.page_id, error=str(exc))

        task = asyncio.get_running_loop().create_task(later(), name=f"push-watch-{notify.page_id}")
        self._watches.add(task)
        task.add_done_callback(self._watches.discard)


def _worth_a_push(notify: Notify) -> bool:
    purpose = notify.purpose
    if purpose is Purpose.VERIFY:
        return False
    if purpose is Purpose.UPDATE:
        return notify.message.duress
    if purpose is Purpose.STAND_DOWN:
        return notify.message.coming
    return True


def _topic(page_id: str) -> str:
    """RFC 8030 Topic (base64url, at most 32 characters): a repeat of a page replaces the one waiting."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in page_id)[-32:]
