"""What people read (pages, device feedback, timeline) and how settings fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from escalation.notices import Feedback, FeedbackState, Helper, Message, Purpose
from escalation.plan import Position, Where
from escalation.texts import feedback_text, location_text, page_text
from gateway.logging import mask_phone
from gateway.settings import Settings, SettingsError
from gateway.web.i18n import pick_language, timeline_text

WHERE = Where("stadhuis", "Gemeentehuis", "Koetserstraat 1", "publiekshal", "Publiekshal", "balie-1", "Balie 1",
              "Trap naast de lift")


def message(**kw: object) -> Message:
    base: dict[str, object] = {"alarm_uid": "a-1", "device_id": "knop-1", "kind": "panic", "silent": True,
                               "where": WHERE, "step_id": "bhv", "code": "4"}
    return Message(**{**base, **kw})  # type: ignore[arg-type]


def test_a_page_in_dutch_and_in_english() -> None:
    assert page_text(Purpose.PAGE, message(), "nl") == (
        "Code 4: paniekalarm, stil alarm. Balie 1, Publiekshal, Gemeentehuis. Verzamelen uit het zicht: Trap naast "
        "de lift. Stel vast welke agressie het is: frustratie, instrumenteel of psychotisch.")
    assert page_text(Purpose.PAGE, message(), "en") == (
        "Code 4: panic alarm, silent alarm. Balie 1, Publiekshal, Gemeentehuis. Gather out of sight at: Trap naast "
        "de lift. Establish the kind of aggression: frustration, instrumental or psychotic.")


def test_a_role_page_says_what_to_do_and_who_else_comes() -> None:
    text = page_text(Purpose.ROLE, message(role=2, helpers=(Helper("Jan", 1), Helper("Fatima", 2))), "nl")
    assert text.startswith("Jij bent nummer 2: back-up van nummer 1, je ontfermt je over de collega.")
    assert text.endswith("Onderweg: Jan (nr 1), Fatima (nr 2).")


def test_role_1_names_the_leidraads_choices_and_own_safety_first() -> None:
    text = page_text(Purpose.ROLE, message(role=1), "nl")
    for words in ("nummer 1: jij benadert de agressor", "laten gaan", "kalmeren of confronteren",
                  "fysiek ingrijpen alleen in het uiterste geval", "Eigen veiligheid gaat voor",
                  "frustratie, instrumenteel, psychotisch"):
        assert words in text
    assert "Eigen veiligheid" not in page_text(Purpose.ROLE, message(role=3), "nl")


def test_duress_is_the_first_thing_a_responder_reads() -> None:
    assert page_text(Purpose.PAGE, message(duress=True), "nl").startswith("DWANG:")


def test_a_mobile_alarm_page_names_the_person_and_the_position() -> None:
    text = location_text(message(where=Where(), person_name="Piet Jansen",
                                 position=Position(lat=52.49, lon=4.81, accuracy_m=8)), "nl")
    assert text == "Piet Jansen, positie 52.49000,4.81000 ±8 m"
    assert location_text(message(unknown_device=True, device_id="knop-x"), "en") == "Unknown device knop-x"


def test_duress_and_a_real_cancel_read_the_same_on_the_device() -> None:
    cancelled = Feedback("knop-1", "x", FeedbackState.CLOSED, reason="cancelled")
    assert feedback_text(cancelled) == "Alarm ingetrokken."
    assert feedback_text(Feedback("knop-1", "x", FeedbackState.HELP_COMING, (Helper("Jan de Vries", 1),))) == (
        "Hulp komt: Jan de Vries (nr 1).")
    assert feedback_text(Feedback("k", "x", FeedbackState.RECEIVED, reason="wrong_pin", language="en")) == (
        "Cancel failed: wrong PIN.")


def test_timeline_text_and_language_choice() -> None:
    data = {"from": "collega", "to": "bhv", "reason": "no_accept_in_time"}
    assert timeline_text("escalated", data, "nl") == "Opgeschaald van collega naar bhv: geen reactie op tijd"
    assert timeline_text("escalated", data, "en") == "Escalated from collega to bhv: no answer in time"
    assert pick_language(None, "en-GB,en;q=0.9") == "en"
    assert pick_language(None, "nl-NL") == "nl" and pick_language("en", "nl") == "en"


def test_phone_numbers_are_masked_in_logs() -> None:
    assert mask_phone("sms to +31612345678 failed") == "sms to +31612****78 failed"


def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE4_MQTT_URL", "http://nope")
    monkeypatch.setenv("CODE4_HTTP", "8080")
    with pytest.raises(SettingsError) as caught:
        Settings.load()
    assert "CODE4_MQTT_URL: Value error, MQTT URL must start with mqtt://" in str(caught.value)
    assert "CODE4_HTTP: Value error, use host:port" in str(caught.value)


def test_defaults_run_everything_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CODE4_MQTT_URL", "CODE4_DATABASE_URL", "CODE4_CONFIG", "CODE4_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings.load()
    assert settings.mqtt_url is None
    assert settings.effective_database_url == "sqlite:///var/code4.db"
    assert settings.agreement_file.name == "wormerland.yaml" and settings.agreement_file.exists()
    assert Settings.load(database_url="postgresql://h/db").effective_database_url == "postgresql://h/db"
    assert isinstance(settings.data_dir, Path)
