"""The wall's words, Dutch and English (kinds of alarm and faults come from gateway/web/i18n.py)."""

from __future__ import annotations

from gateway.web.i18n import BOARD

FAULTS = ("offline", "silent", "battery_low", "untested")

_OWN = {
    "nl": {"title": "Alarmoverzicht", "alarms": "Open alarmen", "no_alarms": "Geen open alarmen",
           "silent": "Stil alarm", "alarm": "Alarm", "since": "sinds de druk", "step": "stap {step} van {steps}",
           "deadline": "volgende stap over", "overdue": "volgende stap nu", "no_deadline": "geen termijn",
           "unanswered": "nog niemand onderweg", "coming": "{n} onderweg",
           "faults": "Storingen", "no_faults": "Geen storingen", "present": "Aanwezig", "nobody": "Niemand aangemeld",
           "offline": "Verbinding verbroken", "retry": "opnieuw proberen over {s} s", "retrying": "opnieuw proberen…",
           "refused": "Geen toegang meer: het token van dit scherm is ingetrokken of verlopen",
           "bad_token": "Dit token hoort niet bij een schermaccount (of is ingetrokken)."},
    "en": {"title": "Alarm overview", "alarms": "Open alarms", "no_alarms": "No open alarms",
           "silent": "Silent alarm", "alarm": "Alarm", "since": "since the press", "step": "step {step} of {steps}",
           "deadline": "next step in", "overdue": "next step now", "no_deadline": "no deadline",
           "unanswered": "nobody on the way yet", "coming": "{n} on the way",
           "faults": "Faults", "no_faults": "No faults", "present": "Present", "nobody": "Nobody signed in",
           "offline": "Connection lost", "retry": "retrying in {s} s", "retrying": "retrying…",
           "refused": "No access any more: this display's token was revoked or has expired",
           "bad_token": "This token does not belong to a display account (or was revoked)."},
}


def words(lang: str) -> dict[str, str]:
    """The wall script's words: its own, the kinds of alarm (kind_*) and the faults (fault_*)."""
    board = BOARD[lang]
    picked = {k: v for k, v in board.items() if k.startswith("kind_")}
    picked.update({f"fault_{f}": board.get(f"fault_{f}", f) for f in FAULTS})
    return {**picked, **_OWN[lang]}
