"""The whole story over a real Mosquitto, on SQLite and on PostgreSQL:

press → colleague paged → no accept in time → BHV paged with code 4 → two accepts → roles 1
and 2 and `help_coming` at the button → on scene → closed, all of it in the incident timeline.
"""

from __future__ import annotations

from tests.integration.harness import Harness


async def test_press_escalates_to_bhv_and_help_arrives(code4: Harness) -> None:
    pagers = {name: code4.pager(f"pager-{name}") for name in ("sanne", "mohamed", "jan", "fatima", "kees")}
    button = code4.button("knop-balie-1")

    alarm_id = button.press()
    received = await code4.wait(button.feedback, "received", alarm_id)
    assert received["text"] == "Alarm ontvangen. We zoeken hulp."
    [alarm] = await code4.alarms()
    assert (alarm["status"], alarm["step"]["id"], alarm["where"]["location"]) == ("notifying", "collega", "Balie 1")

    # Step 1: the colleagues in the same zone.
    page = await code4.wait(pagers["sanne"].page)
    assert page["code"] == "" and page["location"] == "Balie 1, Publiekshal, Stadhuis Testdorp"
    assert page["gathering_point"] == "Trap naast de lift"
    await code4.wait(pagers["mohamed"].page)
    assert pagers["jan"].pages() == [], "BHV is not paged before the colleagues had their 20 seconds"

    # Nobody answers in time: the BHV on duty are paged with code 4.
    await code4.advance(20)
    bhv_pages = {name: await code4.wait(pagers[name].page, lambda p: p["code"] == "4")
                 for name in ("jan", "fatima", "kees")}
    assert "Code 4" in bhv_pages["jan"]["text"]

    # Two accept: roles in order of acceptance, and the person in danger hears who is coming.
    pagers["jan"].respond(bhv_pages["jan"]["page_id"], "accept")
    role_jan = await code4.wait(pagers["jan"].page, lambda p: p.get("role") == 1)
    assert "nummer 1" in role_jan["text"]
    pagers["fatima"].respond(bhv_pages["fatima"]["page_id"], "accept")
    await code4.wait(pagers["fatima"].page, lambda p: p.get("role") == 2)
    coming = await code4.wait(button.wait_for, "feedback", lambda f: "Fatima El Amrani (nr 2)" in f.get("text", ""))
    assert coming["text"] == "Hulp komt: Jan de Vries (nr 1), Fatima El Amrani (nr 2)."
    [alarm] = await code4.alarms()
    assert alarm["status"] == "accepted" and alarm["deadline"] is None
    assert [(r["name"], r["role"]) for r in alarm["responders"]] == [("Jan de Vries", 1), ("Fatima El Amrani", 2)]

    # Jan is there; the person cancels with the PIN once it is over.
    pagers["jan"].respond(bhv_pages["jan"]["page_id"], "on_scene")
    await code4.wait(button.feedback, "on_scene", alarm_id)
    button.cancel(alarm_id, "1234")
    closed = await code4.wait(button.feedback, "closed", alarm_id)
    assert closed["text"] == "Alarm afgesloten."
    await code4.wait(pagers["kees"].wait_for, "feedback", lambda f: f["state"] == "closed")
    assert await code4.alarms() == []

    record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
    assert record["outcome"] == "resolved" and record["location"] == "Balie 1, Publiekshal, Stadhuis Testdorp"
    story = [(e["kind"], e["data"].get("recipient") or e["data"].get("step")) for e in record["timeline"]
             if e["kind"] != "notified"]
    assert story == [
        ("alarm_raised", None),
        ("step_started", "collega"),
        ("escalated", None),
        ("step_started", "bhv"),
        ("accepted", "Jan de Vries"),
        ("accepted", "Fatima El Amrani"),
        ("help_organised", "bhv"),
        ("on_scene", "Jan de Vries"),
        ("closed", None),
    ]
    notified = [e["text"] for e in record["timeline"] if e["kind"] == "notified"]
    assert notified == [f"{name} opgeroepen via pieper" for name in (
        "Sanne de Jong", "Mohamed Yilmaz", "Jan de Vries", "Fatima El Amrani", "Kees Bakker")]
    english = await code4.api(f"/api/incidents/{alarm['incident_id']}", lang="en")
    accepted = [e["text"] for e in english["timeline"] if e["kind"] == "accepted"]
    assert accepted == ["Jan de Vries is coming (number 1)", "Fatima El Amrani is coming (number 2)"]


async def test_wrong_pins_look_like_a_cancel_the_alarm_goes_on_and_the_device_is_locked_out(code4: Harness) -> None:
    sanne = code4.pager("pager-sanne")
    button = code4.button("knop-balie-1")  # cancel PIN 1234
    alarm_id = button.press()
    await code4.wait(sanne.page)
    for attempt in range(1, 4):
        button.cancel(alarm_id, f"000{attempt}")
        await code4.wait(button.wait_for, "feedback", lambda f, n=attempt: len(
            [x for x in button.messages("feedback") if x["state"] == "closed"]) == n)
    button.cancel(alarm_id, "1234")  # the right PIN, too late: only the control room ends it now
    await code4.wait(button.wait_for, "feedback", lambda _: len(
        [x for x in button.messages("feedback") if x["state"] == "closed"]) == 4)
    assert {f["text"] for f in button.messages("feedback") if f["state"] == "closed"} == {"Alarm ingetrokken."}
    [alarm] = await code4.alarms()
    record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
    refused = [e["data"] for e in record["timeline"] if e["kind"] == "cancel_refused"]
    assert refused == [{"reason": "wrong_pin", "attempts": n, "limit": 3} for n in (1, 2, 3)] + [
        {"reason": "locked", "attempts": 3}]
    assert all(e["notice"] for e in record["timeline"] if e["kind"] == "cancel_refused")
    sanne.respond((await code4.wait(sanne.page))["page_id"], "accept")
    await code4.alarm_when(lambda a: bool(a["responders"]))
    await code4.settled()
    assert [f["state"] for f in button.messages("feedback")][-1] == "closed", "help coming is not shown to the device"
