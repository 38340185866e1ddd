"""`code4 bench`: alarm latency and throughput against a real broker (simulators/bench, failover)."""

from __future__ import annotations

import argparse
import sys

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="measure alarm latency and throughput against a real broker")
    bench.add_argument("--alarms", type=int, default=100, help="alarms one at a time in the quiet run (default 100)")
    bench.add_argument("--burst", type=int, default=100, help="alarms within one second (default 100)")
    bench.add_argument("--devices", type=int, default=10_000,
                       help="supervised devices heartbeating once a minute meanwhile (default 10000)")
    bench.add_argument("--buttons", type=int, default=100, help="simulated buttons (default 100)")
    bench.add_argument("--pagers", type=int, default=20, help="simulated pagers (default 20)")
    bench.add_argument("--sustain", action="store_true",
                       help="also find the highest alarm rate held with press -> first page p99 under --bound-ms")
    bench.add_argument("--sustain-seconds", type=float, default=30.0, help="how long each rate must hold (default 30)")
    bench.add_argument("--bound-ms", type=float, default=100.0, help="the p99 bound of the sustained run (default 100)")
    bench.add_argument("--start-rate", type=float, default=100.0, help="the sustained run's first rate (default 100/s)")
    bench.add_argument("--mqtt", help="broker URL (default: start a Mosquitto of its own)")
    bench.add_argument("--database", action="append", metavar="sqlite|POSTGRESQL_ADMIN_URL",
                       help="run on a fresh SQLite file, or a throw-away database on this PostgreSQL server; "
                            "give it twice for both (default: sqlite, and the PostgreSQL at 127.0.0.1:5432 "
                            "when it answers)")
    bench.add_argument("--failover", action="store_true",
                       help="instead: two instances on PostgreSQL, the leader killed during a steady alarm stream")
    bench.add_argument("--kills", type=int, default=5, help="--failover: how often the leader is killed (default 5)")
    bench.add_argument("--rate", type=float, default=5.0, help="--failover: alarms a second meanwhile (default 5)")
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from gateway.mqtt.broker import wait_for_port
    from simulators.bench import Options, run_bench

    if args.failover:
        from simulators.failover import FailoverOptions, run_failover

        postgres = [d for d in args.database or [LOCAL_POSTGRES] if d != "sqlite"]
        if not postgres:
            print("code4 bench --failover needs PostgreSQL (--database postgresql://…/postgres): several "
                  "instances share one database", file=sys.stderr)
            return 2
        return run_failover(FailoverOptions(kills=args.kills, rate=args.rate), database=postgres[0],
                            mqtt_url=args.mqtt)
    databases = args.database or ["sqlite"] + ([LOCAL_POSTGRES] if wait_for_port(5432, 0.5) else [])
    options = Options(latency_alarms=args.alarms, burst=args.burst, devices=args.devices, buttons=args.buttons,
                      pagers=args.pagers, sustain=args.sustain, sustain_seconds=args.sustain_seconds,
                      bound_ms=args.bound_ms, start_rate=args.start_rate)
    return run_bench(options, mqtt_url=args.mqtt, databases=databases)
