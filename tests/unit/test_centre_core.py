"""An alarm centre in the chain: what it is sent (events chosen per purpose), what its answers
do to the alarm (an ACK confirms, every try on the timeline), and what verifies an alarm."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.kinds import AlarmKind
from dispatcher.core import CentreAttempt, CentreReported, PoliceRequested, Pressed, Responded, Response, Status
from dispatcher.core.events import CancelRequested, CloseRequested, Outcome
from escalation.alarm_centre.channel import event_label, occurrences
from escalation.alarm_centre.dc09 import MessageType
from escalation.alarm_centre.events import CentreEvent
from escalation.ids import PageId, RecipientKey
from escalation.model import AlarmCentre
from escalation.notices import Message, Notify, Purpose
from escalation.plan import ChannelKind, Route, StepTarget
from tests.factories import T0, Run, make_plan, notifications, step, target, timeline

PAC = RecipientKey.contact("pac")
POLICE = RecipientKey.contact("politie")
CENTRE = AlarmCentre(receivers=["127.0.0.1:9000"], account="1234", zones={"stadhuis/balie-1": 17})


def centre_plan(**kwargs: object) -> object:
    """BHV (45 s) → the alarm centre over DC-09, the police line behind it."""
    pac = StepTarget(PAC, (Route(ChannelKind.ALARM_CENTRE, PAC), Route(ChannelKind.VOICE, POLICE)))
    return make_plan(step("bhv", [target("jan"), target("fatima")], ack=45, code="4"),
                     step("meldkamer", [pac], ack=None), severe="meldkamer", **kwargs)  # type: ignore[arg-type]


def _centre_page(run: Run) -> Notify:
    return run.page_for("contact:pac")


def _report(notify: Notify, *outcomes: tuple[str, str], delivered: bool | None = None) -> CentreReported:
    attempts = tuple(CentreAttempt(receiver, 7, outcome, T0) for receiver, outcome in outcomes)
    ok = outcomes[-1][1] == "ACK" if delivered is None else delivered
    return CentreReported(notify.page_id, notify.route_index, notify.purpose.value, "HA 017", attempts, ok)


def test_an_ack_of_the_alarm_is_the_centre_confirming() -> None:
    run = Run(centre_plan(), kind="man_down")  # severe: straight to the centre
    page = _centre_page(run)
    assert page.route.channel is ChannelKind.ALARM_CENTRE
    effects = run.send(_report(page, ("10.0.0.1:1", "NAK"), ("10.0.0.2:2", "ACK")))
    assert [(r.name, r.channel) for r in run.state.responders] == [("Politie assistentielijn", "alarm_centre")]
    assert timeline(effects, "confirmed").data["recipient"] == "Politie assistentielijn"
    tries = [e.data for e in effects if getattr(e, "kind", "") == "centre_transmission"]
    assert [(t["receiver"], t["outcome"]) for t in tries] == [("10.0.0.1:1", "NAK"), ("10.0.0.2:2", "ACK")]
    assert timeline(effects, "centre_receiver_switched").data == {
        "recipient": "Politie assistentielijn", "from": "10.0.0.1:1", "to": "10.0.0.2:2"}
    assert run.state.deadline is None, "the centre has it: the last step does not repeat"


def test_tries_without_an_ack_confirm_nothing_and_are_shown_to_the_control_room() -> None:
    run = Run(centre_plan(), kind="man_down")
    effects = run.send(_report(_centre_page(run), ("10.0.0.1:1", "silence"), ("10.0.0.1:1", "silence")))
    assert run.state.responders == ()
    assert all(e.notice for e in effects if getattr(e, "kind", "") == "centre_transmission")


def test_the_ack_of_a_verification_or_stand_down_confirms_nothing() -> None:
    run = Run(centre_plan(), kind="man_down")
    page = _centre_page(run)
    run.send(_report(replace(page, purpose=Purpose.VERIFY), ("10.0.0.1:1", "ACK")))
    assert run.state.responders == ()


@pytest.mark.parametrize(("event", "news"), [
    (Pressed(2), "second_press"),
    (PoliceRequested("ria"), "operator"),
])
def test_what_verifies_the_alarm_goes_to_the_centre_that_has_it(event: object, news: str) -> None:
    run = Run(centre_plan(), kind="man_down")
    run.send(_report(_centre_page(run), ("10.0.0.1:1", "ACK")))
    effects = run.send(event)  # type: ignore[arg-type]
    [verify] = notifications(effects, Purpose.VERIFY)
    assert verify.route.channel is ChannelKind.ALARM_CENTRE and verify.message.news == news


def test_a_bhv_on_scene_and_a_duress_pin_verify_the_alarm() -> None:
    run = Run(centre_plan(duress_pin="9999"), kind="man_down")
    run.send(_report(_centre_page(run), ("10.0.0.1:1", "ACK")))
    effects = run.send(CancelRequested("9999"))
    assert [n.message.news for n in notifications(effects, Purpose.VERIFY)] == ["duress"]

    on_scene = Run(centre_plan(), kind="panic")
    bhv = on_scene.page_for("jan")
    on_scene.send(PoliceRequested("ria"))  # the control room starts the centre step
    on_scene.send(_report(_centre_page(on_scene), ("10.0.0.1:1", "ACK")))
    effects = on_scene.send(Responded(bhv.page_id, Response.ON_SCENE, "pager", bhv.route.address))
    assert [n.message.news for n in notifications(effects, Purpose.VERIFY)] == ["bhv_on_scene:Jan de Vries"]


def test_verifications_go_only_to_alarm_centres() -> None:
    run = Run(centre_plan(), kind="panic")
    effects = run.send(Pressed(2))
    assert notifications(effects, Purpose.VERIFY) == [], "the centre does not have this alarm yet"


def test_the_stand_down_tries_are_recorded_after_the_close() -> None:
    run = Run(centre_plan(), kind="man_down")
    run.send(_report(_centre_page(run), ("10.0.0.1:1", "ACK")))
    effects = run.send(CloseRequested(Outcome.RESOLVED, "ria"), after=60)
    [stand_down] = [n for n in notifications(effects, Purpose.STAND_DOWN) if n.recipient == PAC]
    assert run.state.status is Status.CLOSED
    effects = run.send(_report(stand_down, ("10.0.0.1:1", "ACK")), after=1)
    assert timeline(effects, "centre_transmission").data["purpose"] == "stand_down"


# ---- which standard events a notification becomes -------------------------------------------


def _notify(purpose: Purpose, **message: object) -> Notify:
    fields: dict[str, object] = {"alarm_uid": "a1", "device_id": "knop-1", "kind": AlarmKind.PANIC, "silent": True,
                                 "where": make_plan(step("x", [target("jan")])).where, "step_id": "meldkamer",
                                 "person_name": "Jan de Vries"}
    fields.update(message)
    return Notify(PageId("a1", 1), PAC, "Meldkamer", "nl", 0, Route(ChannelKind.ALARM_CENTRE, PAC), purpose,
                  Message(**fields))  # type: ignore[arg-type]


def _events(notify: Notify) -> list[tuple[CentreEvent, bool, int, str]]:
    return [(o.event, o.restore, o.zone, o.text) for o in occurrences(notify, CENTRE)]


def test_an_alarm_is_its_kind_in_its_zone_with_what_verifies_it() -> None:
    assert _events(_notify(Purpose.PAGE)) == [(CentreEvent.PANIC, False, 17, "paniekalarm - Jan de Vries")]
    assert _events(_notify(Purpose.PAGE, kind=AlarmKind.MAN_DOWN, duress=True, verified=("duress", "second_press"))) \
        == [(CentreEvent.DURESS, False, 17, "persoon ligt op de grond - Jan de Vries"),
            (CentreEvent.VERIFIED, False, 17, "geverifieerd: tweede keer gedrukt")]
    [page] = occurrences(_notify(Purpose.PAGE), CENTRE)
    assert page.location == "Balie 1, Publiekshal, Gemeentehuis, Koetserstraat 1"


def test_news_cancel_restore_and_drill() -> None:
    assert _events(_notify(Purpose.VERIFY, news="bhv_on_scene:Fatima El Amrani")) == [
        (CentreEvent.VERIFIED, False, 17, "geverifieerd: BHV ter plaatse (Fatima El Amrani)")]
    assert _events(_notify(Purpose.VERIFY, news="duress"))[0][0] is CentreEvent.DURESS
    assert _events(_notify(Purpose.STAND_DOWN, outcome="false_alarm"))[0][:2] == (CentreEvent.CANCEL, False)
    assert _events(_notify(Purpose.STAND_DOWN, outcome="resolved"))[0][:2] == (CentreEvent.PANIC, True)
    assert _events(_notify(Purpose.STAND_DOWN, outcome="resolved", duress=True))[0][:2] == (CentreEvent.DURESS, True)
    assert _events(_notify(Purpose.PAGE, drill=True)) == [
        (CentreEvent.DRILL, False, 17, "OEFENING: paniekalarm - Jan de Vries")]
    assert _events(_notify(Purpose.STAND_DOWN, drill=True, outcome="drill")) == [], "a drill is never an alarm"
    assert _events(_notify(Purpose.ROLE)) == _events(_notify(Purpose.UPDATE)) == []


def test_zones_from_the_most_precise_place_the_file_names() -> None:
    centre = AlarmCentre(receivers=["h:1"], account="123", default_zone=9,
                         zones={"knop-1": 1, "stadhuis/balie-1": 2, "stadhuis/publiekshal": 3, "stadhuis": 4})
    assert occurrences(_notify(Purpose.PAGE), centre)[0].zone == 1
    assert occurrences(_notify(Purpose.PAGE, device_id="knop-2"), centre)[0].zone == 2
    unknown = AlarmCentre(receivers=["h:1"], account="123", default_zone=9)
    assert occurrences(_notify(Purpose.PAGE), unknown)[0].zone == 9


def test_event_labels_as_the_centre_shows_them() -> None:
    [alarm] = occurrences(_notify(Purpose.PAGE), CENTRE)
    assert event_label(MessageType.SIA_DCS, alarm) == "HA 017"
    assert event_label(MessageType.ADM_CID, alarm) == "E122 017"
    assert event_label(MessageType.ADM_CID, replace(alarm, restore=True)) == "R122 017"
