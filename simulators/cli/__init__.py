"""`code4 simulate …`: the simulators' own subcommands, added to the `code4` command by
`register`. Each module adds the commands of one kind of simulator; they reach code4 only
through the protocol (MQTT) and HTTP, as the real devices and phones do."""

from __future__ import annotations

import argparse

from simulators.cli import alarm_centre, devices, phones, runs

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = commands.add_parser("simulate", help="simulated devices against a running code4")
    simulators = simulate.add_subparsers(title="devices")
    for group in (devices, runs, phones, alarm_centre):  # in the order `code4 simulate --help` lists them
        group.register(simulators)
