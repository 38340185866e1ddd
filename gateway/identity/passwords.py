"""What a new password must be: long enough, and not easy to guess.

zxcvbn estimates how many guesses a password takes, knowing the commonest passwords, words,
names, keyboard rows, sequences, dates and repeats. code4 asks for its highest score (at least
10^10 guesses): a password like 'Welkom01!2345' or 'Summer2024!!' is the first thing a sprayer
tries, a few unrelated words are not. Dutch words that people build passwords on, and the
user's own names, are added to its (English) lists.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from zxcvbn import zxcvbn

MIN_LENGTH = 12
STRONG = 4  # zxcvbn's scores run 0-4; 4 is "very unguessable"
_CHECKED = 72  # zxcvbn refuses longer input; a long tail only adds guesses

# Words Dutch passwords are often built on; zxcvbn's own lists are English.
DUTCH = (
    "welkom", "wachtwoord", "geheim", "hallo", "hoi", "zomer", "winter", "lente", "herfst", "voorjaar", "najaar",
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november",
    "december", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag", "liefde", "schatje",
    "lieverd", "voetbal", "ajax", "feyenoord", "psv", "oranje", "nederland", "holland", "amsterdam", "rotterdam",
    "utrecht", "denhaag", "kerst", "koning", "gemeente", "meldkamer", "alarm", "beveiliging", "balie", "kantoor",
    "werk", "code4", "beheer", "beheerder", "gebruiker", "inloggen", "toegang",
)

# zxcvbn keeps the user's words in a module-level table while it checks: one check at a time.
_lock = threading.Lock()


def password_problem(password: str, own_words: Iterable[str] = ()) -> str | None:
    """Why this password will not do, in words its owner understands; None when it will."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    own = [w.lower() for w in own_words if w and len(w) >= 3]
    with _lock:
        result = zxcvbn(password[:_CHECKED], user_inputs=[*DUTCH, *own])
    if result["score"] >= STRONG:
        return None
    reasons = _reasons(result["sequence"], set(own))
    built_on = f": it is built on {_and(reasons)}" if reasons else ""
    return (f"this password is too easy to guess{built_on}; "
            "choose three or four unrelated words, or a longer password")


def _reasons(sequence: list[dict[str, Any]], own: set[str]) -> list[str]:
    found: list[str] = []
    for match in sequence:
        reason = _reason(match, own)
        if reason and reason not in found:
            found.append(reason)
    return found


def _reason(match: dict[str, Any], own: set[str]) -> str | None:
    pattern = match["pattern"]
    if pattern == "dictionary":
        name = match["dictionary_name"]
        if name == "passwords":
            return "a commonly used password"
        if name == "user_inputs":
            return "your own name" if match["matched_word"] in own else "a word often used in passwords"
        if name in ("surnames", "male_names", "female_names"):
            return "a common name"
        return "a common word"
    return {
        "spatial": "a row of keys",
        "sequence": "a sequence like 'abc' or '1234'",
        "repeat": "repeated characters",
        "date": "a date",
        "regex": "a year",
    }.get(pattern)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
