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
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from gateway.cli import main
from gateway.mqtt.broker import Mosquitto, free_port, wait_for_port
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
        f"listener {tls_port} 127.0.0.1\nuse_username_as_clientid true\ncafile {certs / 'ca.crt'}\n"
        f"certfile {certs / 'server.crt'}\nkeyfile {certs / 'server.key'}\ntls_version tlsv1.2\n"))
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


def connect(port: int, username: str | None, password: str | None, *, ca: Path | None = None,
            client_id: str | None = None, keep: list[mqtt.Client] | None = None) -> mqtt.ReasonCode:
    """Connect, and say how the broker answered; with `keep`, stay connected (added to it)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"probe-{username}",
                         clean_session=client_id is None)
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
    if keep is not None:
        keep.append(client)
        return result[0]
    client.loop_stop()
    client.disconnect()
    return result[0]


def still_connected(client: mqtt.Client, topic: str) -> bool:
    """A round trip through the broker: a client whose session was taken over hears nothing."""
    heard: list[bytes] = []
    client.on_message = lambda c, u, message: heard.append(message.payload)
    client.subscribe(topic, qos=1)
    client.publish(topic, b"ping", qos=1)
    for _ in range(100):
        if heard:
            return True
        time.sleep(0.02)
    return False


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
async def test_a_device_account_cannot_take_over_code4s_session(
    secured: tuple[Harness, dict[str, str], int, Path],
) -> None:
    harness, passwords, _, _ = secured
    assert harness.service is not None
    session = harness.service.session
    intruders: list[mqtt.Client] = []
    for client_id in ("code4-dispatcher", harness.client_id):  # the id it is known by, and the one it asked for
        assert connect(harness.mosquitto.port, "knop-balie-2", passwords["knop-balie-2"], client_id=client_id,
                       keep=intruders).value == 0
    button = harness.button("knop-balie-1", password=passwords["knop-balie-1"])
    alarm_id = button.press()
    await harness.wait(button.feedback, "received", alarm_id)
    assert session.connections == 1, "code4's session was never taken from it"
    for intruder in intruders:
        intruder.loop_stop()
        intruder.disconnect()


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
    passwd, acl, conf = tmp_path / "code4.passwd", tmp_path / "code4.acl", tmp_path / "produced.conf"
    assert main(["devices", "credentials", "--config", str(CONFIG), "--passwd", str(passwd), "--acl", str(acl),
                 "--secrets", str(tmp_path / "credentials.csv"), "--conf", str(conf)]) == 0
    with (tmp_path / "credentials.csv").open(encoding="utf-8") as handle:
        passwords = {row["username"]: row["password"] for row in csv.DictReader(handle)}
    certs = make_certificates(tmp_path / "certs")
    (tmp_path / "data").mkdir()
    plain, tls = free_port(), free_port()
    produced = conf.read_text(encoding="utf-8")  # what `code4 devices credentials --conf` wrote
    assert f"password_file {passwd}" in produced and f"acl_file {acl}" in produced
    text = (produced.replace("listener 1883 127.0.0.1", f"listener {plain} 127.0.0.1")
            .replace("listener 8883", f"listener {tls} 127.0.0.1")
            .replace("/etc/mosquitto/certs/", f"{certs}/")
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
        # A device that asks for the dispatcher's client id gets its own: code4 stays connected.
        held: list[mqtt.Client] = []
        assert connect(plain, "code4-dispatcher", passwords["code4-dispatcher"], client_id="code4-dispatcher",
                       keep=held).value == 0
        assert connect(tls, "knop-balie-2", passwords["knop-balie-2"], ca=ca, client_id="code4-dispatcher",
                       keep=held).value == 0
        assert still_connected(held[0], "code4/v1/dev/knop-balie-2/feedback")
        for client in held:
            client.loop_stop()
            client.disconnect()
        big = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="big")
        big.username_pw_set("knop-balie-2", passwords["knop-balie-2"])
        big.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
        assert "message_size_limit 65536" in text
    finally:
        process.terminate()
        process.wait(timeout=10)


@SQLITE
async def test_no_log_line_carries_the_broker_password(secured: tuple[Harness, dict[str, str], int, Path]) -> None:
    harness, passwords, _, _ = secured
    secret = passwords["code4-dispatcher"]
    with capture_logs() as logs:
        await harness.stop()
        await harness.start()
    running = [e for e in logs if e["event"] == "code4 running"]
    assert running and running[0]["broker"].startswith("mqtts://code4-dispatcher:***@127.0.0.1:")
    assert not [e for e in logs if secret in repr(e)], "the password appears in a log line"
