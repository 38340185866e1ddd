"""Twilio's calls into code4: inbound SMS, message and call status, the TwiML of a call and
the keys pressed in it.

Every request must carry a valid `X-Twilio-Signature` for the public URL it was sent to
(`CODE4_PUBLIC_URL`); anything else gets 403, is logged as a security event, and changes
nothing. A signature never expires, so every request that changes something is remembered by
its message or call id and a replay of it is refused; a key pressed counts only on the call
code4 placed for that page. Answers go through the dispatcher like any other event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from dispatcher.core import PageStatus, Responded, message_for_page
from dispatcher.core import Response as Answer
from dispatcher.outbox import Undeliverable
from dispatcher.service import Dispatcher
from escalation.ids import PageId, RecipientKey, RecipientKind
from escalation.notices import Purpose
from escalation.privacy import mask_phone
from escalation.replies import parse_reply
from escalation.texts import (
    SMS,
    VOICE,
    VOICE_LANGUAGE,
    lang,
    location_text,
    short_code,
    voice_after_answer,
    voice_contact_script,
    voice_notice_script,
    voice_page_script,
)
from escalation.twilio_api import WebhookUrls
from gateway.deps import ServicesDep, TwilioWebhooks, TwilioWebhooksDep
from gateway.web.bodies import form_fields

log = structlog.get_logger("code4.twilio")

CALL_FAILED = {"busy", "no-answer", "failed", "canceled"}
SMS_FAILED = {"failed", "undelivered"}
DIGITS = {"1": Answer.ACCEPT, "2": Answer.DECLINE, "3": Answer.ON_SCENE}
MAX_CALL_ROUNDS = 3


router = APIRouter(prefix="/twilio", tags=["twilio webhooks"], include_in_schema=False)


@dataclass(frozen=True)
class Webhooks:
    """What a webhook answers with: the dispatcher, and Twilio's settings to check a request by."""

    dispatcher: Dispatcher
    twilio: TwilioWebhooks

    @property
    def urls(self) -> WebhookUrls:
        return WebhookUrls(self.twilio.public_url)

    async def verified(self, request: Request) -> dict[str, str]:
        """The request's fields, if Twilio signed them for the URL it was given; else 403."""
        params = await form_fields(request)
        url = self.urls.base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not RequestValidator(self.twilio.auth_token).validate(url, params, signature):
            log.warning("webhook refused: bad or missing Twilio signature", security=True, path=request.url.path,
                        remote=request.client.host if request.client else None, signed=bool(signature))
            raise HTTPException(403, "invalid Twilio signature")
        return params

    async def fresh(self, request: Request, key: str) -> bool:
        """False for a request seen before: a captured one sent again."""
        if await self.twilio.first_time(key):
            return True
        log.warning("webhook refused: a repeat of a request already handled (replay?)", security=True,
                    path=request.url.path, remote=request.client.host if request.client else None)
        return False


def webhooks(services: ServicesDep, twilio: TwilioWebhooksDep) -> Webhooks:
    return Webhooks(services.dispatcher, twilio)


Hooks = Annotated[Webhooks, Depends(webhooks)]


# ---- SMS -----------------------------------------------------------------------------------


@router.post("/sms/inbound")
async def sms_inbound(request: Request, hooks: Hooks) -> Response:
    params = await hooks.verified(request)
    sender, body = params.get("From", ""), params.get("Body", "")
    if not await hooks.fresh(request, f"sms:{params.get('MessageSid') or params.get('SmsSid', '')}"):
        return _twiml(MessagingResponse())
    recipient = hooks.dispatcher.directory.recipient_for_phone(sender)
    if recipient is None:
        log.info("SMS from a number code4 does not know; not answered", sender=mask_phone(sender))
        return _twiml(MessagingResponse())
    language = _language_of(hooks.dispatcher, recipient)
    words = SMS[language]
    open_pages = hooks.dispatcher.answerable(recipient)
    codes = {short_code(state.uid): (state, page) for state, page in open_pages}
    reply = parse_reply(body, set(codes))
    if not open_pages:
        return _sms_reply(words["none_open"])
    if reply.code is None and len(open_pages) > 1:
        listed = ", ".join(f"{code} ({location_text(message_for_page(s, p), language)})"
                           for code, (s, p) in codes.items())
        return _sms_reply(words["which"].format(n=len(open_pages), list=listed, code=next(iter(codes))))
    if reply.response is None:
        return _sms_reply(words["help"])
    state, page = codes[reply.code] if reply.code else open_pages[0]
    with structlog.contextvars.bound_contextvars(alarm_id=state.uid):
        log.info("SMS answer", sender=mask_phone(sender), response=reply.response)
        await hooks.dispatcher.command(state.uid, Responded(page.page_id, Answer(reply.response), "sms", recipient))
    return _twiml(MessagingResponse())  # the role follows as a message of its own


@router.post("/sms/status")
async def sms_status(request: Request, hooks: Hooks, p: str, r: int, u: str) -> Response:
    params = await hooks.verified(request)
    status = params.get("MessageStatus", "")
    if status in SMS_FAILED and await hooks.fresh(request, f"sms-status:{params.get('MessageSid', '')}:{status}"):
        code = params.get("ErrorCode")
        reason = f"sms {status}" + (f" (error {code})" if code else "")
        await hooks.dispatcher.submit(Undeliverable(_uid(p), p, r, u, reason))
    return Response(status_code=204)


# ---- voice ---------------------------------------------------------------------------------


@router.post("/voice/twiml")
async def voice_twiml(request: Request, hooks: Hooks, p: str, r: int, u: str, n: int = 1) -> Response:
    await hooks.verified(request)
    state = await hooks.dispatcher.alarm(_uid(p))
    page = state.page(p) if state else None
    response = VoiceResponse()
    if state is None or page is None:
        response.say("Dit bericht is niet meer geldig.", language="nl-NL")
        response.hangup()
        return _twiml(response)
    recipient = state.plan.recipient(page.recipient)
    language = lang(recipient.language)
    voice = VOICE_LANGUAGE[language]
    if not state.is_open:  # closed while the phone rang: say so, ask nothing
        outcome = state.outcome.value if state.outcome else None
        notice = voice_notice_script(Purpose.STAND_DOWN, message_for_page(state, page, outcome=outcome), language)
    elif u != Purpose.PAGE.value:  # duress news or a stand-down: tell, ask nothing
        notice = voice_notice_script(Purpose(u), message_for_page(state, page), language)
    else:
        notice = None
    if notice is not None:
        response.say(notice, language=voice)
        response.hangup()
        return _twiml(response)
    message = message_for_page(state, page)
    script = (voice_contact_script if recipient.is_contact else voice_page_script)(message, language)
    gather = Gather(num_digits=1, action=hooks.urls.voice_gather(p, r), timeout=8)
    gather.say(script, language=voice)
    response.append(gather)
    if n < MAX_CALL_ROUNDS:
        response.redirect(hooks.urls.voice_twiml(p, r, u, n + 1))  # no key: say it again
    else:
        response.say(VOICE[language]["goodbye"], language=voice)
        response.hangup()
    return _twiml(response)


@router.post("/voice/gather")
async def voice_gather(request: Request, hooks: Hooks, p: str, r: int) -> Response:
    params = await hooks.verified(request)
    digits = params.get("Digits", "")
    uid = _uid(p)
    state = await hooks.dispatcher.alarm(uid)
    page = state.page(p) if state else None
    response = VoiceResponse()
    if state is None or page is None:
        response.hangup()
        return _twiml(response)
    recipient = state.plan.recipient(page.recipient)
    language = lang(recipient.language)
    answer = DIGITS.get(digits)
    if recipient.is_contact and answer is not Answer.ACCEPT:
        answer = None  # an outside contact only confirms
    call_sid = params.get("CallSid", "")
    if answer is not None and call_sid not in await hooks.dispatcher.calls_placed(p):
        log.warning("key refused: not on a call code4 placed for this page", security=True, page_id=p)
        response.hangup()
        return _twiml(response)
    if answer is not None and not await hooks.fresh(request, f"gather:{call_sid}:{p}:{digits}"):
        response.hangup()
        return _twiml(response)
    if answer is None:
        if digits != "*":
            response.say(VOICE[language]["again"], language=VOICE_LANGUAGE[language])
        response.redirect(hooks.urls.voice_twiml(p, r, Purpose.PAGE.value))
        return _twiml(response)
    with structlog.contextvars.bound_contextvars(alarm_id=uid):
        log.info("key pressed on a call", response=answer.value, digits=digits)
        called = hooks.dispatcher.directory.recipient_for_phone(params.get("To", "")) or ""
        new_state = await hooks.dispatcher.command(uid, Responded(p, answer, "voice", called))
    if new_state is not None:
        message = message_for_page(new_state, page)
        response.say(voice_after_answer(answer.value, message, language, contact=recipient.is_contact),
                     language=VOICE_LANGUAGE[language])
    response.hangup()
    return _twiml(response)


@router.post("/voice/status")
async def voice_status(request: Request, hooks: Hooks, p: str, r: int, u: str) -> Response:
    params = await hooks.verified(request)
    status = params.get("CallStatus", "")
    reason = None
    if status in CALL_FAILED:
        reason = f"call {status}"
    elif status == "completed" and u == Purpose.PAGE.value:
        state = await hooks.dispatcher.alarm(_uid(p))
        page = state.page(p) if state else None
        if page is not None and page.status is PageStatus.PENDING and page.route == r:
            reason = "call ended without an answer"
    if reason and await hooks.fresh(request, f"call-status:{params.get('CallSid', '')}:{status}"):
        await hooks.dispatcher.submit(Undeliverable(_uid(p), p, r, u, reason))
    return Response(status_code=204)


def _uid(page_id: str) -> str:
    try:
        return PageId.parse(page_id).alarm_uid
    except ValueError:
        return page_id  # no alarm has it: the lookup finds nothing, as for any unknown page


def _language_of(dispatcher: Dispatcher, recipient: RecipientKey) -> str:
    directory = dispatcher.directory
    found = directory.people.get(recipient.id) if recipient.kind is RecipientKind.PERSON \
        else directory.contacts.get(recipient.id)
    return lang(found.language if found else None)


def _sms_reply(text: str) -> Response:
    response = MessagingResponse()
    response.message(text)
    return _twiml(response)


def _twiml(response: MessagingResponse | VoiceResponse) -> Response:
    return Response(content=str(response), media_type="application/xml")

