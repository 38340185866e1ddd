"""Broker accounts for every device, and the ACL that ties each to its own topics.

The user name is the device id. The ACL lets a device publish only its own uplinks and read
only its own downlinks, so a stolen or misbehaving button cannot raise an alarm as another
device or read another device's feedback. The dispatcher's account reads and writes the whole
prefix and reads the topics of the hardware adapters; each adapter bridge (Zigbee2MQTT,
ChirpStack, The Things Stack) gets an account that may only publish under its own topics.

Password hashes are Mosquitto 2's own format: PBKDF2-HMAC-SHA512, 101 iterations, `$7$`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.protocol import DOWNLINKS, UPLINKS

DISPATCHER = "code4-dispatcher"
ITERATIONS = 101


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    _, kind, iterations, salt, _digest = hashed.split("$")
    if kind != "7":
        return False
    expected = hash_password(password, salt=base64.b64decode(salt), iterations=int(iterations))
    return secrets.compare_digest(expected, hashed)


def read_passwd(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            user, hashed = line.split(":", 1)
            entries[user] = hashed
    return entries


def write_secret(path: Path, text: str) -> None:
    """Written readable for its owner only, from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Bridge:
    """An adapter's own publisher (the Zigbee2MQTT service, ChirpStack's MQTT integration, …)."""

    user: str
    topic: str  # the pattern it publishes under


def bridges(adapters: Iterable[Any]) -> list[Bridge]:
    found = []
    for adapter in adapters:
        if adapter.kind == "zigbee2mqtt":
            found.append(Bridge(f"bridge-{adapter.id}", f"{adapter.base_topic.rstrip('/')}/#"))
        elif adapter.kind == "chirpstack":
            found.append(Bridge(f"bridge-{adapter.id}", f"application/{adapter.application}/#"))
        else:
            found.append(Bridge(f"bridge-{adapter.id}", f"v3/{adapter.application}/#"))
    return found


def new_password() -> str:
    """About 144 random bits, URL-safe (it goes into `CODE4_MQTT_URL`), starting with a letter or
    digit: the secrets file is a CSV that people open in a spreadsheet, which would run one
    starting with '-' as a formula (and show an error instead of the password)."""
    while True:
        password = secrets.token_urlsafe(18)
        if password[0].isalnum():
            return password


def accounts(device_ids: Iterable[str], existing: dict[str, str], *, extra_users: Iterable[str] = (),
             rotate: bool = False) -> tuple[dict[str, str], dict[str, str]]:
    """(every user's hash, the new passwords in plain text): existing accounts keep theirs
    unless `rotate`; accounts of devices no longer registered are dropped."""
    users = [DISPATCHER, *extra_users, *device_ids]
    hashes, new = {}, {}
    for user in users:
        if user in existing and not rotate:
            hashes[user] = existing[user]
            continue
        password = new_password()
        new[user] = password
        hashes[user] = hash_password(password)
    return hashes, new


def broker_conf(template: str, *, passwd: Path, acl: Path) -> str:
    """The shipped Mosquitto configuration with these account files: every setting that keeps
    devices apart (no anonymous access, the ACL, the client id tied to the account) included."""
    lines = []
    for line in template.splitlines():
        if line.startswith("password_file "):
            line = f"password_file {passwd}"
        elif line.startswith("acl_file "):
            line = f"acl_file {acl}"
        lines.append(line)
    text = "\n".join(lines) + "\n"
    for needed in ("allow_anonymous false", f"acl_file {acl}"):
        if needed not in lines:
            raise ValueError(f"the broker configuration template lacks '{needed}'")
    listeners = sum(1 for line in lines if line.startswith("listener "))
    if lines.count("use_username_as_clientid true") != listeners:
        raise ValueError("every listener of the broker configuration template needs 'use_username_as_clientid true'")
    return text


def passwd_text(hashes: dict[str, str]) -> str:
    return "".join(f"{user}:{hashed}\n" for user, hashed in hashes.items())


def acl_text(prefix: str, bridge_list: list[Bridge]) -> str:
    prefix = prefix.rstrip("/")
    lines = [
        "# Generated by `code4 devices credentials`: edit the agreement file and run it again.",
        "",
        "# The dispatcher: the whole protocol, and what the adapter bridges publish.",
        f"user {DISPATCHER}",
        f"topic readwrite {prefix}/#",
        *[f"topic read {bridge.topic}" for bridge in bridge_list],
        "",
    ]
    for bridge in bridge_list:
        lines += [f"user {bridge.user}", f"topic write {bridge.topic}", ""]
    lines += ["# Every device: its own uplinks and downlinks only (the user name is the device id)."]
    lines += [f"pattern write {prefix}/dev/%u/{kind}" for kind in UPLINKS]
    lines += [f"pattern read {prefix}/dev/%u/{kind}" for kind in DOWNLINKS]
    return "\n".join(lines) + "\n"
