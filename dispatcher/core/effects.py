"""What the core asks the shell to do. Effects are data; the shell performs them only after
the decision that produced them has been stored.

`Notify` and `Feedback` are defined in `escalation.notices`, beside the channels that deliver
them; `Timeline` is the core's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from escalation.notices import Feedback, FeedbackState, Helper, Message, Notify, Purpose


@dataclass(frozen=True)
class Timeline:
    """A fact for the incident timeline. `notice` marks what the control room must see."""

    kind: str
    actor: str
    channel: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    notice: bool = False


Effect = Notify | Feedback | Timeline

# Every kind of timeline entry the core writes (the screens have words for each; the incident
# import accepts these only).
TIMELINE_KINDS = frozenset({
    "accepted", "alarm_raised", "cancel_ignored_after_duress", "cancel_refused", "centre_receiver_switched",
    "centre_transmission", "channel_failed", "closed",
    "confirmed", "declined", "duress", "escalated", "escalated_by_operator", "help_organised", "informed",
    "late_response", "marked", "new_press", "note", "notified", "on_scene", "police_requested", "repeated", "seen",
    "severe", "step_short", "step_skipped", "step_started", "unanswered", "unknown_device", "unreachable",
    "unreadable_alarm", "withdrew",
})

__all__ = ["TIMELINE_KINDS", "Effect", "Feedback", "FeedbackState", "Helper", "Message", "Notify", "Purpose",
           "Timeline"]
