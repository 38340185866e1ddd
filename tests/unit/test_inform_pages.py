"""The afdelingshoofd is informed of every alarm in their team: /me lists it "ter informatie"
and the one-tap page shows it read-only — where, what, who is coming — with no answer buttons."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dispatcher.core import AlarmRaised, AlarmState, Responded, Response, decide
from escalation.links import ResponderLinks
from gateway.board.live import LiveFeed
from gateway.deps import services
from gateway.responder.callouts import my_callouts
from gateway.responder.page import TEMPLATES, TEXT, responder_view, router
from tests.factories import T0, standard_plan, target

MARIEKE = "person:marieke"


def informed_alarm() -> AlarmState:
    """Marieke, afdelingshoofd, was informed by the core when the alarm was raised."""
    plan = standard_plan(informed=(target("marieke", "pager"),))
    state, _ = decide(None, AlarmRaised("a-20261123-abcde", "knop-1", "dev-1", 1, "panic", True, plan), T0)
    return state


def test_me_lists_the_alarm_for_information_whatever_the_role() -> None:
    state = informed_alarm()
    [mine] = my_callouts([state], MARIEKE, responder=False)
    assert mine.inform and mine.page.inform
    assert my_callouts([state], MARIEKE, responder=True)[0].inform
    [sanne] = my_callouts([state], "person:sanne", responder=True)
    assert not sanne.inform
    assert my_callouts([state], "person:sanne", responder=False) == [], "answering is for responders"


def test_the_one_tap_page_is_read_only_for_the_afdelingshoofd() -> None:
    state = informed_alarm()
    page = next(p for p in state.pages if p.inform)
    assert page is not None
    view = responder_view(state, page, "nl")
    assert view["inform"] and view["status"] == "inform" and view["role"] is None
    assert "als afdelingshoofd" in view["status_text"] and "niet te antwoorden" in view["status_text"]
    assert view["location"] and "Balie 1" in view["location"]
    html = TEMPLATES.get_template("responder.html").render(t={"title": "Oproep", "inform_title": "Ter informatie"},
                                                           language="nl", view=view, token="x", nonce="n")
    assert 'id="answers"' not in html and "Ter informatie" in html
    english = responder_view(state, page, "en")
    assert "head of department" in english["status_text"]

    sanne_page = next(p for p in state.pages if p.recipient == "person:sanne")
    answering = responder_view(state, sanne_page, "nl")
    assert not answering["inform"] and answering["status"] == "pending"
    assert answering["establish"] and not view["establish"], "the Leidraad's first steps are for who may come"
    html = TEMPLATES.get_template("responder.html").render(t=TEXT["nl"], language="nl", view=answering, token="x",
                                                           nonce="n")
    assert 'id="answers"' in html and "stel vast om welk soort agressie het gaat" in html


class FakeDispatcher:
    def __init__(self, state: AlarmState) -> None:
        self.state = state
        self.commands: list[object] = []
        self.directory = SimpleNamespace(sites={})  # an organisation without floor plans

    async def alarm(self, uid: str) -> AlarmState | None:
        return self.state if uid == self.state.uid else None

    async def command(self, uid: str, event: object, **_: object) -> AlarmState:
        self.commands.append(event)
        return self.state


def test_an_inform_page_cannot_be_answered() -> None:
    state = informed_alarm()
    dispatcher = FakeDispatcher(state)
    links = ResponderLinks(secret="s" * 32, public_url="http://code4.test", ttl_s=3600,
                           now=lambda: T0 + timedelta(seconds=1))
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[services] = lambda: SimpleNamespace(dispatcher=dispatcher, links=links, live=LiveFeed())
    client = TestClient(app)
    token = links.url(next(p for p in state.pages if p.inform).page_id).rsplit("/", 1)[1]
    shown = client.get(f"/r/{token}")
    assert shown.status_code == 200 and "als afdelingshoofd" in shown.text and 'id="answers"' not in shown.text
    refused = client.post(f"/r/{token}/respond", json={"response": "accept"})
    assert refused.status_code == 409 and dispatcher.commands == []
    sanne = next(p for p in state.pages if p.recipient == "person:sanne")
    answered = client.post(f"/r/{links.url(sanne.page_id).rsplit('/', 1)[1]}/respond", json={"response": "accept"})
    assert answered.status_code == 200
    assert dispatcher.commands == [Responded(sanne.page_id, Response.ACCEPT, "app", "")]
