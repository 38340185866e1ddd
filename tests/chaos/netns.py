"""A machine of its own on this one: a network namespace joined to this one by a veth pair, so
that a test can cut the cable (`cut`) between a code4 instance and everything else."""

from __future__ import annotations

import os
import random
import shutil
import subprocess


class NetNamespace:
    def __init__(self) -> None:
        tag = f"{os.getpid() % 10000}{random.randrange(100):02d}"
        self.name = f"code4-{tag}"
        self.host_side, self.inside = f"c4h{tag}", f"c4n{tag}"  # interface names: at most 15 characters
        subnet = random.randrange(1, 250)
        self.host_address, self.address = f"10.213.{subnet}.1", f"10.213.{subnet}.2"

    @staticmethod
    def available() -> bool:
        return os.geteuid() == 0 and shutil.which("ip") is not None

    @property
    def wrapper(self) -> tuple[str, ...]:
        """Run a command inside."""
        return ("ip", "netns", "exec", self.name)

    def create(self) -> None:
        for command in (
            ["ip", "netns", "add", self.name],
            ["ip", "link", "add", self.host_side, "type", "veth", "peer", "name", self.inside],
            ["ip", "link", "set", self.inside, "netns", self.name],
            ["ip", "addr", "add", f"{self.host_address}/24", "dev", self.host_side],
            ["ip", "link", "set", self.host_side, "up"],
            [*self.wrapper, "ip", "addr", "add", f"{self.address}/24", "dev", self.inside],
            [*self.wrapper, "ip", "link", "set", self.inside, "up"],
            [*self.wrapper, "ip", "link", "set", "lo", "up"],
        ):
            subprocess.run(command, check=True, capture_output=True, timeout=10)

    def cut(self) -> None:
        """The cable out: nothing in or out, and nobody told (no RST, no FIN)."""
        subprocess.run(["ip", "link", "set", self.host_side, "down"], check=True, capture_output=True, timeout=10)

    def delete(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_side], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)
