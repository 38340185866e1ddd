"""`code4 devices …`: device accounts for the broker."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from devices.protocol import DEFAULT_PREFIX

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices_cmd = commands.add_parser("devices", help="device accounts for the broker")
    device_commands = devices_cmd.add_subparsers(title="device commands")
    creds = device_commands.add_parser(
        "credentials", help="write the Mosquitto password file and ACL for every device of the agreement file")
    creds.add_argument("--config", type=Path, help="agreement file (default: CODE4_CONFIG or the example)")
    creds.add_argument("--passwd", type=Path, default=Path("var/mosquitto/code4.passwd"))
    creds.add_argument("--acl", type=Path, default=Path("var/mosquitto/code4.acl"))
    creds.add_argument("--secrets", type=Path, default=Path("var/device-credentials.csv"),
                       help="where the new passwords go, to configure the devices with (keep it safe)")
    creds.add_argument("--prefix", default=os.environ.get("CODE4_TOPIC_PREFIX", DEFAULT_PREFIX))
    creds.add_argument("--conf", type=Path,
                       help="also write the broker configuration (deploy/mosquitto/mosquitto.conf with these files)")
    creds.add_argument("--rotate", action="store_true", help="new passwords for everyone, not only for new devices")
    creds.set_defaults(func=_devices_credentials)


def _devices_credentials(args: argparse.Namespace) -> int:
    from devices import broker_accounts
    from escalation.check import load_organisation
    from escalation.loader import AgreementFileError
    from gateway.settings import Settings, shipped_broker_conf

    path = args.config or Settings.load().agreement_file
    try:
        loaded, _ = load_organisation(path)
    except AgreementFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    org = loaded.organisation
    bridges = broker_accounts.bridges(org.adapters)
    hashes, new = broker_accounts.accounts(
        [d.id for d in org.devices], broker_accounts.read_passwd(args.passwd),
        extra_users=[b.user for b in bridges], rotate=args.rotate,
    )
    broker_accounts.write_secret(args.passwd, broker_accounts.passwd_text(hashes))
    args.acl.parent.mkdir(parents=True, exist_ok=True)
    args.acl.write_text(broker_accounts.acl_text(args.prefix, bridges), encoding="utf-8")
    if new:
        rows = "".join(f"{user},{password}\n" for user, password in new.items())
        broker_accounts.write_secret(args.secrets, "username,password\n" + rows)
    print(f"{len(hashes)} accounts in {args.passwd} ({len(new)} new), ACL in {args.acl}")
    if args.conf:
        template = shipped_broker_conf().read_text(encoding="utf-8")
        args.conf.parent.mkdir(parents=True, exist_ok=True)
        args.conf.write_text(broker_accounts.broker_conf(template, passwd=args.passwd.resolve(),
                                                         acl=args.acl.resolve()), encoding="utf-8")
        print(f"Broker configuration in {args.conf}: client ids tied to accounts, no anonymous access; "
              "check its listeners and certificate paths")
    if new:
        print(f"New passwords are in {args.secrets}: configure the devices with them, then delete the file.")
    if broker_accounts.DISPATCHER in new:
        for line in dispatcher_urls(broker_accounts.DISPATCHER, shipped_broker_conf().read_text(encoding="utf-8")):
            print(line)
    return 0


def dispatcher_urls(user: str, template: str) -> list[str]:
    """How code4 reaches the broker configured from `template` (deploy/mosquitto/mosquitto.conf):
    on the broker's own host through the listener bound to loopback, from anywhere else (another
    host, a container) through the TLS listener, as the configuration's comments and the README
    say. Read from the template, so that it names the ports the written configuration has."""
    account = f"{user}:<password from the file>"
    lines = [f"code4 itself connects as {user}:"]
    for port, address in re.findall(r"^listener\s+(\d+)(?:[ \t]+(\S+))?", template, flags=re.MULTILINE):
        if address in LOOPBACK:
            lines.append(f"  on the broker's host (its loopback listener): "
                         f"CODE4_MQTT_URL=mqtt://{account}@{address}:{port}")
        else:
            lines.append(f"  from another host or a container (TLS only): "
                         f"CODE4_MQTT_URL=mqtts://{account}@<broker>:{port}, CODE4_MQTT_CA_FILE for a private CA")
    return lines
