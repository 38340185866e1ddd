"""Floor plans: an SVG or PNG file next to the agreement file, given to a site or a zone
(`plan: plans/stadhuis-bg.svg`), and positions on it (`at: [x, y]`, `gathering_at: [x, y]`) in
the plan's own coordinates (an SVG's viewBox, a PNG's pixels).

A plan file is read once, when the agreement file is loaded: its size is limited and only its
dimensions are parsed. Its content is never interpreted here and never inlined into a page:
it is served as an image (gateway/board/plans.py), where an SVG's scripts do not run.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from xml.etree import ElementTree

from pydantic import PlainSerializer, PlainValidator, ValidationInfo

MAX_PLAN_BYTES = 2 * 1024 * 1024
MAX_SIDE = 100_000.0  # a plan's width or height in its own units
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class FloorPlan:
    """One plan file, read: where it came from (relative, as the file wrote it), its bytes and size."""

    source: str
    media_type: str
    width: float
    height: float
    data: bytes = field(repr=False)

    def contains(self, x: float, y: float) -> bool:
        return 0 <= x <= self.width and 0 <= y <= self.height


def read_plan(source: str, base: Path | None) -> FloorPlan:
    """The plan file `source`, relative to the agreement file's folder `base`. Raises ValueError
    with a message for the author."""
    relative = Path(source)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError("a plan is a path relative to the agreement file, inside its folder (e.g. plans/bg.svg)")
    if base is None:
        raise ValueError("a plan needs the agreement file's folder: load the file from disk")
    suffix = relative.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise ValueError(f"plan {source!r}: a plan is an .svg or .png file")
    path = base / relative
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"plan file {source!r} not found (next to the agreement file)") from None
    except OSError as exc:
        raise ValueError(f"plan file {source!r} cannot be read: {exc.strerror}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise ValueError(f"plan file {source!r} is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB")
    width, height = _png_size(data, source) if suffix == ".png" else _svg_size(data, source)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"plan file {source!r}: its size {width:g}x{height:g} is not usable")
    return FloorPlan(source, "image/png" if suffix == ".png" else "image/svg+xml", width, height, data)


def _png_size(data: bytes, source: str) -> tuple[float, float]:
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError(f"plan file {source!r} is not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return float(width), float(height)


def _svg_size(data: bytes, source: str) -> tuple[float, float]:
    """The viewBox's size (else width and height in plain numbers or px) of the root element.
    A DTD is refused: entities are the one way XML parsing itself can be made to explode."""
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ValueError(f"plan file {source!r}: an SVG with a DOCTYPE or entities is not accepted")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - no DTD (refused above): nothing can expand
    except ElementTree.ParseError as exc:
        raise ValueError(f"plan file {source!r} is not a readable SVG: {exc}") from None
    if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
        raise ValueError(f"plan file {source!r} is not an SVG (its root element is not <svg>)")
    box = re.fullmatch(rf"\s*({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})\s*",
                       root.get("viewBox", ""))
    if box:
        if float(box.group(1)) != 0 or float(box.group(2)) != 0:
            raise ValueError(f"plan file {source!r}: its viewBox must start at 0 0")
        return float(box.group(3)), float(box.group(4))
    sizes = [re.fullmatch(rf"\s*({_NUMBER})\s*(px)?\s*", root.get(k, "")) for k in ("width", "height")]
    if sizes[0] and sizes[1]:
        return float(sizes[0].group(1)), float(sizes[1].group(1))
    raise ValueError(f"plan file {source!r}: give the <svg> a viewBox (e.g. viewBox=\"0 0 800 500\")")


def _plan(value: object, info: ValidationInfo) -> FloorPlan:
    if isinstance(value, FloorPlan):
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ValueError("a plan is the path of an .svg or .png file, relative to the agreement file")
    base = (info.context or {}).get("base")
    return read_plan(value.strip(), Path(base) if base is not None else None)


def _point(value: object) -> tuple[float, float]:
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        x, y = float(value[0]), float(value[1])
        if all(abs(v) <= MAX_SIDE for v in (x, y)):
            return x, y
    raise ValueError("a position on the plan is written [x, y] in the plan's coordinates, e.g. [120, 340]")


def _source(plan: FloorPlan) -> str:
    return plan.source


PlanFile = Annotated[FloorPlan, PlainValidator(_plan), PlainSerializer(_source)]
Point = Annotated[tuple[float, float], PlainValidator(_point)]


def plan_context(base: Path | None) -> dict[str, Any]:
    """The validation context the model needs to read plan files (escalation/loader.py)."""
    return {"base": base}
