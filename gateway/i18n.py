"""Words for screens and the API: timeline entries and statuses in Dutch (default) or English."""

from __future__ import annotations

from typing import Any

from escalation.texts import KIND, OUTCOME

LANGUAGES = ("nl", "en")

REASONS = {
    "nl": {"no_accept_in_time": "geen reactie op tijd", "all_declined": "iedereen kon niet",
           "new_press": "opnieuw gedrukt", "duress": "dwang-PIN", "operator": "door de meldkamer",
           "responder_withdrew": "een hulpverlener haakte af", "nobody_reachable": "niemand bereikbaar",
           "raised": "alarm", "man_down": "man-down", "no_movement": "geen beweging",
           "nobody_to_reach": "niemand te bereiken", "all_already_accepted": "iedereen komt al",
           "nobody_left_to_ask": "niemand meer om te vragen", "wrong_pin": "onjuiste PIN",
           "pin_required": "PIN ontbreekt"},
    "en": {"no_accept_in_time": "no answer in time", "all_declined": "everyone declined",
           "new_press": "pressed again", "duress": "duress PIN", "operator": "by the control room",
           "responder_withdrew": "a responder withdrew", "nobody_reachable": "nobody reachable",
           "raised": "alarm", "man_down": "man down", "no_movement": "no movement",
           "nobody_to_reach": "nobody to reach", "all_already_accepted": "everyone is already coming",
           "nobody_left_to_ask": "nobody left to ask", "wrong_pin": "wrong PIN", "pin_required": "PIN missing"},
}

TIMELINE = {
    "nl": {
        "alarm_raised": "Alarm ({kind}) bij {where}",
        "unknown_device": "Onbekend apparaat {device}: afspraak {agreement}",
        "severe": "Ernstig alarm: {reason}",
        "step_started": "Stap {step} gestart{code}",
        "step_skipped": "Stap {step} overgeslagen: {reason}",
        "notified": "{recipient} opgeroepen via {channel}",
        "escalated": "Opgeschaald van {from} naar {to}: {reason}",
        "repeated": "ONBEANTWOORD: stap {step} herhaald (ronde {round})",
        "unanswered": "ONBEANTWOORD bij stap {step}: {reason}",
        "accepted": "{recipient} komt{role_text}",
        "confirmed": "{recipient} heeft het alarm bevestigd",
        "declined": "{recipient} kan niet",
        "withdrew": "{recipient} komt toch niet",
        "help_organised": "Genoeg hulp onderweg ({accepted} van {required})",
        "on_scene": "{recipient} is ter plaatse",
        "new_press": "Opnieuw gedrukt (keer {press})",
        "cancel_refused": "Annuleren geweigerd: {reason}",
        "duress": "DWANG: geannuleerd met de dwang-PIN",
        "cancel_ignored_after_duress": "Annulering na dwang genegeerd",
        "closed": "Afgesloten: {outcome}",
        "channel_failed": "{channel} naar {recipient} mislukt ({reason}){next_text}",
        "unreachable": "{recipient} onbereikbaar ({reason})",
        "late_response": "{recipient} antwoordde na afsluiten",
        "escalated_by_operator": "Opgeschaald door de meldkamer",
    },
    "en": {
        "alarm_raised": "Alarm ({kind}) at {where}",
        "unknown_device": "Unknown device {device}: agreement {agreement}",
        "severe": "Severe alarm: {reason}",
        "step_started": "Step {step} started{code}",
        "step_skipped": "Step {step} skipped: {reason}",
        "notified": "{recipient} notified by {channel}",
        "escalated": "Escalated from {from} to {to}: {reason}",
        "repeated": "UNANSWERED: step {step} repeated (round {round})",
        "unanswered": "UNANSWERED at step {step}: {reason}",
        "accepted": "{recipient} is coming{role_text}",
        "confirmed": "{recipient} confirmed the alarm",
        "declined": "{recipient} cannot come",
        "withdrew": "{recipient} is no longer coming",
        "help_organised": "Enough help on the way ({accepted} of {required})",
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
    },
}


def pick_language(requested: str | None, accept_language: str | None) -> str:
    if requested in LANGUAGES:
        return requested  # type: ignore[return-value]
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
    values["code"] = f" (code {data['code']})" if data.get("code") else ""
    role = data.get("role")
    values["role_text"] = (f" (nummer {role})" if language == "nl" else f" (number {role})") if role else ""
    nxt = data.get("next")
    values["next_text"] = ((f"; verder via {nxt}" if language == "nl" else f"; next: {nxt}") if nxt else "")
    outcome = str(data.get("outcome"))
    values["outcome"] = OUTCOME[language].get(outcome, outcome).split(":")[0]
    values.setdefault("where", "?")
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return kind.replace("_", " ")
