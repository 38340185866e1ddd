"""Migrations that rewrite stored data: alarms stored by an older code4 hold PINs and phone
numbers in their plan and outbox; after the upgrade they hold neither and still load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from devices.kinds import AlarmKind
from dispatcher.core import decide
from dispatcher.core.events import AlarmRaised
from dispatcher.store.codec import UNKNOWN_PIN
from dispatcher.store.repository import MIGRATIONS, Store
from tests.factories import T0, make_plan, step, target

NUMBER = "+31612000001"  # Jan's, as an older code4 stored it


def numbered(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "address": NUMBER} if r["channel"] in ("sms", "voice", "app") else r for r in routes]


def as_version_1(state: dict[str, Any]) -> dict[str, Any]:
    """What code4 stored before: the plain PIN, phone numbers on phone routes."""
    plan = state["plan"]
    device = {k: v for k, v in plan["device"].items() if not k.endswith("_digest")} | {
        "cancel_pin": "1234", "duress_pin": None}
    steps = [{**s, "targets": [{**t, "routes": numbered(t["routes"])} for t in s["targets"]]} for s in plan["steps"]]
    pages = [{**p, "routes": numbered(p["routes"])} for p in state["pages"]]
    return {**state, "plan": {**plan, "device": device, "steps": steps}, "pages": pages}


def loaded(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(str(value))


def test_stored_alarms_lose_their_pins_and_numbers_and_still_load(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")  # the schema before this change
    plan = make_plan(step("bhv", [target("jan", "sms", "voice")], ack=None), cancel_pin="a digest")
    state, effects = decide(None, AlarmRaised("a-1", "knop-1", "dev-1", 1, AlarmKind.PANIC, True, plan), T0)
    store.save_decision(state=state, effects=effects, now=T0)
    with store.engine.begin() as connection:
        stored = loaded(connection.execute(sa.text("SELECT state FROM alarms")).scalar_one())
        old = {"v": 1, "state": as_version_1(stored["state"])}
        connection.execute(sa.text("UPDATE alarms SET state = :s"), {"s": json.dumps(old)})
        for row_id, payload in connection.execute(sa.text("SELECT id, payload FROM outbox WHERE kind = 'notify'")):
            notify = loaded(payload)
            notify["route"] = numbered([notify["route"]])[0]
            connection.execute(sa.text("UPDATE outbox SET payload = :p WHERE id = :i"),
                               {"p": json.dumps(notify), "i": row_id})
        before = " ".join(str(value) for table in ("alarms", "outbox")
                          for r in connection.execute(sa.text(f"SELECT * FROM {table}")) for value in r)  # noqa: S608
    assert NUMBER in before and '"1234"' in before

    store.migrate()
    [alarm] = store.open_alarms()
    assert alarm.plan.device.cancel_pin_digest == UNKNOWN_PIN, "no PIN can end it now: the control room does"
    assert [o.effect.route.address for o in store.unsent() if hasattr(o.effect, "route")] == ["person:jan"]
    with store.engine.connect() as connection:
        after = " ".join(str(value) for table in ("alarms", "outbox")
                         for r in connection.execute(sa.text(f"SELECT * FROM {table}")) for value in r)  # noqa: S608
    assert NUMBER not in after and '"1234"' not in after
    store.close()
