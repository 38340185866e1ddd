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
           "police": "politie"},
    "en": {"code": "Code", "assist": "Assistance", "silent": "silent alarm", "gather": "Gather at",
           "unknown_device": "Unknown device", "coming": "On the way", "duress":
           "DURESS: the alarm was cancelled under duress. Approach with care.", "position": "position",
           "of": "of", "received": "Alarm received. Looking for help.", "help_coming": "Help is coming",
           "on_scene": "Help is on scene.", "closed": "Alarm closed.",
           "wrong_pin": "Cancel failed: wrong PIN.", "pin_required": "Cancelling needs a PIN.",
           "police": "police"},
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
        return f"{headline(message, language)} {location_text(message, language)}: {outcome}"
    lines = []
    if message.duress:
        lines.append(words["duress"])
    if purpose is Purpose.ROLE and message.role in (1, 2, 3):
        lines.append(ROLE[language][message.role])
    kind = KIND[language].get(message.kind, message.kind)
    silent = f", {words['silent']}" if message.silent else ""
    lines.append(f"{headline(message, language)}: {kind}{silent}. {location_text(message, language)}.")
    if message.where.gathering_point:
        lines.append(f"{words['gather']}: {message.where.gathering_point}.")
    if purpose in (Purpose.ROLE, Purpose.UPDATE) and message.helpers:
        lines.append(f"{words['coming']}: {helpers_text(message.helpers, language)}.")
    return " ".join(lines)


def feedback_text(feedback: Feedback) -> str:
    """What the device shows. Duress and a genuine cancel must read the same: both are 'closed'
    with the same reason, and nothing here may depend on anything else."""
    language = lang(feedback.language)
    words = WORDS[language]
    if feedback.reason in ("wrong_pin", "pin_required"):
        return words[feedback.reason]
    if feedback.state is FeedbackState.HELP_COMING:
        return f"{words['help_coming']}: {helpers_text(feedback.helpers, language)}."
    if feedback.state is FeedbackState.CLOSED:
        return OUTCOME[language].get(feedback.reason or "", words["closed"]).split(":")[0] + "."
    return words[feedback.state.value]
