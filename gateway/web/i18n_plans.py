"""Words for floor plans: the board's plans, the alarm page and the admin page that tells plan
coordinates. Merged into `BOARD` (gateway/web/i18n.py)."""

from __future__ import annotations

PLANS: dict[str, dict[str, str]] = {
    "nl": {
        "plans_title": "Plattegronden", "plans_none": "Er staan geen plattegronden in het afsprakenbestand.",
        "plans_intro": "Klik op de plattegrond: de coördinaten verschijnen hieronder, klaar om over te nemen "
                       "als at: [x, y] (of gathering_at) in het afsprakenbestand.",
        "plans_click": "Klik voor coördinaten", "plans_size": "Afmetingen", "plans_file": "Bestand",
        "plan_location": "Locatie van het alarm", "plan_gathering": "Verzamelpunt", "plan_fault": "Storing",
    },
    "en": {
        "plans_title": "Floor plans", "plans_none": "The agreement file has no floor plans.",
        "plans_intro": "Click on the plan: its coordinates appear below, ready to copy as at: [x, y] (or "
                       "gathering_at) into the agreement file.",
        "plans_click": "Click for coordinates", "plans_size": "Size", "plans_file": "File",
        "plan_location": "Location of the alarm", "plan_gathering": "Gathering point", "plan_fault": "Fault",
    },
}
