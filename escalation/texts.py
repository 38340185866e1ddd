"""The words people read: pages, messages and device feedback, in Dutch or English.

Short enough for a pager screen; the most important fact first. Channels call these with the
recipient's language; anything but "en" reads Dutch, the users' language.
"""

from __future__ import annotations

from devices.kinds import AGGRESSION_KINDS
from escalation.notices import Feedback, FeedbackState, Helper, Message, Purpose

KIND = {
    "nl": {"panic": "paniekalarm", "assist": "assistentie gevraagd", "man_down": "persoon ligt op de grond",
           "no_movement": "geen beweging", "checkin_missed": "check-in gemist"},
    "en": {"panic": "panic alarm", "assist": "assistance requested", "man_down": "man down (person is lying)",
           "no_movement": "no movement", "checkin_missed": "missed check-in"},
}
# The Leidraad BHV-ers: nr 1 approaches and chooses, nr 2 is the BHV-maatje, nr 3 stands by.
ROLE = {
    "nl": {1: "Jij bent nummer 1: jij benadert de agressor. Eerst achtergrond verzamelen en vaststellen welke "
              "agressie het is (frustratie, instrumenteel, psychotisch). Kies: laten gaan, kalmeren of "
              "confronteren, fysiek ingrijpen alleen in het uiterste geval. Eigen veiligheid gaat voor.",
           2: "Jij bent nummer 2: back-up van nummer 1, je ontfermt je over de collega.",
           3: "Jij bent nummer 3: stand-by, voor ondersteuning en om zo nodig de politie te bellen."},
    "en": {1: "You are number 1: you approach the aggressor. First gather background and establish the kind of "
              "aggression (frustration, instrumental, psychotic). Choose: let go, calm down or confront, physical "
              "intervention only as a last resort. Your own safety comes first.",
           2: "You are number 2: back-up for number 1, you look after the colleague.",
           3: "You are number 3: stand by, to support and to call the police if needed."},
}
OUTCOME = {
    "nl": {"cancelled": "Alarm ingetrokken: je hoeft niet te komen.", "resolved": "Alarm afgesloten: opgelost.",
           "false_alarm": "Loos alarm: je hoeft niet te komen.", "drill": "Oefening afgesloten."},
    "en": {"cancelled": "Alarm cancelled: no need to come.", "resolved": "Alarm closed: resolved.",
           "false_alarm": "False alarm: no need to come.", "drill": "Drill closed."},
}
WORDS = {
    "nl": {"code": "Code", "assist": "Assistentie", "silent": "stil alarm", "gather": "Verzamelen uit het zicht",
           "unknown_device": "Onbekend apparaat", "coming": "Onderweg", "duress":
           "DWANG: het alarm is onder dwang ingetrokken. Voorzichtig benaderen.", "position": "positie",
           "of": "van", "received": "Alarm ontvangen. We zoeken hulp.", "help_coming": "Hulp komt",
           "on_scene": "Hulp is er.", "closed": "Alarm afgesloten.",
           "wrong_pin": "Intrekken mislukt: verkeerde pincode.", "pin_required": "Intrekken kan alleen met pincode.",
           "police": "politie", "drill": "OEFENING", "note": "Notitie",
           "approach": "Bekende bezoeker, afgesproken aanpak", "number": "nr",
           "establish": "Stel vast welke agressie het is: frustratie, instrumenteel of psychotisch.",
           "inform": "Ter informatie, voor jou als afdelingshoofd", "person": "Medewerker"},
    "en": {"code": "Code", "assist": "Assistance", "silent": "silent alarm", "gather": "Gather out of sight at",
           "unknown_device": "Unknown device", "coming": "On the way", "duress":
           "DURESS: the alarm was cancelled under duress. Approach with care.", "position": "position",
           "of": "of", "received": "Alarm received. Looking for help.", "help_coming": "Help is coming",
           "on_scene": "Help is here.", "closed": "Alarm closed.",
           "wrong_pin": "Cancel failed: wrong PIN.", "pin_required": "Cancelling needs a PIN.",
           "police": "police", "drill": "DRILL", "note": "Note",
           "approach": "Known visitor, agreed approach", "number": "no.",
           "establish": "Establish the kind of aggression: frustration, instrumental or psychotic.",
           "inform": "For your information, as head of department", "person": "Employee"},
}


def lang(language: str | None) -> str:
    return "en" if language == "en" else "nl"


def location_text(message: Message, language: str, *, spoken: bool = False) -> str:
    """Where to go, as precisely as known. Spoken, coordinates are left out: nobody can take
    down '52.49700, 4.81200' from a call."""
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
    if not spoken and position is not None and position.lat is not None and position.lon is not None:
        accuracy = f" ±{position.accuracy_m:.0f} m" if position.accuracy_m is not None else ""
        parts.append(f"{words['position']} {position.lat:.5f},{position.lon:.5f}{accuracy}")
    return ", ".join(parts) or message.device_id


def headline(message: Message, language: str) -> str:
    words = WORDS[lang(language)]
    return f"{words['code']} {message.code}" if message.code else words["assist"]


def helpers_text(helpers: tuple[Helper, ...], language: str) -> str:
    words = WORDS[lang(language)]
    return ", ".join(f"{h.name} ({words['number']} {h.role})" if h.role else f"{h.name} ({words['police']})"
                     for h in helpers)


def page_text(purpose: Purpose, message: Message, language: str, *, spoken: bool = False) -> str:
    """The body of a page or SMS; location and gathering point travel in fields of their own
    on a pager, but are repeated here so a text-only screen shows everything."""
    language = lang(language)
    words = WORDS[language]
    where = location_text(message, language, spoken=spoken)
    drill = f"{words['drill']}: " if message.drill else ""
    if purpose is Purpose.STAND_DOWN:
        outcome = OUTCOME[language].get(message.outcome or "cancelled", words["closed"])
        return f"{drill}{headline(message, language)} {where}: {outcome}"
    kind = KIND[language].get(message.kind, message.kind)
    silent = f", {words['silent']}" if message.silent else ""
    if purpose is Purpose.INFORM:
        person = f" {words['person']}: {message.person_name}." if message.person_name else ""
        return f"{drill}{words['inform']}. {headline(message, language)}: {kind}{silent}. {where}.{person}"
    lines = [drill.strip()] if message.drill else []
    if message.duress:
        lines.append(words["duress"])
    if purpose is Purpose.ROLE and message.role in (1, 2, 3):
        lines.append(ROLE[language][message.role])
    lines.append(f"{headline(message, language)}: {kind}{silent}. {where}.")
    if message.where.gathering_point:
        lines.append(f"{words['gather']}: {message.where.gathering_point.rstrip('.')}.")
    if message.note:
        lines.append(f"{words['note']}: {message.note.rstrip('.')}.")
    if message.approach:
        lines.append(f"{words['approach']}: {message.approach.rstrip('.')}.")
    if purpose is Purpose.PAGE and message.code and message.kind in AGGRESSION_KINDS:
        lines.append(words["establish"])  # the Leidraad: know the kind of aggression before approaching
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
    "nl": {"answer": "Antwoord 1 = ik kom, 2 = kan niet, 3 = ben er", "tap": "Of tik op",
           "tap_only": "Tik om te antwoorden", "help": "Antwoord met 1 = ik kom, 2 = kan niet, 3 = ben er.",
           "look": "Bekijk het alarm", "confirm": "Antwoord 1 om de ontvangst te bevestigen.",
           "none_open": "Er staat geen oproep voor dit nummer open.",
           "which": "Je hebt {n} open oproepen: {list}. Antwoord bijvoorbeeld '1 {code}'.",
           "unknown_code": "Code {code} hoort niet bij een open oproep van jou."},
    "en": {"answer": "Reply 1 = coming, 2 = can't come, 3 = on scene", "tap": "Or tap",
           "tap_only": "Tap to answer", "help": "Reply 1 = coming, 2 = can't come, 3 = on scene.",
           "look": "See the alarm", "confirm": "Reply 1 to confirm you received this.",
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


def contact_sms_text(message: Message, language: str) -> str:
    """For an outside contact (the police): the call's facts in writing — the address (the
    visit's note, else the place's address and name), never coordinates, as in the call — and
    how to confirm. The position is on code4's map for the control room."""
    language = lang(language)
    body = voice_contact_script(message, language).removesuffix(VOICE[language]["contact_keys"]).strip()
    return f"{body} {SMS[language]['confirm']} [{short_code(message.alarm_uid)}]"


def app_link_text(message: Message, language: str, link: str, purpose: Purpose = Purpose.PAGE) -> str:
    """The short SMS that carries the one-tap page's link: to answer, or (informed) to look."""
    language = lang(language)
    tag = f"[{short_code(message.alarm_uid)}]"
    if purpose is Purpose.INFORM:
        return f"{page_text(purpose, message, language)} {SMS[language]['look']}: {link} {tag}"
    kind = KIND[language].get(message.kind, message.kind)
    return (f"{headline(message, language)}: {kind}. {location_text(message, language)}. "
            f"{SMS[language]['tap_only']}: {link} {tag}")


# ---- voice ---------------------------------------------------------------------------------

VOICE_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
VOICE = {
    "nl": {"intro": "Dit is code4.", "keys": "Druk op 1 als je komt. Druk op 2 als je niet kunt komen. Druk op 3 "
           "als je er bent. Druk op het sterretje om te herhalen.",
           "accepted": "Dank je.", "declined": "Dank je. We zoeken verder.",
           "on_scene": "Dank je. We hebben genoteerd dat je er bent.", "again": "Die toets kennen we niet.",
           "contact_intro": "Dit is een automatisch alarmbericht van {org}.",
           "where": "Waar: {where}.", "address": "Adres: {address}.",
           "no_place": "De medewerker werkt op locatie. We kennen de positie, maar geen adres.",
           "visit": "Bij het bezoek staat genoteerd: {note}.", "person": "Het gaat om {name}.",
           "silent": "Het is een stil alarm: de agressor weet mogelijk niet dat er hulp komt.",
           "verified": "Geverifieerd:", "not_verified": "Dit alarm is nog niet geverifieerd: er is nog niemand "
           "van ons ter plaatse.",
           "coming": "Van ons zijn onderweg: {names}.",
           "contact_keys": "Druk op 1 om te bevestigen dat u dit bericht heeft ontvangen.",
           "confirmed": "Dank u. Uw bevestiging is genoteerd.", "goodbye": "Geen toets ontvangen. Tot ziens."},
    "en": {"intro": "This is code4.", "keys": "Press 1 if you are coming. Press 2 if you cannot come. Press 3 "
           "when you are there. Press star to repeat.",
           "accepted": "Thank you.", "declined": "Thank you. We will look further.",
           "on_scene": "Thank you. We noted that you are there.", "again": "We do not know that key.",
           "contact_intro": "This is an automatic alarm message from {org}.",
           "where": "Where: {where}.", "address": "Address: {address}.",
           "no_place": "The employee works on location. We know the position, but not an address.",
           "visit": "The visit's note says: {note}.", "person": "It concerns {name}.",
           "silent": "It is a silent alarm: the aggressor may not know that help is coming.",
           "verified": "Verified:", "not_verified": "This alarm is not verified yet: none of our people is "
           "there yet.",
           "coming": "On the way from us: {names}.",
           "contact_keys": "Press 1 to confirm that you received this message.",
           "confirmed": "Thank you. Your confirmation is noted.", "goodbye": "No key received. Goodbye."},
}
# What happened, said to the police in one sentence each ("Een medewerker heeft … gemaakt"
# would not read for every kind).
CONTACT_KIND = {
    "nl": {"panic": "Een medewerker heeft een paniekalarm gegeven.", "assist": "Een medewerker vraagt om assistentie.",
           "man_down": "Het alarm van een medewerker meldt dat die op de grond ligt.",
           "no_movement": "Het alarm van een medewerker meldt dat die niet meer beweegt.",
           "checkin_missed": "Een medewerker die alleen werkt, heeft zich niet op tijd gemeld."},
    "en": {"panic": "An employee raised a panic alarm.", "assist": "An employee asks for assistance.",
           "man_down": "An employee's alarm reports that they are lying on the ground.",
           "no_movement": "An employee's alarm reports that they no longer move.",
           "checkin_missed": "An employee working alone did not check in on time."},
}
# Since 1 July 2021 the police come to a private alarm only once it is verified: say who did.
VERIFIED = {
    "nl": {"bhv_on_scene": "{name}, BHV-er, is ter plaatse.", "on_scene": "{name}, een collega, is ter plaatse.",
           "operator": "Onze centrale post heeft het alarm beoordeeld en vraagt om politie.",
           "second_press": "De medewerker heeft een tweede keer op de alarmknop gedrukt.",
           "duress": "De medewerker heeft het alarm onder dwang ingetrokken: de medewerker wordt bedreigd."},
    "en": {"bhv_on_scene": "{name}, a trained first responder, is there.", "on_scene": "{name}, a colleague, is there.",
           "operator": "Our control room assessed the alarm and asks for police.",
           "second_press": "The employee pressed the alarm button a second time.",
           "duress": "The employee cancelled the alarm under duress: the employee is being threatened."},
}


def voice_page_script(message: Message, language: str) -> str:
    """What a responder hears: the page, then the keys."""
    language = lang(language)
    return f"{VOICE[language]['intro']} {page_text(Purpose.PAGE, message, language, spoken=True)} " \
           f"{VOICE[language]['keys']}"


def voice_notice_script(purpose: Purpose, message: Message, language: str) -> str:
    """A call that only tells (duress news, stand-down, the afdelingshoofd informed): no keys."""
    language = lang(language)
    return f"{VOICE[language]['intro']} {page_text(purpose, message, language, spoken=True)}"


def verified_text(verified: tuple[str, ...], language: str) -> str:
    """Who verified what, in plain words; says so when nobody has."""
    language = lang(language)
    facts = []
    for fact in verified:
        kind, _, name = fact.partition(":")
        if kind in VERIFIED[language]:
            facts.append(VERIFIED[language][kind].format(name=name))
    if not facts:
        return VOICE[language]["not_verified"]
    return " ".join([VOICE[language]["verified"], *facts])


def voice_contact_script(message: Message, language: str) -> str:
    """For an outside contact such as the police assistance line: what, where (an address and a
    place name, never coordinates), who verified it, who is coming."""
    language = lang(language)
    words = VOICE[language]
    parts = [f"{WORDS[language]['drill']}." if message.drill else "",
             words["contact_intro"].format(org=message.organisation or "code4"),
             CONTACT_KIND[language].get(message.kind, KIND[language].get(message.kind, message.kind))]
    if message.person_name:
        parts.append(words["person"].format(name=message.person_name))
    described = message.where.describe()
    if described:
        parts.append(words["where"].format(where=described))
    if message.where.address:
        parts.append(words["address"].format(address=message.where.address))
    elif not described:
        parts.append(words["no_place"])
    if message.note:
        parts.append(words["visit"].format(note=message.note.rstrip(".")))
    if message.silent:
        parts.append(words["silent"])
    parts.append(verified_text(message.verified, language))
    if message.helpers:
        names = [h.name for h in message.helpers if h.role is not None]
        if names:
            parts.append(words["coming"].format(names=", ".join(names)))
    parts.append(words["contact_keys"])
    return " ".join(p for p in parts if p)


def voice_after_answer(response: str, message: Message, language: str, *, contact: bool) -> str:
    language = lang(language)
    words = VOICE[language]
    if contact:
        return words["confirmed"]
    if response == "accept" and message.role in (1, 2, 3):
        point = message.where.gathering_point
        gather = f" {WORDS[language]['gather']}: {point.rstrip('.')}." if point else ""
        return f"{words['accepted']} {ROLE[language][message.role]}{gather}"
    return words.get({"accept": "accepted", "decline": "declined", "on_scene": "on_scene"}[response], "")
