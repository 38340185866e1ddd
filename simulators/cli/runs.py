"""`code4 simulate scenario|load|incidents`: scripted runs against a running code4."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from simulators.cli.common import endpoint, mqtt_args, running
from simulators.twilio_modes import LOCAL_PORT


def register(simulators: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scenario = simulators.add_parser("scenario", help="run a scenario file against a running code4")
    scenario.add_argument("file", type=Path)
    scenario.add_argument("--twilio", default=f"http://127.0.0.1:{LOCAL_PORT}", help="the local Twilio server, if used")
    mqtt_args(scenario)
    scenario.set_defaults(func=_simulate_scenario)

    load = simulators.add_parser("load", help="many devices heartbeating and a stream of alarms")
    load.add_argument("--config", type=Path, help="agreement file with the device ids (default: the example)")
    load.add_argument("--devices", type=int, default=200, help="devices heartbeating (default 200)")
    load.add_argument("--heartbeat-every", type=float, default=10.0, metavar="S")
    load.add_argument("--alarms-per-second", type=float, default=2.0, metavar="M")
    load.add_argument("--duration", type=float, default=30.0, metavar="S")
    mqtt_args(load)
    load.set_defaults(func=_simulate_load)

    incidents = simulators.add_parser("incidents", help="a realistic year of incident records, sent to a running code4")
    incidents.add_argument("--year", type=int, help="a calendar year (default: the twelve months up to today)")
    incidents.add_argument("--count", type=int, default=400, help="incidents in the year (default 400)")
    incidents.add_argument("--seed", type=int, default=4, help="same seed, same data (default 4)")
    incidents.add_argument("--config", type=Path, help="agreement file with the sites (default: the example)")
    incidents.add_argument("--url", help="code4's HTTP address (default: from var/run.json)")
    incidents.add_argument("--token", help="an API token of a coordinator or admin (default: CODE4_API_TOKEN)")
    incidents.add_argument("--out", type=Path, help="write the records as JSON here instead of sending them")
    incidents.set_defaults(func=_simulate_incidents)


def _simulate_scenario(args: argparse.Namespace) -> int:
    from simulators.scenario import Runner, Scenario, ScenarioError

    broker, topics = endpoint(args)
    try:
        ok = Runner(Scenario.load(args.file), endpoint=broker, topics=topics, twilio=args.twilio).run(
            lambda line: print(line, flush=True))
    except ScenarioError as exc:
        print(f"scenario error: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


def _simulate_load(args: argparse.Namespace) -> int:
    from gateway.settings import Settings
    from simulators.load import run_load

    broker, topics = endpoint(args)
    ok = run_load(endpoint=broker, topics=topics, config=args.config or Settings.load().agreement_file,
                  devices=args.devices, heartbeat_every=args.heartbeat_every,
                  alarms_per_second=args.alarms_per_second, duration=args.duration,
                  say=lambda line: print(line, flush=True))
    return 0 if ok else 1


def _simulate_incidents(args: argparse.Namespace) -> int:
    from gateway.settings import Settings
    from simulators.incidents import generate, send, summary

    config = args.config or Settings.load().agreement_file
    now = datetime.now().astimezone()
    first, last = ((date(args.year, 1, 1), date(args.year, 12, 31)) if args.year
                   else (now.date() - timedelta(days=364), now.date()))
    incidents = generate(config, first=first, last=last, count=args.count, seed=args.seed, until=now)
    for line in summary(incidents):
        print(line, flush=True)
    if args.out:
        args.out.write_text(json.dumps({"incidents": incidents}, indent=1), encoding="utf-8")
        print(f"written to {args.out}")
        return 0
    token = args.token or os.environ.get("CODE4_API_TOKEN")
    if not token:
        print("an API token is needed: --token or CODE4_API_TOKEN (code4 users token NAME)", file=sys.stderr)
        return 2
    url = args.url or running().get("http_url")
    try:
        ids = send(incidents, url=url or "http://127.0.0.1:8080", token=token)
    except (RuntimeError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"imported as incidents {ids[0]}–{ids[-1]}", flush=True)
    return 0
