"""`code4 check`: validate an agreement file and show each location's chain."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="validate an agreement file and show each location's chain")
    check.add_argument("file", type=Path)
    check.add_argument("--at", help="show the chain at this local time, e.g. '2026-11-28 23:00' (default: now)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from escalation.check import check_file, render_report

    result = check_file(args.file)
    now = datetime.now(UTC)
    if args.at:
        tz = ZoneInfo(result.loaded.organisation.timezone) if result.loaded else ZoneInfo("Europe/Amsterdam")
        try:
            now = datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            print("--at takes local time as 'YYYY-MM-DD HH:MM'", file=sys.stderr)
            return 2
    report = render_report(result, now=now)
    print(report, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
