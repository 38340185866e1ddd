"""What the simulator commands share: where the local code4 runs, the broker options, a clock
on every line."""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, cast, get_args

from devices.endpoint import MqttEndpoint
from devices.protocol import DEFAULT_PREFIX, Topics


def running() -> dict[str, str]:
    """Where the local `code4 run` is (its var/run.json), or nothing when none runs here."""
    run_file = Path(os.environ.get("CODE4_DATA_DIR", "var")) / "run.json"
    return cast(dict[str, str], json.loads(run_file.read_text(encoding="utf-8"))) if run_file.exists() else {}


def mqtt_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mqtt", help="broker URL (default: CODE4_MQTT_URL, else the broker of `code4 run` here)")
    parser.add_argument("--prefix", help=f"topic prefix (default: CODE4_TOPIC_PREFIX or {DEFAULT_PREFIX})")


def endpoint(args: argparse.Namespace) -> tuple[MqttEndpoint, Topics]:
    here = running()
    url = args.mqtt or os.environ.get("CODE4_MQTT_URL") or here.get("mqtt_url")
    prefix = args.prefix or os.environ.get("CODE4_TOPIC_PREFIX") or here.get("topic_prefix")
    return MqttEndpoint.parse(url or "mqtt://127.0.0.1:1883"), Topics(prefix or DEFAULT_PREFIX)


def say(text: str) -> None:
    print(f"{datetime.now().astimezone():%H:%M:%S}  {text}", flush=True)


def choices(values: Any) -> list[str]:
    """The allowed values of a `Literal[...]` or an enum of the protocol, for argparse: one list,
    kept where the protocol defines it."""
    if isinstance(values, type) and issubclass(values, Enum):
        return [str(member.value) for member in values]
    return [str(value) for value in get_args(values)]
