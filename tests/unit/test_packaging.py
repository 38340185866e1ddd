"""A plain `pip install code4` (and the Dockerfile) must give a working service and simulators:
every library the shipped packages import is a dependency, not only a test extra."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[2]
SHIPPED = ("devices", "dispatcher", "escalation", "gateway", "simulators")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_import_of_the_shipped_code_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    distributions = packages_distributions()
    missing: dict[str, set[str]] = {}
    for package in SHIPPED:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in SHIPPED or top == "__future__":
                        continue
                    names = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                    if not names & runtime:
                        missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"imported by shipped code but not a dependency in pyproject.toml: {missing}"


def test_the_dockerfile_copies_everything_the_build_includes() -> None:
    """`pip install .` in the image builds the wheel: every folder it force-includes must be there."""
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]
    needed = [*build["targets"]["wheel"]["packages"], *build["targets"]["wheel"]["force-include"]]
    copied = {line.split()[1] for line in (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8").splitlines()
              if line.startswith("COPY ")}
    assert [path for path in needed if path not in copied] == []


def test_compose_points_code4_at_a_listener_the_broker_opens_to_other_containers() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    url = compose["services"]["code4"]["environment"]["CODE4_MQTT_URL"]
    host_port = re.search(r"@([^:/]+):(\d+)", url)
    assert host_port and host_port.group(1) == "mosquitto"
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8").splitlines()
    listeners = [line.split()[1:] for line in conf if line.startswith("listener ")]
    assert [host_port.group(2)] in listeners, "a listener on every interface of the broker's container"
    if url.startswith("mqtts://"):
        assert compose["services"]["code4"]["environment"].get("CODE4_MQTT_CA_FILE"), "TLS needs the broker's CA"
