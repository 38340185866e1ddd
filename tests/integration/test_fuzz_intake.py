"""Fuzzing the intake: thousands of generated device messages, valid and hostile, through the
same entry point the MQTT session uses, then hostile payloads through the real broker.

Every case knows what it must do: a valid message counts no protocol error, an invalid one
counts exactly one (an invalid alarm payload still raises an alarm). Afterwards code4 is still
running and a real press still gets `received` and its page.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.conftest import FIXTURES
from tests.integration.harness import Harness

PREFIX = "code4/v1/dev"
DEVICES = ("knop-balie-1", "knop-balie-2", "mob-piet", "pager-sanne", "knop-nieuw-9")  # the last one unknown
ALARM_IDS = ("fz-1", "fz-2")  # few, so that valid alarms stay a handful of alarms
ZIGBEE = "zigbee2mqtt/SOS Balie 2"
CHIRPSTACK = "application/4b1e2f3a-0000-4c11-9a3b-1d2e3f4a5b6c/device/24e124535b312345/event/up"
TTN = "v3/code4-test@ttn/devices/ws101-oefen/up"
CASES = 3000

Case = tuple[str, bytes, bool, int]  # topic, payload, retained, protocol errors it must count

# ---- valid payloads of every uplink kind -------------------------------------------------------

# Text a device may send: anything UTF-8 can carry but NUL.
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
text = st.text(CHARS, max_size=40)
battery = st.floats(0, 1, allow_nan=False)
heartbeat = st.fixed_dictionaries({}, optional={
    "battery": battery, "rssi": st.integers(-255, 255), "fw": st.text(CHARS, max_size=64), "extra": text})
position = st.one_of(
    st.fixed_dictionaries({"lat": st.floats(-90, 90), "lon": st.floats(-180, 180)},
                          optional={"accuracy_m": st.floats(0, 1_000_000)}),
    st.fixed_dictionaries({"zone": st.text(CHARS, min_size=1, max_size=64).filter(str.strip)}),
)
checkin = st.one_of(
    st.fixed_dictionaries({"action": st.just("start"), "expect_within_s": st.integers(1, 7 * 86400)},
                          optional={"note": st.text(CHARS, max_size=500)}),
    st.fixed_dictionaries({"action": st.sampled_from(["ok", "end"])}),
)
response = st.fixed_dictionaries({"page_id": st.text(CHARS, min_size=1, max_size=96),
                                  "response": st.sampled_from(["accept", "decline", "on_scene"])})
cancel = st.fixed_dictionaries({"alarm_id": st.sampled_from(ALARM_IDS)},
                               optional={"pin": st.text(CHARS, max_size=16)})
alarm = st.fixed_dictionaries({"alarm_id": st.sampled_from(ALARM_IDS)}, optional={
    "press": st.integers(1, 3), "kind": st.sampled_from(["panic", "assist", "man_down", "no_movement"]),
    "silent": st.booleans(), "battery": battery, "position": position})
VALID = {"heartbeat": heartbeat, "position": position, "checkin": checkin, "response": response, "cancel": cancel,
         "alarm": alarm}
# Numbers that can be made hostile, and fields of each kind that refuse a list or an object.
NUMERIC = {"heartbeat": ("battery", "rssi"), "position": ("lat", "accuracy_m"), "checkin": ("expect_within_s",),
           "alarm": ("press", "battery")}
TYPED = {"heartbeat": ("battery", "rssi", "fw"), "position": ("lat", "accuracy_m"),
         "checkin": ("action", "expect_within_s"), "alarm": ("press", "battery", "kind"),
         "cancel": ("alarm_id", "pin"), "response": ("page_id", "response")}


def encode(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), allow_nan=True).encode()


@st.composite
def valid_case(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from([*VALID, "status"]))
    device = draw(st.sampled_from(DEVICES))
    if kind == "status":
        payload = draw(st.sampled_from([b"online", b"offline", b'"online"', b'{"status":"offline"}']))
        return f"{PREFIX}/{device}/status", payload, draw(st.booleans()), 0
    retained = kind in ("heartbeat", "position") and draw(st.booleans())  # facts may be retained
    return f"{PREFIX}/{device}/{kind}", encode(draw(VALID[kind])), retained, 0


@st.composite
def hostile_case(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(list(VALID)))
    device = draw(st.sampled_from(DEVICES))
    topic = f"{PREFIX}/{device}/{kind}"
    base = draw(VALID[kind])
    how = draw(st.sampled_from(["truncated", "deep", "huge", "wrong_type", "not_utf8", "unstorable", "oversize",
                                "nan", "not_object", "empty", "retained"]))
    if how == "truncated":
        full = encode(base)
        payload = full[: draw(st.integers(1, len(full) - 1))]
    elif how == "deep":
        depth = draw(st.integers(9, 3000))
        payload = b"[" * depth + b"]" * depth if draw(st.booleans()) else b'{"a":' * depth + b"1" + b"}" * depth
    elif how == "huge" and kind in NUMERIC:
        field = draw(st.sampled_from(NUMERIC[kind]))
        value = draw(st.sampled_from(["1e41", "-1e41", "1" + "0" * 50, "-" + "9" * 300, "1e400"]))
        payload = encode({**base, field: 0})[:-1] + f',"{field}":{value}}}'.encode()
    elif how in ("huge", "wrong_type"):  # an alarm keeps its press and drops the field; others are refused
        field = draw(st.sampled_from(TYPED[kind]))
        payload = encode({**base, field: draw(st.sampled_from([[1], {"x": 1}, [[]]]))})
    elif how == "not_utf8":
        payload = b'{"x":"' + draw(st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80"])) + b'"}'
    elif how == "unstorable":  # valid JSON, but text no database stores: a NUL, a lone surrogate
        payload = encode({**base, draw(st.sampled_from(["note", "x"])): draw(st.sampled_from(["a\x00b", "\ud800"]))})
    elif how == "oversize":
        payload = encode({**base, "padding": "x" * draw(st.integers(4100, 20000))})
    elif how == "nan":  # also in a field code4 ignores: NaN is no JSON number at all
        field = draw(st.sampled_from(NUMERIC.get(kind, ("x",))))
        payload = encode({**base, field: draw(st.sampled_from([math.nan, math.inf, -math.inf]))})
    elif how == "not_object":
        payload = draw(st.sampled_from([b"[]", b"1", b"true", b"null", b'"text"', b"[{}]"]))
    elif how == "empty":
        payload = draw(st.sampled_from([b"", b" ", b"\n"]))
    else:  # a command replayed from the broker's retained store
        kind = draw(st.sampled_from(["alarm", "cancel", "response", "checkin"]))
        return f"{PREFIX}/{device}/{kind}", encode(draw(VALID[kind])), True, 1
    return topic, payload, False, 1


@st.composite
def odd_topic_case(draw: st.DrawFn) -> Case:
    payload = encode(draw(heartbeat))
    topic = draw(st.sampled_from([
        f"{PREFIX}/knop-balie-1/selfdestruct", f"{PREFIX}/knop balie/heartbeat", f"{PREFIX}/{'k' * 65}/heartbeat",
        f"{PREFIX}/knöp/heartbeat", f"{PREFIX}/knop-balie-1/heartbeat/extra", "code4/v2/dev/knop-balie-1/heartbeat",
        f"{PREFIX}//heartbeat", "code4/v1/x/knop-balie-1/heartbeat", "code4/v1/dev/-knop/heartbeat",
    ]))
    return topic, payload, False, 1


@st.composite
def adapter_case(draw: st.DrawFn) -> Case:
    values = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False), text,
                       st.booleans(), st.none())
    keys = st.text(CHARS, max_size=10).filter(lambda k: k not in ("action", "press"))
    scalars = st.dictionaries(keys, values, max_size=6)
    which = draw(st.sampled_from(["zigbee", "zigbee_hostile", "availability", "availability_bad", "lorawan",
                                  "lorawan_hostile"]))
    if which == "zigbee":
        return ZIGBEE, encode(draw(scalars)), False, 0
    if which == "availability":
        payload = draw(st.sampled_from([b"online", b"offline", b'{"state":"online"}', b'"offline"']))
        return f"{ZIGBEE}/availability", payload, False, 0
    if which == "availability_bad":
        payload = draw(st.sampled_from([b"maybe", b'{"state":7}', b"[]", b'{"state":' * 40 + b"1" + b"}" * 40]))
        return f"{ZIGBEE}/availability", payload, False, 1
    if which == "lorawan":
        topic = draw(st.sampled_from([CHIRPSTACK, TTN]))
        decoded = draw(scalars)
        frame = draw(st.integers(0, 2**32))
        body = ({"fCnt": frame, "object": decoded} if topic == CHIRPSTACK
                else {"uplink_message": {"f_cnt": frame, "decoded_payload": decoded}})
        return topic, encode(body), False, 0
    topic = draw(st.sampled_from([ZIGBEE, CHIRPSTACK, TTN]))
    payload = draw(st.sampled_from([
        b"[" * 5000 + b"]" * 5000, b"\xff\xfe\xfd", b"[1,2,3]", b'"just text"', b'{"a":' * 20 + b"1" + b"}" * 20,
        b'{"uplink_message": [1, 2]}', b'{"object": "not an object"}', b'{"object": null}',
        b'{"x":"' + b"y" * 70000 + b'"}', b'{"battery": NaN}',
    ]))
    if topic == ZIGBEE and payload in (b'{"uplink_message": [1, 2]}', b'{"object": "not an object"}',
                                       b'{"object": null}'):
        return topic, payload, False, 0  # any JSON object is a Zigbee2MQTT state: a sign of life
    return topic, payload, False, 1


CASE = st.one_of(valid_case(), hostile_case(), odd_topic_case(), adapter_case())


# ---- the test ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_generated_message_stops_code4_and_every_invalid_one_is_counted(
    mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    code4 = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                    config=FIXTURES / "deviceorg.yaml")
    service = await code4.start()
    loop = asyncio.get_running_loop()
    seen = {"cases": 0, "invalid": 0}

    async def accept(topic: str, payload: bytes, retained: bool) -> None:  # on the service's loop
        service.handle_message(topic, payload, retained)

    @settings(max_examples=CASES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(CASE)
    def one_message(case: Case) -> None:
        topic, payload, retained, counted = case
        before = service.protocol_errors
        asyncio.run_coroutine_threadsafe(accept(topic, payload, retained), loop).result(10)
        assert service.protocol_errors - before == counted, (topic, payload[:200], retained)
        assert service.intake_errors == 0, "a message reached a fault no rule caught"
        seen["cases"] += 1
        seen["invalid"] += counted

    await asyncio.to_thread(one_message)
    assert seen["cases"] >= CASES and seen["invalid"] > CASES // 3
    assert service._runner is not None and not service._runner.done(), "code4 is still running"

    # The same kinds of payload through the real broker, some retained, then a real press.
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fuzz-publisher")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    hostile = [b"[" * 3000 + b"]" * 3000, b'{"rssi": 1e41}', b"\xff", b'{"battery": NaN}', b"", b"[]"]
    for index, payload in enumerate(hostile * 10):
        kind = ("heartbeat", "status", "position", "checkin", "cancel", "response")[index % 6]
        client.publish(f"{PREFIX}/knop-balie-2/{kind}", payload, qos=1, retain=index % 2 == 0).wait_for_publish(5)
    sanne = code4.pager("pager-sanne")
    button = code4.button("knop-balie-1")
    alarm_id = button.press()
    await code4.wait(button.feedback, "received", alarm_id)
    page = await code4.wait(sanne.page, lambda p: p["location"].startswith("Balie 1"))
    assert page["code"] is not None
    status = await code4.api("/api/status")
    assert status["counters"]["protocol_errors"] >= seen["invalid"] + len(hostile) * 10 - 10
    client.loop_stop()
    await code4.close()
