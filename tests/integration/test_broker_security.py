"""The broker as deployed: an account per device from `code4 devices credentials`, the ACL that
keeps each device to its own topics, and a TLS listener."""

from __future__ import annotations

import csv
import os
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from dispatcher.clock import FakeClock
from gateway.broker import Mosquitto, free_port, wait_for_port
from gateway.cli import main
from tests.conftest import FIXTURES
from tests.integration.harness import Harness

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CONFIG = FIXTURES / "deviceorg.yaml"


def make_certificates(directory: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1, made with openssl."""
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=code4 test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out",
        "server.csr")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")
    return directory


@pytest.fixture
async def secured(tmp_path: Path, database_url: str, clock: FakeClock) -> AsyncIterator[tuple[Harness, dict[str, str],
                                                                                          int, Path]]:
    passwd, acl, secrets_csv = tmp_path / "code4.passwd", tmp_path / "code4.acl", tmp_path / "credentials.csv"
    assert main(["devices", "credentials", "--config", str(CONFIG), "--passwd", str(passwd), "--acl", str(acl),
                 "--secrets", str(secrets_csv)]) == 0
    with secrets_csv.open(encoding="utf-8") as handle:
        passwords = {row["username"]: row["password"] for row in csv.DictReader(handle)}
    certs = make_certificates(tmp_path / "certs")
    tls_port = free_port()
    broker = Mosquitto(tmp_path / "broker", accounts=(passwd, acl), extra_config=(
        f"listener {tls_port} 127.0.0.1\ncafile {certs / 'ca.crt'}\ncertfile {certs / 'server.crt'}\n"
        f"keyfile {certs / 'server.key'}\ntls_version tlsv1.2\n"))
    broker.start_sync()
    # code4 itself connects over TLS, with its own account.
    harness = Harness(mosquitto=broker, database_url=database_url, clock=clock, tmp_path=tmp_path, config=CONFIG,
                      mqtt_url=f"mqtts://code4-dispatcher:{passwords['code4-dispatcher']}@127.0.0.1:{tls_port}",
                      mqtt_ca_file=certs / "ca.crt")
    await harness.start()
    try:
        yield harness, passwords, tls_port, certs
    finally:
        await harness.close()
        broker.stop_sync()


def connect(port: int, username: str | None, password: str | None, *, ca: Path | None = None) -> mqtt.ReasonCode:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{username}", clean_session=True)
    if username:
        client.username_pw_set(username, password)
    if ca:
        client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
    result: list[mqtt.ReasonCode] = []
    client.on_connect = lambda c, u, f, reason, p=None: result.append(reason)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for _ in range(100):
        if result:
            break
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    return result[0]


@SQLITE
async def test_devices_use_their_own_accounts_and_code4_still_works_over_tls(
    secured: tuple[Harness, dict[str, str], int, Path],
) -> None:
    harness, passwords, _, _ = secured
    sanne = harness.pager("pager-sanne", password=passwords["pager-sanne"])
    button = harness.button("knop-balie-1", password=passwords["knop-balie-1"])
    alarm_id = button.press()
    await harness.wait(button.feedback, "received", alarm_id)
    page = await harness.wait(sanne.page)
    assert page["location"].startswith("Balie 1")


@SQLITE
async def test_a_device_cannot_raise_an_alarm_as_another_or_read_its_feedback(
    secured: tuple[Harness, dict[str, str], int, Path],
) -> None:
    harness, passwords, _, _ = secured
    a = harness.button("knop-balie-1", password=passwords["knop-balie-1"])
    b = harness.button("knop-balie-2", password=passwords["knop-balie-2"])
    a.client.subscribe("code4/v1/dev/knop-balie-2/feedback", qos=1)  # trying to listen in on B
    forged = a.client.publish("code4/v1/dev/knop-balie-2/alarm", b'{"alarm_id": "forged", "press": 1}', qos=1)
    forged.wait_for_publish(5)
    b_alarm = b.press()
    await harness.wait(b.feedback, "received", b_alarm)
    a_alarm = a.press()  # A's own alarm: when its answer arrives, B's would have too
    await harness.wait(a.feedback, "received", a_alarm)
    assert [f["alarm_id"] for f in a.messages("feedback")] == [a_alarm], "A heard nothing of B"
    alarms = await harness.alarms()
    assert sorted((x["device_id"], x["uid"] != "") for x in alarms) == [("knop-balie-1", True), ("knop-balie-2", True)]
    assert len(alarms) == 2, "the forged alarm on B's topic was dropped by the broker"


@SQLITE
async def test_wrong_or_missing_passwords_are_refused(secured: tuple[Harness, dict[str, str], int, Path]) -> None:
    harness, passwords, tls_port, certs = secured
    port = harness.mosquitto.port
    assert connect(port, "knop-balie-1", "not-the-password").is_failure
    assert connect(port, None, None).is_failure, "no anonymous access"
    assert connect(port, "knop-balie-1", passwords["knop-balie-1"]).value == 0
    assert connect(tls_port, "knop-balie-1", passwords["knop-balie-1"], ca=certs / "ca.crt").value == 0


def test_the_deploy_configuration_runs_with_accounts_acl_and_tls(tmp_path: Path) -> None:
    """deploy/mosquitto/mosquitto.conf as shipped, with its paths and ports moved into a
    temporary directory: devices connect over TLS with their own accounts only."""
    passwd, acl = tmp_path / "code4.passwd", tmp_path / "code4.acl"
    assert main(["devices", "credentials", "--config", str(CONFIG), "--passwd", str(passwd), "--acl", str(acl),
                 "--secrets", str(tmp_path / "credentials.csv")]) == 0
    with (tmp_path / "credentials.csv").open(encoding="utf-8") as handle:
        passwords = {row["username"]: row["password"] for row in csv.DictReader(handle)}
    certs = make_certificates(tmp_path / "certs")
    (tmp_path / "data").mkdir()
    plain, tls = free_port(), free_port()
    shipped = (Path(__file__).parents[2] / "deploy" / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    text = (shipped.replace("listener 1883 127.0.0.1", f"listener {plain} 127.0.0.1")
            .replace("listener 8883", f"listener {tls} 127.0.0.1")
            .replace("/etc/mosquitto/certs/", f"{certs}/").replace("/etc/mosquitto/", f"{tmp_path}/")
            .replace("/var/lib/mosquitto/", f"{tmp_path}/data/")
            .replace("log_dest syslog", f"log_dest file {tmp_path}/mosquitto.log"))
    for name in ("server.crt", "server.key", "ca.crt"):
        assert f"{certs}/{name}" in text, f"the shipped config names {name}"
    if os.geteuid() == 0:
        text += "user root\n"
    (tmp_path / "mosquitto.conf").write_text(text, encoding="utf-8")
    process = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], stderr=subprocess.PIPE)
    try:
        assert wait_for_port(tls, 10), "the shipped configuration did not start"
        ca = certs / "ca.crt"
        assert connect(tls, "knop-balie-1", passwords["knop-balie-1"], ca=ca).value == 0
        assert connect(tls, "knop-balie-1", "wrong", ca=ca).is_failure
        assert connect(plain, None, None).is_failure, "no anonymous access, not even on loopback"
        assert connect(plain, "code4-dispatcher", passwords["code4-dispatcher"]).value == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
