"""Words for the response-time targets (learning page, quarterly report, the board's warning).
Dutch first; English for those who asked for it. Merged into `BOARD` (gateway/web/i18n.py)."""

from __future__ import annotations

TARGETS: dict[str, dict[str, str]] = {
    "nl": {
        "targets_title": "Responstijd-afspraken",
        "targets_intro": "Aandeel alarmen dat binnen de afgesproken tijd werd geaccepteerd door een hulpverlener "
        "(of bevestigd door de politie of een alarmcentrale), gerekend vanaf het alarm. Een alarm dat niemand "
        "accepteerde telt als niet gehaald. Niet meegeteld: oefeningen en testmeldingen, en een alarm dat werd "
        "ingetrokken of afgesloten voordat iemand accepteerde en voordat de tijd om was.",
        "targets_month": "Maand", "targets_site": "Locatie", "targets_all_sites": "Alle locaties",
        "targets_within": "Binnen {time}", "targets_target": "afspraak {share}",
        "targets_of": "{met} van {counted}", "targets_met": "gehaald", "targets_not_met": "niet gehaald",
        "targets_none": "geen alarmen",
        "targets_below": "Responstijd deze maand onder de afspraak",
        "targets_below_item": "{shown} binnen {time} geaccepteerd ({met} van {counted}, afspraak {share})",
        "obs_target": "{month}: {shown} van de alarmen binnen {time} geaccepteerd ({met} van {counted}); de afspraak "
        "is {share}",
    },
    "en": {
        "targets_title": "Response-time targets",
        "targets_intro": "Share of alarms a responder accepted (or the police or an alarm centre confirmed) "
        "within the agreed time, counted from the alarm. An alarm nobody accepted counts as not met. Not counted: "
        "drills and test presses, and an alarm cancelled or closed before anyone accepted and before the time "
        "was up.",
        "targets_month": "Month", "targets_site": "Site", "targets_all_sites": "All sites",
        "targets_within": "Within {time}", "targets_target": "target {share}",
        "targets_of": "{met} of {counted}", "targets_met": "met", "targets_not_met": "not met",
        "targets_none": "no alarms",
        "targets_below": "Response time this month below target",
        "targets_below_item": "{shown} accepted within {time} ({met} of {counted}, target {share})",
        "obs_target": "{month}: {shown} of alarms accepted within {time} ({met} of {counted}); the target is {share}",
    },
}
