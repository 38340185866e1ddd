"""SMS replies read tolerantly but never as 'coming' on a doubt; signed links expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.links import LinkExpired, LinkInvalid, ResponderLinks
from escalation.replies import parse_reply
from gateway.settings import Settings, SettingsError

CODES = {"K3X9", "AB23"}


@pytest.mark.parametrize(("text", "response"), [
    ("1", "accept"), ("Ja!", "accept"), ("kom", "accept"), ("Oké", "accept"), ("ik kom eraan", "accept"),
    ("yes", "accept"), ("2", "decline"), ("nee", "decline"), ("Kan niet, ben ziek", "decline"), ("no", "decline"),
    ("3", "on_scene"), ("ter plaatse", "on_scene"), ("Ben er", "on_scene"), ("TP", "on_scene"),
])
def test_common_answers(text: str, response: str) -> None:
    assert parse_reply(text, CODES).response == response


@pytest.mark.parametrize("text", ["ik kom niet", "kom, kan niet", "hallo?", "1 2", "ik ben er over 5 min", "", "4"])
def test_doubtful_answers_are_not_guessed(text: str) -> None:
    assert parse_reply(text, CODES).response is None


@pytest.mark.parametrize(("text", "code"), [("1 K3X9", "K3X9"), ("ab23 nee", "AB23"), ("1k3x9", "K3X9"),
                                            ("1 ZZZZ", None)])
def test_a_reply_may_name_its_alarm(text: str, code: str | None) -> None:
    assert parse_reply(text, CODES).code == code


def test_links_are_signed_and_expire_by_the_service_clock() -> None:
    now = [datetime(2026, 11, 23, 10, 0, tzinfo=UTC)]
    links = ResponderLinks(secret="s3cret", public_url="https://code4.example/", ttl_s=600, now=lambda: now[0])
    url = links.url("a-20261123-k3x9q.4")
    assert url.startswith("https://code4.example/r/")
    token = url.rsplit("/", 1)[1]
    assert links.page_id(token) == "a-20261123-k3x9q.4"
    with pytest.raises(LinkInvalid):
        links.page_id(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(LinkInvalid):
        ResponderLinks(secret="other", public_url="x", ttl_s=600, now=lambda: now[0]).page_id(token)
    now[0] += timedelta(seconds=601)
    with pytest.raises(LinkExpired):
        links.page_id(token)


def test_twilio_must_be_configured_completely(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE4_TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.delenv("CODE4_TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("CODE4_TWILIO_FROM", raising=False)
    with pytest.raises(SettingsError, match="also set CODE4_TWILIO_AUTH_TOKEN, CODE4_TWILIO_FROM"):
        Settings.load()
    monkeypatch.setenv("CODE4_TWILIO_AUTH_TOKEN", "tok-SECRET-42")
    monkeypatch.setenv("CODE4_TWILIO_FROM", "+3197010000000")
    settings = Settings.load()
    assert settings.twilio_configured and "tok-SECRET-42" not in repr(settings), "the token stays out of reprs"
