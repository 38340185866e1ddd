"""The words people read: pages, messages and device feedback, in Dutch or English.

Short enough for a pager screen; the most important fact first. Channels call these with the
recipient's language; anything but "en" reads Dutch, the users' language.
"""

from __future__ import annotations

from escalation.notices import Feedback, FeedbackState, Helper, Message, Purpose

KIND = {
    "nl": {"panic": "paniekalarm", "assist": "assistentie gevraagd", "man_down": "man-down (persoon ligt)",
           "no_movement": "geen beweging", "checkin_missed": "check-in gemist"},
    "en": {"panic": "panic alarm", "assist": "assistance requested", "man_down": "man down (person is lying)",
           "no_movement": "no movement", "checkin_missed": "missed check-in"},
}
ROLE = {
    "nl": {1: "Jij bent nummer 1: jij benadert de persoon.",
           2: "Jij bent nummer 2: back-up, ontferm je over de collega.",
           3: "Jij bent nummer 3: stand-by, bel zo nodig de politie."},
    "en": {1: "You are number 1: you approach the person.",
           2: "You are number 2: back-up, look after the colleague.",
           3: "You are number 3: stand by, call the police if needed."},
}
OUTCOME = {
    "nl": {"cancelled": "Alarm ingetrokken: niet meer komen.", "resolved": "Alarm afgesloten: opgelost.",
           "false_alarm": "Loos alarm: niet meer komen.", "drill": "Oefening afgesloten."},
    "en": {"cancelled": "Alarm cancelled: no need to come.", "resolved": "Alarm closed: resolved.",
           "false_alarm": "False alarm: no need to come.", "drill": "Drill closed."},
}
WORDS = {
    "nl": {"code": "Code", "assist": "Assistentie", "silent": "stil alarm", "gather": "Verzamelen",
           "unknown_device": "Onbekend apparaat", "coming": "Onderweg", "duress":
           "DWANG: het alarm is onder dwang ingetrokken. Voorzichtig benaderen.", "position": "positie",
           "of": "van", "received": "Alarm ontvangen. Hulp wordt gezocht.", "help_coming": "Hulp komt",
           "on_scene": "Hulp is ter plaatse.", "closed": "Alarm afgesloten.",
           "wrong_pin": "Annuleren mislukt: onjuiste PIN.", "pin_required": "Annuleren vraagt een PIN.",
           "police": "politie", "drill": "OEFENING", "note": "Notitie",
           "approach": "Bekende bezoeker, afgesproken aanpak"},
    "en": {"code": "Code", "assist": "Assistance", "silent": "silent alarm", "gather": "Gather at",
           "unknown_device": "Unknown device", "coming": "On the way", "duress":
           "DURESS: the alarm was cancelled under duress. Approach with care.", "position": "position",
           "of": "of", "received": "Alarm received. Looking for help.", "help_coming": "Help is coming",
           "on_scene": "Help is on scene.", "closed": "Alarm closed.",
           "wrong_pin": "Cancel failed: wrong PIN.", "pin_required": "Cancelling needs a PIN.",
           "police": "police", "drill": "DRILL", "note": "Note",
           "approach": "Known visitor, agreed approach"},
}


def lang(language: str | None) -> str:
    return "en" if language == "en" else "nl"


def location_text(message: Message, language: str) -> str:
    """Where to go, as precisely as known."""
    words = WORDS[lang(language)]
    if message.unknown_device:
        return f"{words['unknown_device']} {message.device_id}"
    parts = []
    if message.person_name and not message.where.location_name:
        parts.append(f"{message.person_name}")
    described = message.where.describe()
    if described:
        parts.append(described)
    position = message.position
    if position is not None and position.lat is not None and position.lon is not None:
        accuracy = f" ±{position.accuracy_m:.0f} m" if position.accuracy_m is not None else ""
        parts.append(f"{words['position']} {position.lat:.5f},{position.lon:.5f}{accuracy}")
    return ", ".join(parts) or message.device_id


def headline(message: Message, language: str) -> str:
    words = WORDS[lang(language)]
    return f"{words['code']} {message.code}" if message.code else words["assist"]


def helpers_text(helpers: tuple[Helper, ...], language: str) -> str:
    police = WORDS[lang(language)]["police"]
    return ", ".join(f"{h.name} ({h.role})" if h.role else f"{h.name} ({police})" for h in helpers)


def page_text(purpose: Purpose, message: Message, language: str) -> str:
    """The body of a page or SMS; location and gathering point travel in fields of their own
    on a pager, but are repeated here so a text-only screen shows everything."""
    language = lang(language)
    words = WORDS[language]
    if purpose is Purpose.STAND_DOWN:
        outcome = OUTCOME[language].get(message.outcome or "cancelled", words["closed"])
        drill = f"{words['drill']}: " if message.drill else ""
        return f"{drill}{headline(message, language)} {location_text(message, language)}: {outcome}"
    lines = []
    if message.drill:
        lines.append(f"{words['drill']}:")
    if message.duress:
        lines.append(words["duress"])
    if purpose is Purpose.ROLE and message.role in (1, 2, 3):
        lines.append(ROLE[language][message.role])
    kind = KIND[language].get(message.kind, message.kind)
    silent = f", {words['silent']}" if message.silent else ""
    lines.append(f"{headline(message, language)}: {kind}{silent}. {location_text(message, language)}.")
    if message.where.gathering_point:
        lines.append(f"{words['gather']}: {message.where.gathering_point}.")
    if message.note:
        lines.append(f"{words['note']}: {message.note}.")
    if message.approach:
        lines.append(f"{words['approach']}: {message.approach.rstrip('.')}.")
    if purpose in (Purpose.ROLE, Purpose.UPDATE) and message.helpers:
        lines.append(f"{words['coming']}: {helpers_text(message.helpers, language)}.")
    return " ".join(lines)


def feedback_text(feedback: Feedback) -> str:
    """What the device shows. Duress and a genuine cancel must read the same: both are 'closed'
    with the same reason, and nothing here may depend on anything else."""
    text = _feedback_text(feedback)
    return f"{WORDS[lang(feedback.language)]['drill']}: {text}" if feedback.drill else text


def _feedback_text(feedback: Feedback) -> str:
    language = lang(feedback.language)
    words = WORDS[language]
    if feedback.reason in ("wrong_pin", "pin_required"):
        return words[feedback.reason]
    if feedback.state is FeedbackState.HELP_COMING:
        return f"{words['help_coming']}: {helpers_text(feedback.helpers, language)}."
    if feedback.state is FeedbackState.CLOSED:
        return OUTCOME[language].get(feedback.reason or "", words["closed"]).split(":")[0] + "."
    return words[feedback.state.value]


# ---- SMS -----------------------------------------------------------------------------------

SMS = {
    "nl": {"answer": "Antwoord 1 = ik kom, 2 = kan niet, 3 = ter plaatse", "tap": "Of tik",
           "tap_only": "Tik om te antwoorden", "help": "Antwoord met 1 = ik kom, 2 = kan niet, 3 = ter plaatse.",
           "none_open": "Er staat geen oproep voor dit nummer open.",
           "which": "Je hebt {n} open oproepen: {list}. Antwoord bijvoorbeeld '1 {code}'.",
           "unknown_code": "Code {code} hoort niet bij een open oproep van jou."},
    "en": {"answer": "Reply 1 = coming, 2 = can't come, 3 = on scene", "tap": "Or tap",
           "tap_only": "Tap to answer", "help": "Reply 1 = coming, 2 = can't come, 3 = on scene.",
           "none_open": "There is no open call for this number.",
           "which": "You have {n} open calls: {list}. Reply for example '1 {code}'.",
           "unknown_code": "Code {code} is not one of your open calls."},
}


def short_code(alarm_uid: str) -> str:
    """Four characters that tell a person's open alarms apart in an SMS reply."""
    return alarm_uid[-4:].upper()


def sms_text(purpose: Purpose, message: Message, language: str, link: str | None = None) -> str:
    language = lang(language)
    words = SMS[language]
    tag = f"[{short_code(message.alarm_uid)}]"
    body = page_text(purpose, message, language)
    if purpose is Purpose.PAGE:
        tap = f" {words['tap']}: {link}" if link else ""
        return f"{body} {words['answer']} {tag}.{tap}"
    return f"{body} {tag}"


def app_link_text(message: Message, language: str, link: str) -> str:
    language = lang(language)
    kind = KIND[language].get(message.kind, message.kind)
    return (f"{headline(message, language)}: {kind}. {location_text(message, language)}. "
            f"{SMS[language]['tap_only']}: {link} [{short_code(message.alarm_uid)}]")


# ---- voice ---------------------------------------------------------------------------------

VOICE_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
VOICE = {
    "nl": {"intro": "Dit is code4.", "keys": "Druk 1 als je komt. Druk 2 als je niet kunt. Druk 3 als je ter "
           "plaatse bent. Druk sterretje om te herhalen.",
           "accepted": "Dank je.", "declined": "Dank je. We zoeken verder.",
           "on_scene": "Dank je. Je staat genoteerd als ter plaatse.", "again": "Die toets ken ik niet.",
           "contact_intro": "Dit is een automatisch alarmbericht van {org}.",
           "contact_alarm": "Een medewerker heeft een {kind} gemaakt bij {where}.",
           "silent": "Het is een stil alarm: de agressor weet mogelijk niet dat er hulp komt.",
           "contact_keys": "Druk 1 om te bevestigen dat u dit bericht heeft ontvangen.",
           "confirmed": "Dank u. Uw bevestiging is genoteerd.", "goodbye": "Geen toets ontvangen. Tot ziens.",
           "address": "Adres"},
    "en": {"intro": "This is code4.", "keys": "Press 1 if you are coming. Press 2 if you cannot come. Press 3 "
           "when you are on scene. Press star to repeat.",
           "accepted": "Thank you.", "declined": "Thank you. We will look further.",
           "on_scene": "Thank you. You are noted as on scene.", "again": "I do not know that key.",
           "contact_intro": "This is an automatic alarm message from {org}.",
           "contact_alarm": "A member of staff raised a {kind} at {where}.",
           "silent": "It is a silent alarm: the aggressor may not know that help is coming.",
           "contact_keys": "Press 1 to confirm that you received this message.",
           "confirmed": "Thank you. Your confirmation is noted.", "goodbye": "No key received. Goodbye.",
           "address": "Address"},
}


def voice_page_script(message: Message, language: str) -> str:
    """What a responder hears: the page, then the keys."""
    language = lang(language)
    return f"{VOICE[language]['intro']} {page_text(Purpose.PAGE, message, language)} {VOICE[language]['keys']}"


def voice_notice_script(purpose: Purpose, message: Message, language: str) -> str:
    """A call that only tells (duress news, stand-down): no keys."""
    language = lang(language)
    return f"{VOICE[language]['intro']} {page_text(purpose, message, language)}"


def voice_contact_script(message: Message, language: str) -> str:
    """For an outside contact such as the police assistance line: who, where, what is known."""
    language = lang(language)
    words = VOICE[language]
    kind = KIND[language].get(message.kind, message.kind)
    parts = [f"{WORDS[language]['drill']}." if message.drill else "",
             words["contact_intro"].format(org=message.organisation or "code4"),
             words["contact_alarm"].format(kind=kind, where=location_text(message, language))]
    if message.where.address:
        parts.append(f"{words['address']}: {message.where.address}.")
    if message.duress:
        parts.append(WORDS[language]["duress"])
    elif message.silent:
        parts.append(words["silent"])
    if message.helpers:
        parts.append(f"{WORDS[language]['coming']}: {helpers_text(message.helpers, language)}.")
    parts.append(words["contact_keys"])
    return " ".join(p for p in parts if p)


def voice_after_answer(response: str, message: Message, language: str, *, contact: bool) -> str:
    language = lang(language)
    words = VOICE[language]
    if contact:
        return words["confirmed"]
    if response == "accept" and message.role in (1, 2, 3):
        point = message.where.gathering_point
        gather = f" {WORDS[language]['gather']}: {point}." if point else ""
        return f"{words['accepted']} {ROLE[language][message.role]}{gather}"
    return words.get({"accept": "accepted", "decline": "declined", "on_scene": "on_scene"}[response], "")
