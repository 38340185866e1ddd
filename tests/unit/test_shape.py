"""The rules of docs/architecture.md that the code can be held to: how long a function may be,
and who may import whom. Read from the source with `ast`, so nothing is imported or run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("devices", "dispatcher", "escalation", "gateway", "simulators")
LONGEST = 60  # lines; ruff's PLR0915 (statements) and C901 (branches) guard the rest
# The only modules outside the standard library's pure parts the core may import: plain data.
CORE_MAY_IMPORT = ("dispatcher.core", "escalation.plan", "escalation.notices", "escalation.ids", "devices.kinds")
PURE_STDLIB = {"__future__", "collections", "dataclasses", "datetime", "enum", "hmac", "types", "typing"}


def _sources(*packages: str) -> Iterator[tuple[Path, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"))


def _imports(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path, tree in _sources(*PACKAGES) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno is not None and node.end_lineno - node.lineno + 1 > LONGEST]
    assert long == []


def test_the_core_imports_no_io() -> None:
    wrong = [f"{path.relative_to(ROOT)}: {name}" for path, tree in _sources("dispatcher/core")
             for name in _imports(tree)
             if name.split(".")[0] not in PURE_STDLIB and not name.startswith(CORE_MAY_IMPORT)]
    assert wrong == []


def test_devices_and_escalation_know_nothing_of_the_dispatcher_or_the_gateway() -> None:
    wrong = [f"{path.relative_to(ROOT)}: {name}" for path, tree in _sources("devices", "escalation")
             for name in _imports(tree) if name.split(".")[0] in ("dispatcher", "gateway")]
    assert wrong == []


def test_simulators_never_import_the_dispatcher() -> None:
    wrong = [f"{path.relative_to(ROOT)}: {name}" for path, tree in _sources("simulators")
             for name in _imports(tree) if name.split(".")[0] == "dispatcher"]
    assert wrong == []


def test_no_router_factories_remain() -> None:
    """Routers live at module level, so a handler can be imported and its dependencies overridden."""
    factories = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name}" for path, tree in _sources("gateway")
                 for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                 for inner in ast.walk(node)
                 if inner is not node and isinstance(inner, ast.Assign)
                 and isinstance(inner.value, ast.Call) and getattr(inner.value.func, "id", "") == "APIRouter"]
    assert factories == []
