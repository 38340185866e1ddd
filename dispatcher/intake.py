"""Where every device message comes in: parse, validate, queue — and nothing else.

The MQTT receive loop calls `Intake.accept` for each message and awaits nothing: alarms,
cancels and answers go to the dispatcher's queue (alarms and cancels first), every message also
goes to the device watch's queue as a fact (heartbeats coalesced there). Any payload becomes
messages or a counted protocol error; a fault in here is logged with the topic and the next
message goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import structlog

from devices.adapters import Adapters
from devices.protocol import DeviceMessage, ProtocolError, Topics, parse_uplink

log = structlog.get_logger("code4.intake")

DISPATCHED = frozenset({"alarm", "cancel", "response"})
# Commands that happened once: the broker replaying one retained on subscribe is not a new one.
NEVER_RETAINED = frozenset({"alarm", "cancel", "response", "checkin"})


class Intake:
    def __init__(self, *, topics: Topics, adapters: Callable[[], Adapters], now: Callable[[], datetime],
                 dispatch: Callable[[DeviceMessage], None], observe: Callable[[DeviceMessage], None]) -> None:
        self._topics = topics
        self._adapters = adapters
        self._now = now
        self._dispatch = dispatch
        self._observe = observe
        self.protocol_errors = 0
        self.intake_errors = 0

    def accept(self, topic: str, payload: bytes, retained: bool = False) -> None:
        try:
            self._accept(topic, payload, retained)
        except Exception:
            self.intake_errors += 1
            log.exception("message could not be taken in; continuing with the next", topic=topic[:200],
                          intake_errors=self.intake_errors)

    def _accept(self, topic: str, payload: bytes, retained: bool) -> None:
        adapted = self._adapters().translate(topic, payload, self._now())
        parsed = parse_uplink(self._topics, topic, payload) if adapted is None else adapted
        if isinstance(parsed, ProtocolError):
            self._protocol_error(parsed.device_id, parsed.kind, topic, parsed.reason)
            return
        for message in parsed if isinstance(parsed, list) else [parsed]:
            if retained and message.kind in NEVER_RETAINED:
                self._protocol_error(message.device_id, message.kind, topic,
                                     "a retained message replayed by the broker: ignored (publish it without retain)")
                continue
            if message.problem:
                self._protocol_error(message.device_id, message.kind, topic, message.problem, used=True)
            if retained:
                message = replace(message, retained=True)
            if message.kind in DISPATCHED:
                self._dispatch(message)
            self._observe(message)

    def _protocol_error(self, device_id: str | None, kind: str | None, topic: str, reason: str, *,
                        used: bool = False) -> None:
        self.protocol_errors += 1
        what = ("protocol error: the alarm goes on without what could not be read" if used
                else "protocol error: message ignored")
        log.warning(what, device_id=device_id, kind=kind, topic=topic[:200], reason=reason,
                    protocol_errors=self.protocol_errors)
