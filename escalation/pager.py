"""The pager channel: pages over MQTT to responder pagers (`page` out, `response` in).

A page's role and updates go out as the same `page_id` with new text; the stand-down after a
cancel or close goes to the pager's `feedback` topic as `closed`, so a pager can clear it.
A publish that the broker cannot take now is a TemporaryFailure: the dispatcher retries, and
moves the person to their next route when the broker stays away.
"""

from __future__ import annotations

from typing import Literal

from devices.protocol import FeedbackPayload, PagePayload, Topics, encode
from escalation.channels import Publisher
from escalation.notices import Notice, Notify, Purpose
from escalation.plan import ChannelKind, Route
from escalation.texts import location_text, page_text

_ROLES: dict[int | None, Literal[1, 2, 3]] = {1: 1, 2: 2, 3: 3}  # what a pager shows; None for a contact


class PagerChannel:
    name = ChannelKind.PAGER

    def __init__(self, publisher: Publisher, topics: Topics) -> None:
        self._publisher = publisher
        self._topics = topics

    async def send(self, notify: Notify) -> str | None:
        if notify.purpose is Purpose.VERIFY:
            return None  # for alarm centres only
        message = notify.message
        pager = notify.route.address
        text = page_text(notify.purpose, message, notify.language)
        if notify.purpose is Purpose.STAND_DOWN:
            payload = encode(FeedbackPayload(alarm_id=message.alarm_uid, state="closed", text=text))
            await self._publisher.publish(self._topics.device(pager, "feedback"), payload, qos=1)
            return None
        page = PagePayload(
            page_id=notify.page_id,
            alarm_id=message.alarm_uid,
            code=message.code or "",
            text=text,
            location=location_text(message, notify.language),
            gathering_point=message.where.gathering_point,
            role=_ROLES.get(message.role),
        )
        await self._publisher.publish(self._topics.device(pager, "page"), encode(page), qos=1)
        return None

    async def send_notice(self, notice: Notice, route: Route) -> None:
        page = PagePayload(page_id=notice.notice_id, alarm_id="fault", code="storing", text=notice.text,
                           location=notice.location or notice.subject)
        await self._publisher.publish(self._topics.device(route.address, "page"), encode(page), qos=1)
