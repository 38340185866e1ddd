"""A three-node NATS cluster with JetStream and its MQTT listener, on loopback ports of its own:
a clustering MQTT broker that installs from the package registries (Mosquitto does not
cluster). NATS keeps MQTT sessions and their queued QoS 1 messages in JetStream streams
replicated to every node (three replicas here), so a session survives the death of the node
its client was connected to."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from gateway.mqtt.broker import free_port, wait_for_port

NODES = 3


class NatsCluster:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.client_ports = [free_port() for _ in range(NODES)]
        self.route_ports = [free_port() for _ in range(NODES)]
        self.mqtt_ports = [free_port() for _ in range(NODES)]
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * NODES

    @staticmethod
    def available() -> bool:
        return shutil.which("nats-server") is not None

    @property
    def url(self) -> str:
        """The broker URL code4 and the devices are given: every node, comma-separated."""
        return ",".join(f"mqtt://127.0.0.1:{port}" for port in self.mqtt_ports)

    def config(self, node: int) -> str:
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.route_ports)
        return "\n".join([
            f"server_name: n{node}",
            f"listen: 127.0.0.1:{self.client_ports[node]}",
            f'jetstream {{ store_dir: "{self.directory / f"n{node}"}" }}',
            f"cluster {{ name: code4, listen: 127.0.0.1:{self.route_ports[node]}, routes: [{routes}] }}",
            f"mqtt {{ listen: 127.0.0.1:{self.mqtt_ports[node]} }}",
        ]) + "\n"

    def start(self, timeout: float = 30.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for node in range(NODES):
            self.start_node(node)
        for node in range(NODES):
            if not wait_for_port(self.mqtt_ports[node], timeout):
                raise RuntimeError(f"NATS node {node} did not listen for MQTT; see {self.directory}")
        self._wait_for_jetstream(timeout)

    def start_node(self, node: int) -> None:
        path = self.directory / f"n{node}.conf"
        path.write_text(self.config(node), encoding="utf-8")
        log = (self.directory / f"n{node}.log").open("ab")
        self.processes[node] = subprocess.Popen(["nats-server", "-c", str(path)], stdout=log, stderr=log)

    def kill(self, node: int) -> None:
        """As a machine dies: no goodbye to the clients or the other nodes."""
        process = self.processes[node]
        if process is not None:
            process.kill()
            process.wait(timeout=10)
            self.processes[node] = None

    def stop(self) -> None:
        for node, process in enumerate(self.processes):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                self.processes[node] = None

    def _wait_for_jetstream(self, timeout: float) -> None:
        """Until the nodes have elected a JetStream leader (MQTT sessions need it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = " ".join((self.directory / f"n{n}.log").read_text(errors="replace") for n in range(NODES))
            if "JetStream cluster new metadata leader" in logs or "Self is new JetStream cluster metadata leader" \
                    in logs:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the NATS cluster elected no JetStream leader; see {self.directory}")
