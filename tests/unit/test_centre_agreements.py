"""An alarm centre in the agreement file: what `code4 check` refuses, and the routes it plans
(DC-09 first, the police line of its fallback behind it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from escalation.check import check_file, load_organisation
from escalation.directory import Directory
from escalation.pins import PinDigests
from escalation.plan import ChannelKind
from escalation.planning import plan_alarm

MONDAY_11 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CENTRE = """\
organisation: Mini
fallback: altijd
sites:
  - id: kantoor
    name: Kantoor
    zones:
      - id: hal
        name: Hal
        locations:
          - {id: balie, name: Balie}
contacts:
  - {id: politie, name: Politie, phone: "+31880000000"}
  - id: pac
    name: Alarmcentrale
    kind: alarm_centre
    alarm_centre:
      receivers: ["ontvanger1.pac.example:12000", "ontvanger2.pac.example:12000"]
      account: "5A1F"
      receiver: 2
      line: 7
      format: adm-cid
      zones: {kantoor/balie: 3}
      fallback: politie
devices:
  - {id: knop, type: fixed_button, location: kantoor/balie}
agreements:
  - id: altijd
    steps:
      - {id: meldkamer, targets: [{contact: pac}], channels: [alarm_centre, voice]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _errors(tmp_path: Path, text: str) -> list[str]:
    result = check_file(_write(tmp_path, text))
    assert not result.ok
    return [str(issue).split(": ", 1)[1] for issue in result.errors]


def test_the_centre_is_reached_over_dc09_and_then_the_police_line(tmp_path: Path) -> None:
    result = check_file(_write(tmp_path, CENTRE))
    assert result.ok, [str(i) for i in result.errors]
    directory = Directory(load_organisation(_write(tmp_path, CENTRE))[0].organisation)
    plan = plan_alarm(directory, device_id="knop", kind="panic", zone_ref=None, now=MONDAY_11,
                      pins=PinDigests(b"k" * 32))
    [pac] = plan.steps[0].targets
    assert [(r.channel, r.address) for r in pac.routes] == [
        (ChannelKind.ALARM_CENTRE, "contact:pac"), (ChannelKind.VOICE, "contact:politie")]
    assert directory.alarm_centre("contact:pac") is not None
    assert directory.alarm_centre("contact:politie") is None and directory.alarm_centre("person:pac") is None


@pytest.mark.parametrize(("change", "error"), [
    (("      fallback: politie\n", "      fallback: niemand\n"), "no contact 'niemand'"),
    (("      fallback: politie\n", "      fallback: pac\n"),
     "the fallback 'pac' must be a contact with a phone number"),
    (("{kantoor/balie: 3}", "{kantoor/kelder: 3}"), "'kantoor/kelder' is no device, site, zone or location"),
    (("channels: [alarm_centre, voice]", "channels: [voice]"),
     "'pac' is an alarm centre: step 'meldkamer' reaches it only with channel alarm_centre"),
    (("targets: [{contact: pac}]", "targets: [{contact: politie}]"),
     "step 'meldkamer' uses alarm_centre but targets no contact of kind alarm_centre"),
    (("    kind: alarm_centre\n", ""), "`alarm_centre:` settings belong to a contact of kind alarm_centre"),
    (('account: "5A1F"', 'account: "5A1G"'), "String should match pattern"),
    (('"ontvanger1.pac.example:12000", ', '"ontvanger1.pac.example", '), "a receiver is written host:port"),
    (("      format: adm-cid\n", "      format: adm-cid\n      timeout: 2m\n"),
     "the answer timeout must be at most half the supervision interval"),
    (("      format: adm-cid\n", "      format: adm-cid\n      key_env: my-key\n"), "String should match pattern"),
])
def test_what_check_refuses(tmp_path: Path, change: tuple[str, str], error: str) -> None:
    old, new = change
    assert old in CENTRE
    errors = _errors(tmp_path, CENTRE.replace(old, new))
    assert any(error in e for e in errors), errors


def test_a_person_cannot_be_informed_by_alarm_centre(tmp_path: Path) -> None:
    text = CENTRE.replace("devices:\n", "people:\n  - {id: jan, name: Jan, informed_by: [alarm_centre]}\ndevices:\n")
    assert any("alarm_centre reaches an alarm centre, not a person" in e for e in _errors(tmp_path, text))
