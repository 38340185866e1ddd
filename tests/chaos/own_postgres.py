"""A PostgreSQL server of the test's own (initdb in a scratch directory, its own port), so it
can be restarted without touching the machine's server that other tests use."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from gateway.mqtt.broker import free_port

BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


class OwnPostgres:
    def __init__(self, *, also_listen: str | None = None) -> None:
        """`also_listen`: an address besides loopback (a veth's), trusted from its /24."""
        self.also_listen = also_listen
        # PostgreSQL refuses to run as root: as root the server runs as `postgres`, in a
        # directory that user can reach (pytest's tmp_path is root's alone).
        self.directory = Path(tempfile.mkdtemp(prefix="code4-pg-"))
        self.directory.chmod(0o755)
        self.port = free_port()
        self.data = self.directory / "data"

    @staticmethod
    def available() -> bool:
        return bool(BIN) and (os.geteuid() != 0 or shutil.which("runuser") is not None)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        program = [str(BIN[-1] / command[0]), *command[1:]]
        if os.geteuid() == 0:
            program = ["runuser", "-u", "postgres", "--", *program]
        subprocess.run(program, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        if self.also_listen:
            network = self.also_listen.rsplit(".", 1)[0] + ".0/24"
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {network} trust\n")
        self._ctl("start")

    def _ctl(self, action: str, *extra: str) -> None:
        listen = "127.0.0.1" + (f",{self.also_listen}" if self.also_listen else "")
        options = f"-p {self.port} -c listen_addresses={listen} -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "server.log"), "-w",
                  *extra, action)

    def restart(self, down_s: float) -> None:
        """Down for `down_s` seconds, as a restart or a failover to a standby server takes: every
        connection is dropped, new ones are refused until it is back."""
        self._ctl("stop", "-m", "fast")
        time.sleep(down_s)
        self._ctl("start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
