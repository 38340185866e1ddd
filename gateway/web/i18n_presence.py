"""Words of the presence pages (the kiosk, the board's presence page) and markers."""

from __future__ import annotations

PRESENCE: dict[str, dict[str, str]] = {
    "nl": {
        "step_short_badge": "te weinig aanwezig: {present} van {required}",
        "present_only": "alleen wie aanwezig is",
        "nav_presence": "Aanwezig",
        "presence_title": "Wie is er aanwezig",
        "presence_intro": "Aangemeld via de app of de zuil bij de ingang, of met een pieper die aan staat waar "
                          "de organisatie dat laat meetellen. Een aanmelding vervalt vanzelf na {hours} uur.",
        "presence_none": "Niemand aangemeld.",
        "presence_person": "Persoon", "presence_via": "Via", "presence_since": "Sinds", "presence_until": "Tot",
        "presence_via_app": "app", "presence_via_kiosk": "zuil", "presence_via_pager": "pieper aan",
        "presence_short_now": "Open alarmen met een stap die niet gehaald kan worden",
        "kiosk_title": "Aanmelden bij {site}",
        "kiosk_intro": "Tik op je naam als je binnenkomt en als je weggaat.",
        "kiosk_here": "Ik ben er", "kiosk_leave": "Ik ga weg", "kiosk_is_present": "aanwezig",
        "kiosk_nobody": "Voor deze locatie staat niemand in de lijst.",
        "kiosk_done_in": "{name} is aangemeld.", "kiosk_done_out": "{name} is afgemeld.",
    },
    "en": {
        "step_short_badge": "too few present: {present} of {required}",
        "present_only": "only those present",
        "nav_presence": "Present",
        "presence_title": "Who is present",
        "presence_intro": "Signed in with the app or the kiosk at the entrance, or with a pager switched on where "
                          "the organisation counts that. A sign-in lapses by itself after {hours} hours.",
        "presence_none": "Nobody signed in.",
        "presence_person": "Person", "presence_via": "Via", "presence_since": "Since", "presence_until": "Until",
        "presence_via_app": "app", "presence_via_kiosk": "kiosk", "presence_via_pager": "pager on",
        "presence_short_now": "Open alarms with a step that cannot be met",
        "kiosk_title": "Sign in at {site}",
        "kiosk_intro": "Tap your name when you come in and when you leave.",
        "kiosk_here": "I'm here", "kiosk_leave": "I'm leaving", "kiosk_is_present": "present",
        "kiosk_nobody": "Nobody is listed for this site.",
        "kiosk_done_in": "{name} signed in.", "kiosk_done_out": "{name} signed out.",
    },
}
