"""Settings from the environment (CODE4_*), checked at start-up with errors that name the
variable. Defaults run everything on one laptop: SQLite under ./var, a broker started for you,
the example organisation."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import ByteSize, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from devices.endpoint import MqttEndpoint
from devices.protocol import DEFAULT_PREFIX

REPO_EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "examples" / "wormerland.yaml"
PACKAGED_EXAMPLE = Path(__file__).resolve().parent / "examples" / "wormerland.yaml"
REPO_BROKER_CONF = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "mosquitto.conf"
PACKAGED_BROKER_CONF = Path(__file__).resolve().parent / "mosquitto" / "mosquitto.conf"


def shipped_broker_conf() -> Path:
    """deploy/mosquitto/mosquitto.conf, in a checkout or as installed."""
    return REPO_BROKER_CONF if REPO_BROKER_CONF.exists() else PACKAGED_BROKER_CONF


class SettingsError(Exception):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CODE4_", extra="ignore")

    mqtt_url: str | None = None  # unset: code4 starts a broker of its own
    mqtt_client_id: str = "code4-dispatcher"
    mqtt_ca_file: Path | None = None  # the CA that signed the broker's certificate, for mqtts://
    database_url: str | None = None  # unset: SQLite file in data_dir
    http: str = "127.0.0.1:8080"
    topic_prefix: str = DEFAULT_PREFIX
    data_dir: Path = Path("var")
    config: Path | None = None  # the agreement file; unset: the example organisation
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    page_give_up_after_s: float = 15.0
    public_url: str | None = None  # how phones and Twilio reach this service; unset: http://{http}
    secret_key: SecretStr | None = None  # signs responder links; unset: kept in data_dir/secret.key
    link_ttl_s: int = 7200
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None  # the sender number, e.g. +3197010000000
    twilio_api_base: str = "https://api.twilio.com"
    # Web Push (escalation/push): the VAPID key is made in data_dir on first start.
    push_enabled: bool = True
    push_subject: str = "mailto:beheer@code4.invalid"  # who push services may contact about our pushes
    push_ttl_s: int = Field(60, ge=0, le=3600)
    push_answer_within_s: float = Field(30.0, gt=0, le=600)  # then the person moves to their next channel
    # Push services besides the browsers' own (comma-separated origins), e.g. a local one in tests.
    push_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The HTTP edge (gateway/web/edge.py). Sizes in bytes or with a unit: 64KiB, 8MiB.
    http_max_body: ByteSize = Field(ByteSize(64 * 1024), gt=0)
    http_max_import_body: ByteSize = Field(ByteSize(8 * 1024 * 1024), gt=0)  # POST /api/incidents/import
    http_body_timeout_s: float = Field(30.0, gt=0)
    http_head_timeout_s: float = Field(10.0, gt=0)
    # Reverse proxies whose X-Forwarded-For/-Proto code4 believes (addresses or networks,
    # comma-separated); unset: nobody's, and the connecting address is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Prometheus metrics on a listener of their own, without sign-in (host:port, bind it where
    # only the monitoring reaches); unset: only /metrics on the main address, for admins' tokens.
    metrics_http: str | None = None
    # Several instances on PostgreSQL: how long the dispatcher lease lasts unless renewed. A
    # standby takes over within about this time plus a quarter of it after the leader dies.
    lease_ttl_s: float = Field(2.0, ge=0.5, le=60.0)
    # The field alarms' map (gateway/board/fieldmap.py): a tile URL with {z}, {x} and {y}, e.g. an
    # organisation's own tile server; unset: positions and addresses on a plain background.
    map_tiles: str | None = None
    map_attribution: str = Field("", max_length=300)  # the tile source's required credit line

    @model_validator(mode="after")
    def _twilio_complete(self) -> Settings:
        given = {"CODE4_TWILIO_ACCOUNT_SID": self.twilio_account_sid, "CODE4_TWILIO_AUTH_TOKEN": self.twilio_auth_token,
                 "CODE4_TWILIO_FROM": self.twilio_from}
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError(f"Twilio is half configured: also set {', '.join(missing)}")
        return self

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.http}").rstrip("/")

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt(cls, value: str | None) -> str | None:
        if value:
            MqttEndpoint.parse(value)
        return value or None

    @field_validator("map_tiles")
    @classmethod
    def _map_tiles(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or not all(
                f"{{{part}}}" in value for part in "zxy"):
            raise ValueError(f"{value!r} is no tile URL, e.g. https://tiles.example.org/{{z}}/{{x}}/{{y}}.png")
        return value

    @field_validator("push_origins", mode="before")
    @classmethod
    def _push_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for entry in value:
                parts = urlsplit(str(entry))
                if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                    raise ValueError(f"{entry!r} is not an origin, e.g. https://push.example.org")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for entry in value:
                try:
                    ipaddress.ip_network(str(entry), strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or network, e.g. 10.0.0.5 or 10.0.0.0/24") \
                        from None
        return value

    @field_validator("http", "metrics_http")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("use host:port, e.g. 127.0.0.1:8080")
        return value

    @property
    def http_host(self) -> str:
        return self.http.rpartition(":")[0]

    @property
    def http_port(self) -> int:
        return int(self.http.rpartition(":")[2])

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'code4.db'}"

    @property
    def agreement_file(self) -> Path:
        if self.config is not None:
            return self.config
        return REPO_EXAMPLE if REPO_EXAMPLE.exists() else PACKAGED_EXAMPLE

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = [f"CODE4_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" if e["loc"] else e["msg"]
                        for e in exc.errors()]
            raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None
