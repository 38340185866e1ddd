"""Read an agreement file into an `Organisation`, with errors that name file, line and field.

YAML is composed into nodes first so that every key and list item keeps its line; a
validation error's location is then looked up in that map. Duplicate keys are an error
(PyYAML would silently keep the last one, which hides a typo in a safety configuration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from escalation.floorplans import plan_context
from escalation.model import Organisation

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One problem in an agreement file."""

    file: str
    line: int | None
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {label}{self.field + ': ' if self.field else ''}{self.message}"


class AgreementFileError(Exception):
    """The file cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass(frozen=True)
class LineMap:
    """Where each key and list item of the file starts (1-based lines)."""

    file: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest part of `path` that exists in the file."""
        best = self.lines.get(())
        for depth in range(1, len(path) + 1):
            line = self.lines.get(tuple(path[:depth]))
            if line is None:
                break
            best = line
        return best

    def issue(self, path: Sequence[str | int], message: str, severity: str = "error") -> Issue:
        return Issue(self.file, self.line_of(path), format_path(path), message, severity)


@dataclass(frozen=True)
class LoadedOrganisation:
    organisation: Organisation
    source: Path
    lines: LineMap


def format_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def load_file(path: str | Path) -> LoadedOrganisation:
    """Parse and validate the file's shape. Raises AgreementFileError."""
    source = Path(path)
    name = str(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementFileError([Issue(name, None, "", f"cannot read the file: {exc}")]) from exc
    return load_text(text, name=name, source=source)


def load_text(text: str, *, name: str = "<text>", source: Path | None = None) -> LoadedOrganisation:
    lines = LineMap(name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise AgreementFileError([Issue(name, line, "", f"not valid YAML: {problem}")]) from exc
    if node is None or not isinstance(node, yaml.MappingNode):
        raise AgreementFileError(
            [Issue(name, 1, "", "the file must be a YAML mapping with organisation, sites, … at the top")]
        )
    issues: list[Issue] = []
    data = _to_python(node, (), lines, issues, yaml.SafeLoader(""))
    if issues:
        raise AgreementFileError(issues)
    try:
        # Plan files are named relative to the agreement file (escalation/floorplans.py).
        base = source.resolve().parent if source is not None else None
        organisation = Organisation.model_validate(data, context=plan_context(base))
    except ValidationError as exc:
        raise AgreementFileError(
            [lines.issue(_clean_loc(err["loc"]), _clean_msg(err)) for err in exc.errors()]
        ) from None
    return LoadedOrganisation(organisation, source or Path(name), lines)


def _to_python(
    node: yaml.Node, path: PathKey, lines: LineMap, issues: list[Issue], scalars: yaml.SafeLoader
) -> Any:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(scalars.construct_object(key_node))
            child = (*path, key)
            if key in result:
                issues.append(
                    Issue(lines.file, key_node.start_mark.line + 1, format_path(child),
                          f"key {key!r} appears twice; the first one is on line {lines.lines[child]}")
                )
                continue
            lines.lines[child] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, child, lines, issues, scalars)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, i), lines, issues, scalars) for i, item in enumerate(node.value)
        ]
    return scalars.construct_object(node)


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    # Drop pydantic's internal segments ('function-after[...]', 'literal[...]').
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and "(" not in p))


def _clean_msg(err: Any) -> str:
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if err.get("type") == "extra_forbidden":
        return "unknown key (misspelt?)"
    if err.get("type") == "missing":
        return "required key is missing"
    return message
