"""The pure dispatcher core: `decide(state, event, now) -> (state, effects)`. No I/O, no clock."""

from dispatcher.core.effects import (
    Effect,
    Feedback,
    FeedbackState,
    Helper,
    Message,
    Notify,
    Purpose,
    Timeline,
)
from dispatcher.core.events import (
    AlarmRaised,
    CancelRequested,
    CentreAttempt,
    CentreReported,
    CloseRequested,
    DeadlineReached,
    DeliveryFailed,
    EscalateRequested,
    Event,
    Marked,
    NoteAdded,
    Outcome,
    PoliceRequested,
    Pressed,
    Responded,
    Response,
    Seen,
)
from dispatcher.core.machine import SEVERE_KINDS, TRANSITIONS, IllegalTransition, decide, message_for_page
from dispatcher.core.state import AlarmState, Page, PageStatus, Responder, Status
from escalation.plan import Position

__all__ = [
    "SEVERE_KINDS", "TRANSITIONS", "AlarmRaised", "AlarmState", "CancelRequested", "CentreAttempt", "CentreReported",
    "CloseRequested",
    "DeadlineReached", "DeliveryFailed", "Effect", "EscalateRequested", "Event", "Feedback",
    "FeedbackState", "Helper", "IllegalTransition", "Marked", "Message", "NoteAdded", "Notify", "Outcome", "Page",
    "PageStatus", "PoliceRequested", "Position", "Pressed", "Purpose", "Responded", "Responder", "Response", "Seen",
    "Status",
    "Timeline", "decide", "message_for_page",
]
