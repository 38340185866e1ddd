"""`code4 simulate alarm-centre`: a SIA DC-09 receiver that prints what code4 sends it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from escalation.alarm_centre.dc09 import Dc09Error, parse_key
from simulators.alarm_centre import AlarmCentre, Mode, run
from simulators.cli.common import say


def register(simulators: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    centre = simulators.add_parser(
        "alarm-centre", help="a SIA DC-09 alarm centre receiver: print, ACK, NAK, be silent or down"
    )
    centre.add_argument("--port", type=int, required=True, help="port to listen on")
    centre.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    centre.add_argument("--udp", action="store_true", help="listen on UDP instead of TCP")
    centre.add_argument("--key", metavar="HEX", help="AES key, 32/48/64 hex digits, for encrypted messages")
    modes = [str(mode) for mode in Mode]
    centre.add_argument("--mode", default="ack", choices=modes, help="how to answer (default ack)")
    centre.set_defaults(func=_simulate_alarm_centre)


def _simulate_alarm_centre(args: argparse.Namespace) -> int:
    try:
        key = parse_key(args.key) if args.key else None
    except Dc09Error as exc:
        say(f"--key: {exc}")
        return 2
    centre = AlarmCentre(port=args.port, host=args.host, udp=args.udp, key=key, mode=Mode(args.mode), out=say)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(centre))
    return 0
