"""The scenario files in simulators/scenarios/ run against `code4 run` on the scenario site,
as a tester would: green ones pass, and the one meant to fail says what it missed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.mqtt.broker import free_port, wait_for_port

SCENARIOS = Path(__file__).parents[2] / "simulators" / "scenarios"
GREEN = ["balie-escalatie", "dwang", "alleenwerker"]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh `code4 run` on the scenario site, with its own broker and database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE4_")}
    env |= {"CODE4_HTTP": f"127.0.0.1:{port}", "CODE4_DATA_DIR": str(tmp_path / "var")}
    service = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--config", str(SCENARIOS / "site.yaml")],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for_port(port, 30), "code4 run did not start"
        for _ in range(100):
            if (tmp_path / "var" / "run.json").exists() and httpx.get(
                    f"http://127.0.0.1:{port}/api/health").json()["status"] == "ok":
                break
            time.sleep(0.1)
        yield env
    finally:
        service.terminate()
        service.communicate(timeout=20)


def simulate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "simulate", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", GREEN)
def test_the_scenario_runs_green(running: dict[str, str], name: str) -> None:
    result = simulate(running, "scenario", str(SCENARIOS / f"{name}.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("OK: ")


def test_a_failing_expectation_says_which_and_what_was_seen(running: dict[str, str]) -> None:
    result = simulate(running, "scenario", str(SCENARIOS / "faalt-met-uitleg.yaml"))
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-2:] == [
        "FAILED: 1 of 1 expectations",
        "  step 2 (at 0 s): expected page=pager-jan, code=4, within=1 between 0 and 1 s; saw nothing",
    ]


def test_every_scenario_file_is_covered() -> None:
    files = {p.stem for p in SCENARIOS.glob("*.yaml")} - {"site"}
    assert files == {*GREEN, "faalt-met-uitleg"}, "a new scenario belongs in this test"


def test_load_mode_gets_every_alarm_acknowledged(running: dict[str, str]) -> None:
    result = simulate(running, "load", "--config", str(SCENARIOS / "site.yaml"), "--devices", "100",
                      "--heartbeat-every", "2", "--alarms-per-second", "5", "--duration", "3")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert "alarms sent: 15, acknowledged (received): 15" in lines
    assert any(line.startswith("time to received: p50 ") for line in lines)
