"""Words for screens and the API: timeline entries and statuses in Dutch (default) or English."""

from __future__ import annotations

from typing import Any, Literal, TypeGuard, get_args

from escalation.texts import KIND, OUTCOME

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)


def is_language(value: object) -> TypeGuard[Language]:
    return value in LANGUAGES

REASONS = {
    "nl": {"no_accept_in_time": "geen reactie op tijd", "all_declined": "niemand kan komen",
           "new_press": "opnieuw gedrukt", "duress": "dwang-PIN", "operator": "door de centrale post",
           "severe": "ernstig alarm",
           "responder_withdrew": "een hulpverlener komt toch niet", "nobody_reachable": "niemand bereikbaar",
           "too_few_present": "te weinig aanwezig",
           "raised": "alarm", "man_down": "man-down", "no_movement": "geen beweging",
           "nobody_to_reach": "niemand om op te roepen", "all_already_accepted": "iedereen komt al",
           "nobody_left_to_ask": "niemand meer om op te roepen", "wrong_pin": "onjuiste pincode",
           "pin_required": "pincode ontbreekt",
           "locked": "te vaak een onjuiste pincode; alleen de centrale post kan het alarm nog afsluiten"},
    "en": {"no_accept_in_time": "no answer in time", "all_declined": "everyone declined",
           "new_press": "pressed again", "duress": "duress PIN", "operator": "by the control room",
           "severe": "severe alarm",
           "responder_withdrew": "a responder withdrew", "nobody_reachable": "nobody reachable",
           "too_few_present": "too few present",
           "raised": "alarm", "man_down": "man down", "no_movement": "no movement",
           "nobody_to_reach": "nobody to reach", "all_already_accepted": "everyone is already coming",
           "nobody_left_to_ask": "nobody left to ask", "wrong_pin": "wrong PIN", "pin_required": "PIN missing",
           "locked": "too many wrong PINs, only the control room can close the alarm"},
}

# How a channel is named on screen: "Code 4 op de pieper" (the protocol's word).
CHANNEL = {
    "nl": {"pager": "pieper", "sms": "sms", "voice": "telefoon", "app": "app", "operator": "centrale post"},
    "en": {"pager": "pager", "sms": "text message", "voice": "phone call", "app": "app", "operator": "control room"},
}
CHANNEL["nl"]["push"], CHANNEL["en"]["push"] = "pushbericht", "push notification"  # the responder app

# How an alarm ended, in a timeline line ("Afgesloten: opgelost").
OUTCOMES = {
    "nl": {"resolved": "opgelost", "cancelled": "ingetrokken", "false_alarm": "loos alarm", "drill": "oefening"},
    "en": {"resolved": "resolved", "cancelled": "cancelled", "false_alarm": "false alarm", "drill": "drill"},
}

TIMELINE = {
    "nl": {
        "alarm_raised": "{kind_title} bij {where}",
        "unknown_device": "Onbekend apparaat {device}; afgehandeld volgens afspraak {agreement}",
        "unreadable_alarm": "Alarmbericht van het apparaat is onleesbaar ({reason}). Controleer het apparaat",
        "severe": "Ernstig alarm: {reason}",
        "step_started": "Stap {step} gestart{code}",
        "step_skipped": "Stap {step} overgeslagen: {reason}",
        "step_short": "Stap {step}: te weinig aanwezig ({present} van {required} nodig), direct door naar de volgende",
        "notified": "{recipient} opgeroepen via {channel}",
        "escalated": "Opgeschaald van {from} naar {to}: {reason}",
        "repeated": "ONBEANTWOORD: stap {step} herhaald (ronde {round})",
        "unanswered": "ONBEANTWOORD bij stap {step}: {reason}",
        "accepted": "{recipient} komt{role_text}",
        "confirmed": "{recipient} heeft het alarm bevestigd",
        "declined": "{recipient} kan niet komen",
        "withdrew": "{recipient} komt toch niet",
        "help_organised": "Genoeg hulp onderweg ({accepted} van {required})",
        "informed": "{recipient} ingelicht als afdelingshoofd",
        "on_scene": "{recipient} is ter plaatse",
        "new_press": "Opnieuw op de knop gedrukt ({press}e keer)",
        "cancel_refused": "Intrekken geweigerd: {reason}",
        "duress": "DWANG: ingetrokken met de dwang-PIN",
        "cancel_ignored_after_duress": "Intrekken na de dwang-PIN genegeerd",
        "closed": "Afgesloten: {outcome}",
        "channel_failed": "Oproep via {channel} aan {recipient} mislukt ({reason}){next_text}",
        "unreachable": "{recipient} onbereikbaar ({reason})",
        "late_response": "{recipient} antwoordde nadat het alarm was afgesloten",
        "escalated_by_operator": "Opgeschaald door de centrale post",
        "police_requested": "Centrale post bevestigt: politie nodig (stap {step})",
        "centre_transmission": "Alarmcentrale {recipient}: {event} naar {receiver} (nr {sequence}): {outcome}",
        "centre_receiver_switched": "Alarmcentrale {recipient}: over op ontvanger {to} ({from} antwoordde niet)",
        "seen": "Gezien door de centrale post",
        "marked": "Aangemerkt als {label_text}",
        "note": "Notitie: {text}",
    },
    "en": {
        "alarm_raised": "{kind_title} at {where}",
        "unknown_device": "Unknown device {device}: agreement {agreement}",
        "unreadable_alarm": "The device's alarm message was unreadable ({reason}): check the device",
        "severe": "Severe alarm: {reason}",
        "step_started": "Step {step} started{code}",
        "step_skipped": "Step {step} skipped: {reason}",
        "step_short": "Step {step}: too few present ({present} of {required} needed), on to the next at once",
        "notified": "{recipient} notified by {channel}",
        "escalated": "Escalated from {from} to {to}: {reason}",
        "repeated": "UNANSWERED: step {step} repeated (round {round})",
        "unanswered": "UNANSWERED at step {step}: {reason}",
        "accepted": "{recipient} is coming{role_text}",
        "confirmed": "{recipient} confirmed the alarm",
        "declined": "{recipient} cannot come",
        "withdrew": "{recipient} is no longer coming",
        "help_organised": "Enough help on the way ({accepted} of {required})",
        "informed": "{recipient} informed as head of department",
        "on_scene": "{recipient} is on scene",
        "new_press": "Pressed again (press {press})",
        "cancel_refused": "Cancel refused: {reason}",
        "duress": "DURESS: cancelled with the duress PIN",
        "cancel_ignored_after_duress": "Cancel after duress ignored",
        "closed": "Closed: {outcome}",
        "channel_failed": "{channel} to {recipient} failed ({reason}){next_text}",
        "unreachable": "{recipient} unreachable ({reason})",
        "late_response": "{recipient} answered after closing",
        "escalated_by_operator": "Escalated by the control room",
        "police_requested": "Control room confirms: police needed (step {step})",
        "centre_transmission": "Alarm centre {recipient}: {event} to {receiver} (no. {sequence}): {outcome}",
        "centre_receiver_switched": "Alarm centre {recipient}: switched to receiver {to} ({from} did not answer)",
        "seen": "Seen by the control room",
        "marked": "Marked as {label_text}",
        "note": "Note: {text}",
    },
}


def pick_language(requested: str | None, accept_language: str | None) -> str:
    if is_language(requested):
        return requested
    if accept_language and accept_language.strip().lower().startswith("en"):
        return "en"
    return "nl"


def timeline_text(kind: str, data: dict[str, Any], language: str) -> str:
    template = TIMELINE[language].get(kind)
    if template is None:
        return kind.replace("_", " ")
    values: dict[str, Any] = {k: v if v is not None else "-" for k, v in data.items()}
    reasons = REASONS[language]
    values["reason"] = reasons.get(str(data.get("reason")), data.get("reason") or "")
    values["kind"] = KIND[language].get(str(data.get("kind")), data.get("kind"))
    values["kind_title"] = str(values["kind"] or "alarm").capitalize()
    values["code"] = f" (code {data['code']})" if data.get("code") else ""
    channels = CHANNEL[language]
    if data.get("channel"):
        values["channel"] = channels.get(str(data["channel"]), data["channel"])
    role = data.get("role")
    values["role_text"] = (f" (nummer {role})" if language == "nl" else f" (number {role})") if role else ""
    nxt = channels.get(str(data.get("next")), data.get("next"))
    values["next_text"] = ((f"; verder via {nxt}" if language == "nl" else f"; next: {nxt}") if nxt else "")
    label = {"drill": ("oefening", "drill"), "false_alarm": ("loos alarm", "false alarm")}.get(str(data.get("label")))
    values["label_text"] = (label[0] if language == "nl" else label[1]) if label else data.get("label")
    outcome = str(data.get("outcome"))
    values["outcome"] = OUTCOMES[language].get(outcome) or OUTCOME[language].get(outcome, outcome).split(":")[0]
    if kind == "cancel_refused" and data.get("reason") == "wrong_pin" and data.get("limit"):
        # The device showed "cancelled": the control room must know it did not happen.
        values["reason"] += (f" (poging {data.get('attempts')} van {data['limit']}; het apparaat toont 'ingetrokken',"
                             " het alarm loopt door)" if language == "nl" else
                             f" (attempt {data.get('attempts')} of {data['limit']}; the device shows 'cancelled',"
                             " the alarm goes on)")
    values.setdefault("where", "?")
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return kind.replace("_", " ")

# ---- the control room's pages ------------------------------------------------------------------

BOARD: dict[str, dict[str, str]] = {
    "nl": {
        "title": "code4 centrale post", "alarms": "Alarmen", "devices": "Apparaten", "signout": "Afmelden",
        "signin": "Aanmelden", "username": "Gebruikersnaam", "password": "Wachtwoord",
        "bad_login": "Onbekende gebruiker of onjuist wachtwoord.",
        "too_many": "Te veel mislukte pogingen. Wacht {seconds} seconden en probeer het dan opnieuw.",
        "no_alarms": "Geen open alarmen.", "connection_lost": "Geen verbinding met code4. Opnieuw verbinden…",
        "degraded": "Storing: code4 bereikt de database of de berichtenserver niet. Nieuwe alarmen wachten en "
                    "worden afgehandeld zodra dat weer lukt. Houd de telefoon bij de hand.",
        "sound_off": "Alarmgeluid staat UIT – klik hier om het aan te zetten", "sound_on": "Geluid aan",
        "mute": "Geluid uit", "unanswered": "ONBEANTWOORD", "duress": "DWANG", "silent": "stil alarm",
        "severe": "ernstig", "unknown_device": "onbekend apparaat", "drill": "OEFENING", "false_alarm": "LOOS ALARM",
        "step": "Stap", "accepted_of": "{n} van {m} bevestigd", "next_in": "volgende stap over",
        "repeats_in": "herhaling over", "seen": "Gezien", "seen_by": "gezien door", "escalate": "Nu opschalen",
        "police": "Bevestigen: politie nodig", "details": "Details", "close": "Afsluiten",
        "close_confirm": "Dit alarm afsluiten met als uitkomst: {outcome}?", "note": "Notitie",
        "add_note": "Notitie toevoegen",
        "mark_drill": "Dit is een oefening", "mark_false": "Dit is loos alarm",
        "accept_for": "Komt (telefonisch doorgegeven)",
        "outcome": "Uitkomst", "resolved": "opgelost", "cancelled": "ingetrokken", "false_alarm_outcome": "loos alarm",
        "drill_outcome": "oefening", "pending": "nog geen antwoord", "accepted": "komt", "declined": "kan niet komen",
        "informed": "ingelicht", "failed": "onbereikbaar", "on_scene": "ter plaatse", "new_alarm": "NIEUW ALARM",
        "timeline": "Tijdlijn",
        "chain": "Afgesproken alarmketen", "incident": "Incidentregistratie", "raised": "Tijdstip alarm",
        "person": "Persoon",
        "location": "Locatie", "device": "Apparaat", "type": "Soort", "online": "verbonden",
        "offline": "geen verbinding",
        "never_seen": "nog nooit gehoord", "battery_low": "batterij bijna leeg", "fault_silent": "geeft geen signaal",
        "fault_offline": "geen verbinding", "fault_battery_low": "batterij bijna leeg", "fault_untested": "niet getest",
        "fault_centre_down": "alarmcentrale onbereikbaar: alarmen via de terugvalroute",
        "fault_centre_primary": "hoofdontvanger antwoordt niet",
        "fault_centre_backup": "reserveontvanger antwoordt niet",
        "fault_centre_unusable": "verbinding niet bruikbaar (zie het logboek)", "type_alarm_centre": "alarmcentrale",
        "drill_mode": "oefenmodus", "position": "Positie", "last_test": "Laatste test",
        "device_faults": "Apparaten met een storing", "events": "Gebeurtenissen",
        "last_heartbeat": "Laatste signaal",
        "battery": "Batterij", "faults": "Storingen",
        "forbidden": "Geen toegang: hiervoor heb je de rol {roles} nodig.",
        "my_callouts": "Mijn oproepen", "no_callouts": "Geen open oproepen.",
        "get_the_app": "De app op je telefoon: oproepen met meldingen, antwoorden vanaf het meldingenscherm",
        "reached": "Opgeroepen",
        "responders": "Onderweg", "channel_failed": "via {channel} mislukt", "closed": "afgesloten", "status": "Status",
        "back": "Terug naar de alarmen", "nobody": "nog niemand", "gathering": "Verzamelen uit het zicht",
        "agreement": "Afspraak",
        "open_alarm": "Loopt", "at_step": "huidige stap", "fault_free": "geen",
        "approach": "Bekende bezoeker – afgesproken aanpak", "for_information": "ter informatie",
        "approaches_now": "Bekende bezoekers nu",
        "event_online": "weer verbonden", "event_offline": "verbinding weg", "event_fault_raised": "storing",
        "event_fault_cleared": "storing verholpen", "event_visit_started": "bezoek begonnen",
        "event_visit_checked_in": "ingecheckt", "event_visit_ended": "bezoek afgesloten",
        "event_visit_pre_alert": "check-in bijna te laat: apparaat gewaarschuwd",
        "event_visit_missed": "check-in gemist",
        "type_fixed_button": "vaste alarmknop", "type_mobile_alarm": "mobiel alarm", "type_responder_pager": "pieper",
        "nav_approaches": "Bekende bezoekers", "approaches_title": "Afspraken bekende bezoekers",
        "approaches_intro": "Een afspraak met een bekende bezoeker (aanpak afgestemd met GGZ) geldt voor één ruimte "
                            "of zone en één tijdvak. Een alarm uit die ruimte in dat tijdvak geeft de aanpak mee aan "
                            "de BHV en toont die bij het alarm. De politie krijgt de aanpak nooit.",
        "approach_place": "Ruimte of zone", "approach_from": "Van", "approach_until": "Tot",
        "approach_visitor": "Bezoeker", "approach_visitor_hint": "(kort kenmerk dat de receptie herkent, "
                                                                 "geen volledige naam)",
        "approach_note": "Afgesproken aanpak", "approach_note_hint": "(kort: dit komt op de pieper)",
        "approach_made_by": "Gemaakt door", "approach_now": "nu", "approach_end": "Beëindigen",
        "no_approaches": "Geen lopende of komende afspraken.", "approach_new": "Nieuwe afspraak",
        "approach_save": "Afspraak opslaan", "approach_past": "Afgelopen (de aanpak wordt na 7 dagen gewist)",
        "approach_ended_by": "beëindigd door",
        "approach_bad": "Deze afspraak kan niet worden opgeslagen. Controleer de velden.",
        "approach_bad_place": "Kies een ruimte of zone uit de lijst.",
        "approach_bad_starts_at": "Vul een geldige begintijd in.",
        "approach_bad_ends_at": "Het eind moet na het begin liggen, nog niet voorbij zijn en hoogstens 14 dagen na "
                                "het begin.",
        "approach_bad_visitor": "Vul bij bezoeker een kort kenmerk in (hoogstens 60 tekens).",
        "approach_bad_note": "Vul de afgesproken aanpak in (hoogstens 300 tekens).",
    },
    "en": {
        "title": "code4 control room", "alarms": "Alarms", "devices": "Devices", "signout": "Sign out",
        "signin": "Sign in", "username": "User name", "password": "Password",
        "bad_login": "Unknown user or wrong password.",
        "too_many": "Too many failed attempts. Wait {seconds} s, then try again.",
        "no_alarms": "No open alarms.", "connection_lost": "Connection to code4 lost – reconnecting…",
        "degraded": "Fault: code4 cannot reach its database or broker. New alarms wait and are handled as "
                    "soon as it can again; keep the phone at hand.",
        "sound_off": "Alarm sound is OFF – click here to turn it on", "sound_on": "Sound on", "mute": "Mute",
        "unanswered": "UNANSWERED", "duress": "DURESS", "silent": "silent alarm", "severe": "severe",
        "unknown_device": "unknown device", "drill": "DRILL", "false_alarm": "FALSE ALARM", "step": "Step",
        "accepted_of": "{n} of {m} accepted", "next_in": "next step in", "repeats_in": "repeats in", "seen": "Seen",
        "seen_by": "seen by", "escalate": "Escalate now", "police": "Confirm: police needed", "details": "Details",
        "close": "Close", "close_confirm": "Close this alarm as: {outcome}?", "note": "Note", "add_note": "Add note",
        "mark_drill": "Mark as drill", "mark_false": "Mark as false alarm", "accept_for": "Coming (said by phone)",
        "outcome": "Outcome", "resolved": "resolved", "cancelled": "cancelled", "false_alarm_outcome": "false alarm",
        "drill_outcome": "drill", "pending": "no answer yet", "accepted": "coming", "declined": "can't come",
        "informed": "informed", "failed": "unreachable", "on_scene": "on scene", "new_alarm": "NEW ALARM",
        "timeline": "Timeline",
        "chain": "Agreed chain", "incident": "Incident record", "raised": "Raised at", "person": "Person",
        "location": "Location", "device": "Device", "type": "Type", "online": "online", "offline": "offline",
        "never_seen": "never seen", "battery_low": "battery low", "fault_silent": "no sign of life",
        "fault_offline": "offline", "fault_battery_low": "battery low", "fault_untested": "not tested",
        "fault_centre_down": "alarm centre unreachable: alarms take the fallback route",
        "fault_centre_primary": "primary receiver not answering",
        "fault_centre_backup": "backup receiver not answering",
        "fault_centre_unusable": "path unusable (see the log)", "type_alarm_centre": "alarm centre",
        "drill_mode": "drill mode", "position": "Position", "last_test": "Last test",
        "device_faults": "Device faults", "events": "Events", "last_heartbeat": "Last sign of life",
        "battery": "Battery", "faults": "Faults", "forbidden": "No access: this needs the role {roles}.",
        "my_callouts": "My call-outs", "no_callouts": "No open call-outs.",
        "get_the_app": "The app on your phone: call-outs as notifications, answered from the notification",
        "reached": "Called out",
        "responders": "On the way", "channel_failed": "{channel} failed", "closed": "closed", "status": "Status",
        "back": "Back to the board", "nobody": "nobody yet", "gathering": "Gather at", "agreement": "Agreement",
        "open_alarm": "Running", "at_step": "current step", "fault_free": "none",
        "approach": "Known visitor – agreed approach", "for_information": "for information",
        "approaches_now": "Known visitors now",
        "event_online": "weer verbonden", "event_offline": "verbinding weg", "event_fault_raised": "fault",
        "event_fault_cleared": "fault cleared", "event_visit_started": "visit started",
        "event_visit_checked_in": "checked in", "event_visit_ended": "visit ended",
        "event_visit_pre_alert": "check-in nearly late: device warned", "event_visit_missed": "check-in missed",
        "type_fixed_button": "fixed button", "type_mobile_alarm": "mobile alarm", "type_responder_pager": "pager",
        "nav_approaches": "Known visitors", "approaches_title": "Known visitor agreements",
        "approaches_intro": "An agreement about a known visitor (approach agreed with the mental health team) holds "
                            "for one room or zone and one time window. An alarm from that room in that window gives "
                            "the approach to the BHV and shows it on the board. The police never get it.",
        "approach_place": "Room or zone", "approach_from": "From", "approach_until": "Until",
        "approach_visitor": "Visitor", "approach_visitor_hint": "(a short reference reception recognises, "
                                                                "not a full name)",
        "approach_note": "Agreed approach", "approach_note_hint": "(short: this goes onto the pager)",
        "approach_made_by": "Made by", "approach_now": "now", "approach_end": "End",
        "no_approaches": "No current or coming agreements.", "approach_new": "New agreement",
        "approach_save": "Save agreement", "approach_past": "Past (the approach is erased after 7 days)",
        "approach_ended_by": "ended by",
        "approach_bad": "This agreement cannot be saved. Check the fields.",
        "approach_bad_place": "Choose a room or zone from the list.",
        "approach_bad_starts_at": "Enter a valid start time.",
        "approach_bad_ends_at": "The end must come after the start, not be past yet, and be at most 14 days after "
                                "the start.",
        "approach_bad_visitor": "Enter a short reference for the visitor (at most 60 characters).",
        "approach_bad_note": "Enter the agreed approach (at most 300 characters).",
    },
}
for _language, _words in BOARD.items():
    _words.update({f"kind_{kind}": text for kind, text in KIND[_language].items()})
    _words.update({f"channel_{channel}": text for channel, text in CHANNEL[_language].items()})

# The words of the record pages, presence and the response-time targets live beside this file;
# templates see one dictionary, so no key may be used twice.
from gateway.web.i18n_plans import PLANS  # noqa: E402
from gateway.web.i18n_presence import PRESENCE  # noqa: E402
from gateway.web.i18n_records import RECORDS  # noqa: E402
from gateway.web.i18n_targets import TARGETS  # noqa: E402

for _part, _words_by_language in (("record", RECORDS), ("presence", PRESENCE), ("target", TARGETS),
                                   ("plan", PLANS)):
    for _language, _words in _words_by_language.items():
        _clash = set(_words) & set(BOARD[_language])
        assert not _clash, f"{_part} words reuse board keys: {_clash}"
        BOARD[_language].update(_words)
