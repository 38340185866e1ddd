"""Drills through the core and texts; the adapters' translation; broker password hashes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from devices import broker_accounts
from devices.adapters import Adapters
from devices.broker_accounts import acl_text, bridges, hash_password, verify_password
from devices.protocol import AlarmPayload, DeviceMessage, HeartbeatPayload, ProtocolError, StatusPayload
from dispatcher.core import Outcome, Purpose
from escalation.model import DEFAULT_ACTIONS
from escalation.texts import feedback_text, page_text
from tests.factories import Run, feedback, notifications, standard_plan

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_a_drill_is_marked_from_the_start_and_every_message_says_so() -> None:
    run = Run(replace(standard_plan(), drill=True))
    assert run.state.marked is Outcome.DRILL
    page = notifications(run.effects, Purpose.PAGE)[0]
    assert page_text(Purpose.PAGE, page.message, "nl").startswith("OEFENING: Assistentie: paniekalarm")
    assert page_text(Purpose.PAGE, page.message, "en").startswith("DRILL: Assistance: panic alarm")
    assert feedback_text(feedback(run.effects)[0]) == "OEFENING: Alarm ontvangen. We zoeken hulp."


@dataclass
class Config:
    id: str
    kind: str
    devices: dict[str, str]
    application: str | None = None
    base_topic: str = "zigbee2mqtt"
    press_field: str = "press"
    battery_field: str = "battery"
    battery_percent: bool = True
    actions: dict[str, str] = field(default_factory=dict)

    @property
    def action_map(self) -> dict[str, str]:
        return self.actions or DEFAULT_ACTIONS[self.kind]


def test_zigbee_presses_within_ten_minutes_are_presses_of_one_alarm() -> None:
    adapters = Adapters([Config("z", "zigbee2mqtt", {"SOS 1": "knop-1"})])
    assert {("zigbee2mqtt/SOS 1", 1), ("zigbee2mqtt/SOS 1/availability", 1)} <= set(adapters.filters())
    first = adapters.translate("zigbee2mqtt/SOS 1", json.dumps({"action": "emergency", "battery": 50}).encode(), T0)
    assert isinstance(first, list)
    heartbeat, alarm = first
    assert heartbeat == DeviceMessage("knop-1", "heartbeat", HeartbeatPayload(battery=0.5))
    assert isinstance(alarm.payload, AlarmPayload) and (alarm.payload.press, alarm.payload.kind) == (1, "panic")
    again = adapters.translate("zigbee2mqtt/SOS 1", b'{"action": "emergency"}', T0 + timedelta(minutes=9))
    later = adapters.translate("zigbee2mqtt/SOS 1", b'{"action": "hold"}', T0 + timedelta(minutes=20))
    assert isinstance(again, list) and isinstance(later, list)
    assert (again[1].payload.alarm_id, again[1].payload.press) == (alarm.payload.alarm_id, 2)  # type: ignore[union-attr]
    assert later[1].payload.alarm_id != alarm.payload.alarm_id and later[1].payload.kind == "man_down"  # type: ignore[union-attr]
    assert adapters.translate("zigbee2mqtt/SOS 1", b'{"action": ""}', T0) == [
        DeviceMessage("knop-1", "heartbeat", HeartbeatPayload())], "no action: only a sign of life"
    assert adapters.translate("zigbee2mqtt/SOS 1/availability", b"offline", T0) == [
        DeviceMessage("knop-1", "status", StatusPayload(status="offline"))]
    assert adapters.translate("zigbee2mqtt/Andere knop", b"{}", T0) is None, "not ours"
    broken = adapters.translate("zigbee2mqtt/SOS 1", b"{not json", T0)
    assert isinstance(broken, ProtocolError) and broken.device_id == "knop-1"


def test_a_lorawan_frame_seen_twice_counts_once() -> None:
    adapters = Adapters([Config("l", "chirpstack", {"24E124535B312345": "knop-2"}, application="app-1")])
    topic = "application/app-1/device/24e124535b312345/event/up"
    uplink = json.dumps({"fCnt": 7, "object": {"press": "long", "battery": 80}}).encode()
    first, repeat = adapters.translate(topic, uplink, T0), adapters.translate(topic, uplink, T0)
    assert isinstance(first, list) and first[1].payload.kind == "man_down"  # type: ignore[union-attr]
    assert repeat == []
    assert isinstance(adapters.translate(topic, json.dumps({"fCnt": 8}).encode(), T0), ProtocolError)


def test_mosquitto_password_hashes_and_the_acl() -> None:
    hashed = hash_password("geheim-wachtwoord-1")
    assert hashed.startswith("$7$101$") and verify_password("geheim-wachtwoord-1", hashed)
    assert not verify_password("fout", hashed)
    acl = acl_text("code4/v1", bridges([Config("z", "zigbee2mqtt", {"a": "b"})]))
    assert "pattern write code4/v1/dev/%u/alarm\n" in acl and "pattern read code4/v1/dev/%u/feedback\n" in acl
    assert "user bridge-z\ntopic write zigbee2mqtt/#\n" in acl
    assert "pattern readwrite" not in acl and "pattern write code4/v1/dev/%u/feedback" not in acl


def test_no_new_password_starts_like_a_spreadsheet_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    """The new passwords go to a CSV file; a spreadsheet runs a cell starting with '-' as a formula."""
    drawn = iter(["-starts-like-a-minus", "Dispatcher0k", "_underscore", "9device0k"])
    monkeypatch.setattr(broker_accounts.secrets, "token_urlsafe", lambda _n: next(drawn))
    _, new = broker_accounts.accounts(["knop-1"], {})
    assert new == {broker_accounts.DISPATCHER: "Dispatcher0k", "knop-1": "9device0k"}
