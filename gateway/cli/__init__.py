"""The `code4` command: run, check, simulate, users, devices, bench.

One module per command group, each adding its subcommands with `register`; the simulators
add `code4 simulate …` themselves (simulators/cli), so that this package holds only what
operates code4.
"""

from __future__ import annotations

import argparse

from gateway.cli import bench, check, devices, run, users
from simulators import cli as simulate

__all__ = ["main", "parser"]


def main(argv: list[str] | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)
    if not hasattr(args, "func"):
        command.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    """The whole command line; the order of registration is the order `code4 --help` lists."""
    command = argparse.ArgumentParser(prog="code4", description="Alarm and assistance dispatch.")
    commands = command.add_subparsers(title="commands")
    for group in (run, check, simulate, users, devices, bench):
        group.register(commands)
    return command
