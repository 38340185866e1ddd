"""Device protocol v1: topics and payload validation, without a broker."""

from __future__ import annotations

import pytest

from devices.endpoint import MqttEndpoint
from devices.protocol import (
    UNREADABLE_ALARM_ID,
    AlarmPayload,
    DeviceMessage,
    HeartbeatPayload,
    ProtocolError,
    StatusPayload,
    Topics,
    parse_uplink,
)

TOPICS = Topics("code4/v1")


def parse(topic: str, payload: bytes) -> DeviceMessage | ProtocolError:
    return parse_uplink(TOPICS, topic, payload)


def test_an_alarm_with_defaults_and_unknown_fields_ignored() -> None:
    message = parse("code4/v1/dev/knop-1/alarm", b'{"alarm_id": "a1", "firmware_flavour": "x"}')
    assert isinstance(message, DeviceMessage)
    assert message.device_id == "knop-1"
    assert message.payload == AlarmPayload(alarm_id="a1", press=1, kind="panic", silent=True)


def test_a_mobile_alarm_with_position_and_battery() -> None:
    message = parse("code4/v1/dev/mob-1/alarm", b'{"alarm_id": "a", "kind": "man_down", "ts": "2026-11-23T10:00:00Z",'
                    b' "position": {"lat": 52.5, "lon": 4.8, "accuracy_m": 12}, "battery": 0.4}')
    assert isinstance(message, DeviceMessage) and isinstance(message.payload, AlarmPayload)
    assert message.payload.position is not None and message.payload.position.lat == 52.5
    assert message.payload.ts is not None and message.payload.ts.tzinfo is not None


@pytest.mark.parametrize(("payload", "reason"), [
    (b'{"alarm_id": "a", "press": 0}', "press"),
    (b'{"alarm_id": "a", "kind": "fire"}', "kind"),
    (b'{"alarm_id": "a", "battery": 1.5}', "battery"),
    (b'{"alarm_id": "a", "position": {"lat": 52}}', "position"),
    (b'{"alarm_id": "a", "ts": "yesterday", "press": 1e400}', "ts"),
    (b'{"alarm_id": "a", "ts": "2026-11-23T10:00:00"}', "timezone"),
])
def test_an_alarm_with_faulty_optional_fields_is_still_a_press(payload: bytes, reason: str) -> None:
    message = parse("code4/v1/dev/knop-1/alarm", payload)
    assert isinstance(message, DeviceMessage) and isinstance(message.payload, AlarmPayload)
    assert message.payload.alarm_id == "a" and message.payload.press == 1
    assert message.problem is not None and reason in message.problem


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{", "not JSON"),
    (b'"text"', "must be a JSON object"),
    (b'{"alarm_id": ""}', "alarm_id"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[" * 1000 + b"]" * 1000, "nested deeper"),
    (b'{"alarm_id": "' + b"a" * 4100 + b'"}', "exceeds 4096"),
    (b'{"alarm_id": "a\\u0000b"}', "NUL"),
    (b'{"alarm_id": "\\ud800"}', "surrogate"),
])
def test_an_unreadable_alarm_still_alarms_and_says_what_is_wrong(payload: bytes, reason: str) -> None:
    message = parse("code4/v1/dev/knop-1/alarm", payload)
    assert isinstance(message, DeviceMessage) and isinstance(message.payload, AlarmPayload)
    assert message.payload.alarm_id == UNREADABLE_ALARM_ID
    assert message.problem is not None and message.problem.startswith("unreadable") and reason in message.problem


def test_an_empty_payload_on_the_alarm_topic_is_a_retained_message_cleared_not_an_alarm() -> None:
    assert isinstance(parse("code4/v1/dev/knop-1/alarm", b""), ProtocolError)


@pytest.mark.parametrize(("kind", "payload", "reason"), [
    ("heartbeat", b"[" * 1000 + b"]" * 1000, "nested deeper than 8"),
    ("status", b'{"a":' * 500 + b"1" + b"}" * 500, "nested deeper than 8"),
    ("heartbeat", b'{"rssi": 1e41}', "rssi"),
    ("heartbeat", b'{"rssi": 100000000000000000000000000000000000000000}', "rssi"),
    ("heartbeat", b'{"battery": NaN}', "NaN"),
    ("heartbeat", b'{"battery": Infinity}', "Infinity"),
    ("position", b'{"lat": 52, "lon": 4, "accuracy_m": 1e300}', "accuracy_m"),
    ("checkin", b'{"action": "start", "expect_within_s": 99999999999999}', "expect_within_s"),
    ("cancel", b'{"alarm_id": "a", "pin": ' + b"9" * 4000 + b"}", "pin"),
    ("response", b'{"page_id": "x", "response": ["accept"]}', "response"),
    ("cancel", b"\xc3\x28", "not UTF-8"),
])
def test_hostile_payloads_of_other_kinds_are_protocol_errors(kind: str, payload: bytes, reason: str) -> None:
    error = parse(f"code4/v1/dev/knop-1/{kind}", payload)
    assert isinstance(error, ProtocolError), error
    assert error.device_id == "knop-1" and reason in error.reason


def test_nesting_inside_strings_does_not_count() -> None:
    message = parse("code4/v1/dev/knop-1/heartbeat", b'{"fw": "' + b"[{" * 20 + b'"}')
    assert isinstance(message, DeviceMessage) and isinstance(message.payload, HeartbeatPayload)


@pytest.mark.parametrize("topic", ["other/v1/dev/knop-1/alarm", "code4/v1/dev/alarm", "code4/v1/x/knop-1/alarm"])
def test_topics_outside_the_protocol_are_errors(topic: str) -> None:
    assert isinstance(parse(topic, b"{}"), ProtocolError)


def test_unknown_kinds_and_bad_device_ids_are_errors() -> None:
    unknown = parse("code4/v1/dev/knop-1/selfdestruct", b"{}")
    assert isinstance(unknown, ProtocolError) and "unknown message kind" in unknown.reason
    bad_id = parse("code4/v1/dev/knop 1/alarm", b'{"alarm_id": "a"}')
    assert isinstance(bad_id, ProtocolError) and bad_id.device_id is None


@pytest.mark.parametrize("payload", [b'"offline"', b"offline", b'{"status": "offline"}'])
def test_status_accepts_a_bare_or_quoted_last_will(payload: bytes) -> None:
    message = parse("code4/v1/dev/knop-1/status", payload)
    assert isinstance(message, DeviceMessage) and message.payload == StatusPayload(status="offline")


def test_a_longer_prefix_works_too() -> None:
    topics = Topics("acme/alarm/code4/v1/")
    assert topics.split("acme/alarm/code4/v1/dev/knop-1/cancel") == ("knop-1", "cancel")
    assert topics.device("knop-1", "feedback") == "acme/alarm/code4/v1/dev/knop-1/feedback"
    assert ("acme/alarm/code4/v1/dev/+/alarm", 1) in topics.uplink_filters()


def test_mqtt_urls() -> None:
    endpoint = MqttEndpoint.parse("mqtts://code4:s%40cret@broker.example:8884")
    assert (endpoint.host, endpoint.port, endpoint.username, endpoint.password, endpoint.tls) == (
        "broker.example", 8884, "code4", "s@cret", True)
    assert endpoint.url() == "mqtts://code4:***@broker.example:8884"
    assert MqttEndpoint.parse("mqtt://127.0.0.1").port == 1883
    with pytest.raises(ValueError, match="mqtt://"):
        MqttEndpoint.parse("http://127.0.0.1:1883")
