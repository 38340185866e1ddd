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

__all__ = ["Effect", "Feedback", "FeedbackState", "Helper", "Message", "Notify", "Purpose", "Timeline"]
