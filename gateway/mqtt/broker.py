"""A broker of our own for laptops, demos and tests: Mosquitto when installed, otherwise the
embedded amqtt broker. Production points code4 at its own Mosquitto with CODE4_MQTT_URL.

The Mosquitto configuration written here follows docs/architecture.md "Broker facts that lose alarms if ignored":
persistence with a save after every change, and a queue per offline client large enough for
the dispatcher's persistent session. Loopback only, so anonymous access stays on this machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger("code4.broker")


class BrokerError(RuntimeError):
    pass


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Broker(Protocol):
    @property
    def url(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Mosquitto:
    """A Mosquitto process with its own configuration, data directory and port."""

    def __init__(self, directory: Path, port: int | None = None, *, extra_config: str = "",
                 accounts: tuple[Path, Path] | None = None) -> None:
        """`accounts`: a password file and an ACL file; without them anyone on loopback may connect."""
        self.directory = Path(directory).resolve()
        self.port = port or free_port()
        self.extra_config = extra_config
        self.accounts = accounts
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("mosquitto") is not None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    def config_text(self) -> str:
        if self.accounts is None:
            access = ["allow_anonymous true"]
        else:
            # The client id is the user name: one account cannot take over another's session.
            access = ["allow_anonymous false", f"password_file {self.accounts[0]}", f"acl_file {self.accounts[1]}"]
        lines = [
            "per_listener_settings false",
            *access,
            f"listener {self.port} 127.0.0.1",
            # With accounts the client id is the user name: one account cannot take over another's session.
            *(["use_username_as_clientid true"] if self.accounts else []),
            "persistence true",
            f"persistence_location {self.directory}/",
            "autosave_on_changes true",
            "autosave_interval 1",  # with autosave_on_changes: save after every change
            "max_queued_messages 100000",
            "set_tcp_nodelay true",  # Nagle would hold a small page back up to 40 ms behind an ACK
            "message_size_limit 65536",  # no payload code4 reads is larger
            "persistent_client_expiration 14d",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # Mosquitto started as root drops to `mosquitto` otherwise
        return "\n".join(lines) + "\n" + self.extra_config

    def start_sync(self, timeout: float = 10.0) -> None:
        if not self.available():
            raise BrokerError("mosquitto is not installed")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        self._process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if not wait_for_port(self.port, timeout):
            self.stop_sync()
            raise BrokerError(f"mosquitto did not listen on port {self.port}; see {self.log_path}")

    def stop_sync(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def kill_sync(self) -> None:
        """Stop without a clean shutdown, as a crash or power cut would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
            self._process = None

    def restart_sync(self) -> None:
        self.stop_sync()
        self.start_sync()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        self.start_sync()
        log.info("started mosquitto", url=self.url, config=str(self.config_path))

    async def stop(self) -> None:
        self.stop_sync()


class EmbeddedAmqtt:
    """amqtt in this process: good enough to try code4 where Mosquitto is not installed.
    It keeps sessions only in memory, so use Mosquitto for anything that must survive."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def start(self) -> None:
        from amqtt.broker import Broker as AmqttBroker

        self._broker = AmqttBroker({
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        })
        await self._broker.start()
        log.warning("started the embedded amqtt broker (Mosquitto is not installed)", url=self.url)

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None


def embedded_broker(data_dir: Path, *, preferred_port: int = 1883) -> Broker:
    port = preferred_port if port_is_free(preferred_port) else free_port()
    if Mosquitto.available():
        return Mosquitto(data_dir / "mosquitto", port)
    return EmbeddedAmqtt(port)
