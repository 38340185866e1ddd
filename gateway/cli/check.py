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
    check.add_argument("--present", action="store_true",
                       help="read who is present now from the service's database (CODE4_DATABASE_URL) and show "
                            "the chains with only them, and which steps cannot be met")
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
    present = _present_now(now) if args.present and result.ok else None
    report = render_report(result, now=now, present=present)
    print(report, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _present_now(now: datetime) -> frozenset[tuple[str, str]]:
    """Who signed in as present (the app, the kiosk), as the service's database says at `now`.
    Pagers that count as presence are known only to the running service (the board's Aanwezig)."""
    from dispatcher.store.presence import PresenceStore
    from dispatcher.store.repository import Store
    from gateway.settings import Settings

    store = Store(Settings.load().effective_database_url)
    try:
        return frozenset((s.person_id, s.site_id) for s in PresenceStore(store).current(now) if s.holds(now))
    finally:
        store.close()
