"""Phones as channels: SMS, voice calls, and the one-tap link (`app`).

What each sends, so nobody gets a message storm: one page per person per step; the role only
to someone who answered; news of others joining only where it shows without a new message
(pager, the live page), except duress, which everyone coming must hear; a stand-down only to
those who are coming. The one-tap page itself shows all of it live.
"""

from __future__ import annotations

from collections.abc import Callable

from escalation.channels import DeliveryFailure
from escalation.links import ResponderLinks
from escalation.notices import Notice, Notify, Purpose
from escalation.plan import ChannelKind, Route
from escalation.texts import app_link_text, contact_sms_text, sms_text
from escalation.twilio_api import TwilioApi, WebhookUrls

# A recipient key to the phone number the agreement file gives it now (None: it has none).
PhoneBook = Callable[[str], "str | None"]


def _number(phones: PhoneBook, recipient: str, name: str) -> str:
    number = phones(recipient)
    if number is None:
        raise DeliveryFailure(f"no phone number for {name} in the agreement file")
    return number


class _NoNotices:
    async def send_notice(self, notice: Notice, route: Route) -> None:
        raise DeliveryFailure(f"{route.channel} does not carry notices")


def _worth_a_message(notify: Notify) -> bool:
    purpose, message = notify.purpose, notify.message
    if purpose is Purpose.VERIFY:
        return False  # for alarm centres only
    if purpose is Purpose.UPDATE:
        return message.duress
    if purpose is Purpose.STAND_DOWN:
        return message.coming  # they were on their way; the others were never told to come
    return True


class SmsChannel:
    name = ChannelKind.SMS

    def __init__(self, api: TwilioApi, urls: WebhookUrls, links: ResponderLinks, phones: PhoneBook) -> None:
        self._api, self._urls, self._links, self._phones = api, urls, links, phones

    async def send(self, notify: Notify) -> str | None:
        if not _worth_a_message(notify):
            return None
        if notify.recipient.is_contact and notify.purpose is Purpose.PAGE:
            body = contact_sms_text(notify.message, notify.language)  # the police: facts, no link to tap
        else:
            link = self._links.url(notify.page_id) if notify.purpose is Purpose.PAGE else None
            body = sms_text(notify.purpose, notify.message, notify.language, link)
        return await self._api.send_sms(
            to=_number(self._phones, notify.route.address, notify.name),
            body=body,
            status_callback=self._urls.sms_status(notify.page_id, notify.route_index, notify.purpose.value),
        )

    async def send_notice(self, notice: Notice, route: Route) -> None:
        await self._api.send_sms(to=_number(self._phones, route.address, notice.name), body=notice.text,
                                 status_callback=None)


class AppLinkChannel(_NoNotices):
    """The one-tap responder page, reached by a short SMS with its signed link. Once open, the
    page shows the role and who else is coming by itself."""

    name = ChannelKind.APP

    def __init__(self, api: TwilioApi, urls: WebhookUrls, links: ResponderLinks, phones: PhoneBook) -> None:
        self._api, self._urls, self._links, self._phones = api, urls, links, phones

    async def send(self, notify: Notify) -> str | None:
        if notify.purpose is Purpose.ROLE or not _worth_a_message(notify):
            return None
        if notify.purpose in (Purpose.PAGE, Purpose.INFORM):
            body = app_link_text(notify.message, notify.language, self._links.url(notify.page_id), notify.purpose)
        else:
            body = sms_text(notify.purpose, notify.message, notify.language)
        return await self._api.send_sms(
            to=_number(self._phones, notify.route.address, notify.name), body=body,
            status_callback=self._urls.sms_status(notify.page_id, notify.route_index, notify.purpose.value),
        )


class VoiceChannel(_NoNotices):
    """A call that speaks the page and takes a key. The words are fetched by Twilio from
    code4's TwiML webhook when the call is answered, so they are current then."""

    name = ChannelKind.VOICE

    def __init__(self, api: TwilioApi, urls: WebhookUrls, phones: PhoneBook) -> None:
        self._api, self._urls, self._phones = api, urls, phones

    async def send(self, notify: Notify) -> str | None:
        if notify.purpose is Purpose.ROLE or not _worth_a_message(notify):
            return None  # the role is spoken in the call that was answered
        purpose = notify.purpose.value
        return await self._api.place_call(
            to=_number(self._phones, notify.route.address, notify.name),
            twiml_url=self._urls.voice_twiml(notify.page_id, notify.route_index, purpose),
            status_callback=self._urls.voice_status(notify.page_id, notify.route_index, purpose),
        )
