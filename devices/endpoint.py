"""Where a broker is: `mqtt://user:password@host:port`, or `mqtts://` for TLS; for a broker
cluster, several such URLs separated by commas (its nodes, tried in turn when one is away)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class MqttEndpoint:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    others: tuple[MqttEndpoint, ...] = ()  # the cluster's other nodes, in the order given

    @classmethod
    def parse(cls, url: str) -> MqttEndpoint:
        """One URL, or a comma-separated list of a cluster's nodes (the first is tried first)."""
        urls = [part.strip() for part in url.split(",") if part.strip()]
        if not urls:
            raise ValueError("no MQTT URL given")
        first, *rest = [cls._parse_one(one) for one in urls]
        return replace(first, others=tuple(rest))

    @classmethod
    def _parse_one(cls, url: str) -> MqttEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"MQTT URL {url!r} names no host")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    @property
    def nodes(self) -> tuple[MqttEndpoint, ...]:
        """Every node, each on its own (no `others`)."""
        return (replace(self, others=()), *self.others)

    def url(self, *, with_password: bool = False) -> str:
        """As given (all nodes, comma-separated); the password masked unless asked for."""
        return ",".join(node._url_one(with_password) for node in self.nodes)

    def _url_one(self, with_password: bool) -> str:
        auth = ""
        if self.username:
            secret = f":{self.password}" if with_password and self.password else (":***" if self.password else "")
            auth = f"{self.username}{secret}@"
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{self.host}:{self.port}"
