"""The responder app's words (Dutch first; English for English speakers). The call itself uses
the one-tap page's words (gateway/responder/page.py TEXT)."""

from __future__ import annotations

from gateway.responder.page import TEXT

APP_TEXT = {
    "nl": {**TEXT["nl"], "app_title": "code4 oproepen", "sign_in": "Aanmelden", "username": "Gebruikersnaam",
           "password": "Wachtwoord", "bad_login": "Gebruikersnaam of wachtwoord klopt niet.",
           "no_calls": "Geen open oproepen.", "pending_send": "Nog niet verstuurd: wordt verstuurd zodra er "
           "verbinding is.", "push_on": "Meldingen aanzetten", "push_is_on": "Meldingen staan aan op dit toestel.",
           "push_lapsed": "Meldingen op een van je toestellen werkten niet meer en zijn verwijderd. Zet ze "
           "opnieuw aan.", "devices": "Aangemelde toestellen", "this_device": "dit toestel",
           "revoke": "Afmelden", "sign_out": "Afmelden op dit toestel", "role": "Je rol",
           "language": "English", "presence": "Aanwezig", "here": "Ik ben er", "leave": "Ik ga weg",
           "present_until": "aanwezig tot", "present_pager": "aanwezig: pager aan",
           "last_known": "Dit is wat code4 het laatst liet zien.",
           "install": "Zet code4 op je beginscherm via het menu van je browser "
           "(Toevoegen aan beginscherm)."},
    "en": {**TEXT["en"], "app_title": "code4 call-outs", "sign_in": "Sign in", "username": "User name",
           "password": "Password", "bad_login": "Wrong user name or password.", "no_calls": "No open call-outs.",
           "pending_send": "Not sent yet: it goes as soon as there is a connection.",
           "push_on": "Turn on notifications", "push_is_on": "Notifications are on for this device.",
           "push_lapsed": "Notifications on one of your devices stopped working and were removed. Turn them "
           "on again.", "devices": "Signed-in devices", "this_device": "this device", "revoke": "Sign out",
           "sign_out": "Sign out on this device", "role": "Your role", "language": "Nederlands",
           "presence": "Present", "here": "I'm here", "leave": "I'm leaving", "present_until": "present until",
           "present_pager": "present: pager on", "last_known": "This is what code4 showed last.",
           "install": "Add code4 to your home screen from your browser's menu (Add to Home screen)."},
}
