"""Reading a responder's SMS reply: tolerant of how people type on a phone in a hurry.

"1", "ja", "kom", "ok" mean coming; "2", "nee", "kan niet" mean not coming; "3",
"ter plaatse", "ben er" mean on scene. A reply may name an alarm by its short code
("1 K3X9") when the person has several open calls.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PHRASES: dict[str, tuple[str, ...]] = {
    "accept": ("1", "ja", "j", "jep", "yes", "y", "kom", "ik kom", "kom eraan", "ik kom eraan", "komen", "ok",
               "oke", "okay", "akkoord", "onderweg", "accept", "coming", "on my way"),
    "decline": ("2", "nee", "n", "no", "kan niet", "ik kan niet", "niet", "nope", "decline", "cannot", "can't",
                "cant", "sorry"),
    "on_scene": ("3", "ter plaatse", "tp", "ben er", "ik ben er", "aanwezig", "er", "on scene", "here", "arrived"),
}
_LOOKUP = {phrase: response for response, phrases in PHRASES.items() for phrase in phrases}
# Inside a longer message only distinctive words and phrases count ("ik ben er over 5 min"
# must not read as "on scene").
_STRONG_WORDS = {"1", "2", "3", "ja", "yes", "kom", "komen", "onderweg", "ok", "oke", "okay", "akkoord", "coming",
                 "nee", "no", "nope", "sorry", "aanwezig", "arrived"}
_STRONG_PHRASES = ("ik kom", "kom eraan", "kan niet", "ter plaatse", "on scene", "on my way")
_NEGATIONS = {"niet", "geen", "not", "cant", "can't", "cannot", "nee", "no", "never", "nooit"}


@dataclass(frozen=True)
class Reply:
    response: str | None  # accept | decline | on_scene, or None when unclear
    code: str | None  # a short code the reply named, if any


def parse_reply(text: str, codes: set[str]) -> Reply:
    """`codes` are the short codes of the sender's open calls; other words are the answer."""
    normal = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9']+", normal)
    upper = {c.upper() for c in codes}
    code = next((w.upper() for w in words if w.upper() in upper), None)
    rest = [w for w in words if w.upper() not in upper]
    # A code may be glued to the digit ("1k3x9"): split it off.
    if code is None and len(rest) == 1 and len(rest[0]) == 5 and rest[0][0] in "123" and rest[0][1:].upper() in upper:
        code, rest = rest[0][1:].upper(), [rest[0][0]]
    phrase = " ".join(rest)
    if phrase in _LOOKUP:
        return Reply(_LOOKUP[phrase], code)
    found = {_LOOKUP[w] for w in rest if w in _STRONG_WORDS}
    found |= {_LOOKUP[p] for p in _STRONG_PHRASES if f" {p} " in f" {phrase} "}
    if "accept" in found and _NEGATIONS & set(rest):
        # "ik kom niet", "kom, kan niet": never count someone as coming on a doubtful reading.
        return Reply(None, code)
    return Reply(found.pop() if len(found) == 1 else None, code)
