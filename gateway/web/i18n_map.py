"""Words for the field alarms' map (gateway/board/fieldmap.py). Dutch first; English for those
who asked for it."""

from __future__ import annotations

MAP: dict[str, dict[str, str]] = {
    "nl": {
        "map_title": "Kaart buitendienst",
        "map_link": "Kaart buitendienst",
        "map_intro": "Open alarmen van mobiele alarmen en gemiste check-ins, op hun laatst gemelde positie.",
        "map_none": "Geen open alarmen met een positie.",
        "map_label": "Kaart met de positie van het alarm",
        "map_position": "Laatste positie",
        "map_trail": "Route van de laatste {minutes} minuten",
        "map_no_tiles": "Geen kaartachtergrond ingesteld: posities en adressen zonder kaart.",
        "map_unknown_address": "adres onbekend",
        "map_accuracy": "±{meters} m",
    },
    "en": {
        "map_title": "Field map",
        "map_link": "Field map",
        "map_intro": "Open alarms of mobile alarms and missed check-ins, at their last reported position.",
        "map_none": "No open alarms with a position.",
        "map_label": "Map with the alarm's position",
        "map_position": "Last position",
        "map_trail": "Trail of the last {minutes} minutes",
        "map_no_tiles": "No map background configured: positions and addresses without a map.",
        "map_unknown_address": "address unknown",
        "map_accuracy": "±{meters} m",
    },
}
