"""Floor plans in the agreement file: `code4 check` finds a missing or unusable plan file and a
position outside its plan, with file, line and field."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from escalation.check import check_file
from escalation.floorplans import MAX_PLAN_BYTES
from escalation.plan_places import all_plans, plan_by_id, plan_of

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "wormerland.yaml"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300"><rect width="400" height="300"/></svg>'

PLANNED = """\
organisation: Mini
fallback: altijd
sites:
  - id: kantoor
    name: Kantoor
    zones:
      - id: hal
        name: Hal
        plan: plans/hal.svg
        gathering_at: [350, 250]
        locations:
          - {id: balie, name: Balie, at: [100, 120]}
people:
  - {id: jan, name: Jan, roles: [bhv], devices: [pager-jan]}
devices:
  - {id: pager-jan, type: responder_pager, person: jan}
  - {id: knop, type: fixed_button, location: kantoor/balie, at: [110, 130]}
agreements:
  - id: altijd
    steps:
      - {id: bhv, targets: [{role: bhv}], channels: [pager]}
"""


def organisation(tmp_path: Path, text: str = PLANNED, plan: bytes | None = SVG.encode(),
                 name: str = "hal.svg") -> Path:
    (tmp_path / "plans").mkdir(exist_ok=True)
    if plan is not None:
        (tmp_path / "plans" / name).write_bytes(plan)
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    result = check_file(path)
    assert not result.ok
    return [str(i) for i in result.errors]


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1) * height)) + chunk(b"IEND", b""))


def test_a_plan_next_to_the_file_is_read_with_its_size(tmp_path: Path) -> None:
    result = check_file(organisation(tmp_path))
    assert result.ok, [str(i) for i in result.errors]
    assert result.loaded is not None
    org = result.loaded.organisation
    placed = plan_of(org.sites[0], org.sites[0].zones[0])
    assert placed is not None and placed.id == "kantoor/hal"
    assert (placed.plan.width, placed.plan.height, placed.plan.media_type) == (400, 300, "image/svg+xml")
    assert plan_by_id(org, "kantoor/hal") is placed.plan
    assert plan_by_id(org, "kantoor") is None and plan_by_id(org, "elders/hal") is None


def test_the_example_organisation_has_plans_for_both_floors_of_its_town_hall() -> None:
    result = check_file(EXAMPLE)
    assert result.ok
    assert result.loaded is not None
    assert sorted(p.id for p in all_plans(result.loaded.organisation)) == [
        "stadhuis/publiekshal", "stadhuis/spreekkamers"]


def test_a_missing_plan_file_names_file_line_and_field(tmp_path: Path) -> None:
    [error] = errors(organisation(tmp_path, plan=None))
    assert error.startswith(f"{tmp_path / 'org.yaml'}:9: sites[0].zones[0].plan: ")
    assert "plan file 'plans/hal.svg' not found" in error


def test_a_position_outside_the_plan_names_file_line_and_field(tmp_path: Path) -> None:
    text = PLANNED.replace("at: [100, 120]}", "at: [100, 320]}")
    [error] = errors(organisation(tmp_path, text))
    assert error.startswith(f"{tmp_path / 'org.yaml'}:12: sites[0].zones[0].locations[0].at: ")
    assert "[100, 320] lies outside plan 'plans/hal.svg' (0..400 x 0..300)" in error


def test_a_device_or_gathering_point_off_the_plan_is_an_error_too(tmp_path: Path) -> None:
    text = PLANNED.replace("gathering_at: [350, 250]", "gathering_at: [-5, 250]").replace(
        "at: [110, 130]}", "at: [410, 130]}")
    found = errors(organisation(tmp_path, text))
    assert [e.split(": ")[1] for e in found] == ["sites[0].zones[0].gathering_at", "devices[1].at"]


def test_a_position_without_a_plan_is_an_error(tmp_path: Path) -> None:
    text = PLANNED.replace("        plan: plans/hal.svg\n        gathering_at: [350, 250]\n", "")
    location, device = errors(organisation(tmp_path, text))
    assert "sites[0].zones[0].locations[0].at: a position needs a plan" in location
    assert "devices[1].at: a position needs a plan" in device


def test_unusable_plan_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    cases = {
        b"<svg xmlns='http://www.w3.org/2000/svg'><rect/></svg>": "give the <svg> a viewBox",
        b"<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY a 'aaaa'>]><svg viewBox='0 0 1 1'>&a;</svg>":
            "DOCTYPE or entities is not accepted",
        b"<html><body/></html>": "is not an SVG",
        b"not xml at all": "is not a readable SVG",
        b"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'>" + b" " * MAX_PLAN_BYTES + b"</svg>":
            "larger than 2 MB",
    }
    for content, reason in cases.items():
        [error] = errors(organisation(tmp_path, plan=content))
        assert "sites[0].zones[0].plan" in error and reason in error, error
    for path, reason in (("/etc/plan.svg", "relative to the agreement file"),
                         ("../plan.svg", "relative to the agreement file"), ("plans/hal.gif", ".svg or .png")):
        [error] = errors(organisation(tmp_path, PLANNED.replace("plans/hal.svg", path)))
        assert reason in error, error


def test_a_png_plan_measures_in_pixels(tmp_path: Path) -> None:
    text = PLANNED.replace("hal.svg", "hal.png")
    assert check_file(organisation(tmp_path, text, png(400, 300), "hal.png")).ok
    found = errors(organisation(tmp_path, text, png(90, 300), "hal.png"))
    assert len(found) == 3  # the gathering point, the location and its button
    assert all("lies outside plan 'plans/hal.png' (0..90 x 0..300)" in e for e in found)
    [error] = errors(organisation(tmp_path, text, b"GIF89a" + b"\0" * 30, "hal.png"))
    assert "is not a PNG image" in error


def test_a_position_is_two_numbers(tmp_path: Path) -> None:
    [error] = errors(organisation(tmp_path, PLANNED.replace("at: [100, 120]}", "at: [100]}")))
    assert "sites[0].zones[0].locations[0].at: a position on the plan is written [x, y]" in error
