"""Feedback to the device that raised the alarm: received, help coming, on scene, closed."""

from __future__ import annotations

from devices.protocol import FeedbackPayload, Topics, encode
from escalation.channels import Publisher
from escalation.notices import Feedback
from escalation.texts import feedback_text


class DeviceFeedback:
    def __init__(self, publisher: Publisher, topics: Topics) -> None:
        self._publisher = publisher
        self._topics = topics

    async def send_feedback(self, feedback: Feedback) -> None:
        payload = FeedbackPayload(
            alarm_id=feedback.device_alarm_id, state=feedback.state.value, text=feedback_text(feedback)
        )
        await self._publisher.publish(self._topics.device(feedback.device_id, "feedback"), encode(payload), qos=1)
