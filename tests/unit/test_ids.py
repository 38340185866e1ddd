"""Typed ids and enums keep the text they always had on the wire, and are parsed in one place."""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import TypeAdapter

from devices.kinds import DEVICE_KINDS, AlarmKind
from devices.protocol import AlarmPayload
from dispatcher.core import Notify, Purpose
from dispatcher.store.codec import dump_effect, dump_state, load_effect, load_state
from escalation.ids import PageId, RecipientKey, RecipientKind
from escalation.notices import Message
from escalation.plan import ChannelKind, Route, Where
from tests.factories import Run, make_plan, step, target


def test_a_recipient_key_is_made_one_way_and_read_back_by_parse() -> None:
    jan = RecipientKey.person("jan")
    assert jan == "person:jan" and isinstance(jan, str)
    assert (jan.kind, jan.id, jan.is_contact) == (RecipientKind.PERSON, "jan", False)
    politie = RecipientKey.parse("contact:politie")
    assert (politie.kind, politie.id, politie.is_contact) == (RecipientKind.CONTACT, "politie", True)
    assert RecipientKey.parse(jan) is jan
    assert RecipientKey.parse("person:a:b").id == "a:b", "only the first colon separates"


@pytest.mark.parametrize("text", ["jan", "person:", "device:knop-1", ":jan", ""])
def test_text_that_is_no_recipient_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"recipient key|names an id"):
        RecipientKey.parse(text)


def test_a_page_id_is_the_alarm_and_its_page_number() -> None:
    page = PageId("a-20261123-k3x9q", 4)
    assert page == "a-20261123-k3x9q.4"
    assert (page.alarm_uid, page.number) == ("a-20261123-k3x9q", 4)
    assert PageId.parse("a.b.12") == PageId("a.b", 12), "the last dot separates"


@pytest.mark.parametrize("text", ["p", "a-1.", ".3", "a-1.x", "a-1.٣"])
def test_text_that_is_no_page_id_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="page id"):
        PageId.parse(text)


@pytest.mark.parametrize("value", [RecipientKey.contact("politie"), PageId("a-1", 2)])
def test_ids_survive_copy_and_pickle_as_themselves(value: str) -> None:
    for again in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):  # noqa: S301
        assert again == value and type(again) is type(value)


def test_pydantic_reads_ids_from_text_and_writes_plain_text() -> None:
    keys = TypeAdapter(RecipientKey)
    key = keys.validate_python("person:jan")
    assert type(key) is RecipientKey
    assert keys.dump_json(key) == b'"person:jan"' and type(keys.dump_python(key)) is str
    assert keys.json_schema() == {"type": "string"}
    with pytest.raises(ValueError, match="recipient key"):
        keys.validate_python("jan")


def test_a_stored_alarm_keeps_its_text_and_loads_typed() -> None:
    run = Run(make_plan(step("bhv", [target("jan"), target("contact:politie", "voice")])))
    stored = dump_state(run.state)
    page = stored["state"]["pages"][0]
    assert (page["page_id"], page["recipient"]) == (f"{run.state.uid}.1", "person:jan")
    assert stored["state"]["kind"] == "panic" and page["routes"][0]["channel"] == "pager"
    loaded = load_state(stored)
    assert loaded == run.state
    assert type(loaded.pages[0].page_id) is PageId and type(loaded.pages[0].recipient) is RecipientKey
    assert loaded.kind is AlarmKind.PANIC and loaded.pages[0].routes[0].channel is ChannelKind.PAGER


def test_an_outbox_row_keeps_its_text() -> None:
    notify = Notify(PageId("a-1", 1), RecipientKey.person("jan"), "Jan", "nl", 0,
                    Route(ChannelKind.SMS, RecipientKey.person("jan")), Purpose.PAGE,
                    Message("a-1", "knop-1", AlarmKind.ASSIST, False, Where(), "bhv"))
    kind, payload = dump_effect(notify)
    assert (payload["page_id"], payload["recipient"], payload["route"]) == (
        "a-1.1", "person:jan", {"channel": "sms", "address": "person:jan"})
    assert payload["message"]["kind"] == "assist"
    assert load_effect(kind, payload) == notify


def test_the_protocol_lists_the_kinds_a_device_sends() -> None:
    assert set(DEVICE_KINDS) == set(AlarmKind) - {AlarmKind.CHECKIN_MISSED}
    schema = AlarmPayload.model_json_schema()["properties"]["kind"]
    assert schema["enum"] == ["panic", "assist", "man_down", "no_movement"]
    with pytest.raises(ValueError, match="'panic', 'assist', 'man_down' or 'no_movement'"):
        AlarmPayload.model_validate({"alarm_id": "x", "kind": "checkin_missed"})
