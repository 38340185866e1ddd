"""The `code4` command as a user runs it: check a file, run the service on its embedded
defaults, press a simulated button and answer as a pager."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest

from devices.endpoint import MqttEndpoint
from gateway.mqtt.broker import Mosquitto, free_port, wait_for_port
from tests.conftest import FIXTURES

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "deploy" / "examples" / "wormerland.yaml"

# These run `code4` as a process on the system clock: whatever the hour, they must pass.
pytestmark = pytest.mark.realclock


def code4(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env=env or os.environ.copy(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_check_accepts_the_example_and_shows_each_chain(tmp_path: Path) -> None:
    result = code4("check", str(EXAMPLE), "--at", "2026-11-23 10:00", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stadhuis/balie-1 (fixed_button)  Balie 1, Publiekshal, Gemeentehuis Wormer" in result.stdout
    assert "1. bhv code 4 (on_severe): pager, sms, 45s, 2 needed -> Jan de Vries [BHV], Fatima El Amrani [BHV], " \
           "Anouk Visser [BHV], Kees Bakker [BHV]" in result.stdout
    assert "+ alongside: collega: pager, app, not waited for -> Jan de Vries [BHV], Fatima El Amrani [BHV], " \
           "Mohamed Yilmaz" in result.stdout
    assert "never paged (the person in danger): Sanne de Jong" in result.stdout
    assert "informed at once (afdelingshoofd): Ingrid Kok (app)" in result.stdout
    assert result.stdout.rstrip().endswith("has a path to help at every hour of the week")


def test_check_on_a_broken_file_names_file_line_and_field_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (FIXTURES / "testorg.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("ack_timeout: 45s, required: 2}", "ack_timeout: 45 seconds, required: 2}")
                      .replace("person: marieke}", "person: mariek}"), encoding="utf-8")
    result = code4("check", str(broken), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"{broken}:56: agreements[0].steps[1].ack_timeout: '45 seconds' is not a duration; write it like " \
           "'20s', '2m' or '1m30s'" in lines
    assert lines[-1] == "FAILED: 1 error(s); the file was not loaded"


def clean_env() -> tuple[dict[str, str], int]:
    """This machine's environment without any CODE4_ setting, and a free HTTP port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE4_")}
    port = free_port()
    env["CODE4_HTTP"] = f"127.0.0.1:{port}"
    return env, port


def start_run(tmp_path: Path, env: dict[str, str], port: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`code4 run` in tmp_path, once it answers and has written var/run.json."""
    service = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert wait_for_port(port, 30), "code4 run did not open its HTTP port"
    for _ in range(100):
        if (tmp_path / "var" / "run.json").exists():
            break
        time.sleep(0.1)
    return service, json.loads((tmp_path / "var" / "run.json").read_text(encoding="utf-8"))


def test_run_on_embedded_defaults_then_press_and_answer(tmp_path: Path) -> None:
    """What the README's first command does: broker, SQLite under ./var, the example site, and
    phones simulated locally. Jan's or Kees's pager is paged first at every hour of the week
    (Kees is the BHV-er in the building from 07:30 on weekdays, Jan on call), so this holds at
    any hour; test_example_site.py checks those chains at fixed moments."""
    env, port = clean_env()
    service, running = start_run(tmp_path, env, port)
    try:
        assert (tmp_path / "var" / "code4.db").exists()
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").json() == {"status": "ok", "role": "leader"}
        assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700, "var/ is for code4's account only"
        for path in (tmp_path / "var").glob("code4.db*"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path.name} is readable by others"
        assert running["twilio_url"].startswith("http://127.0.0.1:"), "the local Twilio server runs beside it"
        assert httpx.get(f"{running['twilio_url']}/_sim/traffic").status_code == 200

        # Jan (pager-07) or Kees (pager-09), both BHV-trained, is in the first step at every hour
        # of the week: Kees is the BHV in the building from 07:30 on weekdays, Jan on call.
        pagers = [subprocess.Popen([sys.executable, "-m", "gateway.cli", "simulate", "pager", pager_id,
                                    "--answer", "accept", "--delay", "0.2", "--wait", "20"],
                                   cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                  for pager_id in ("pager-07", "pager-09")]
        seen = []
        for pager in pagers:
            assert pager.stdout is not None
            seen.append(pager.stdout.readline())  # the pager keeps no session: let it subscribe first
            assert "listening" in seen[-1], seen
        button = code4("simulate", "button", "knop-balie-1", "--wait", "15", "--cancel-after", "4", "--pin", "1234",
                       cwd=tmp_path, env=env, timeout=40)
        for pager in pagers:
            pager.terminate()
        pager_out = "".join(seen) + "".join(pager.communicate(timeout=10)[0] for pager in pagers)
        assert button.returncode == 0, button.stdout
        assert "feedback: received  Alarm ontvangen." in button.stdout
        assert re.search(r"feedback: help_coming  Hulp komt: (Jan de Vries|Kees Bakker) \(nr 1\)", button.stdout), \
            button.stdout
        assert "feedback: closed  Alarm ingetrokken." in button.stdout
        assert "Jij bent nummer 1" in pager_out
        assert running["mqtt_url"].startswith("mqtt://127.0.0.1:")
        phone = code4("simulate", "phone", "+31612000001", cwd=tmp_path, env=env)
        assert phone.returncode == 0, phone.stderr
    finally:
        service.terminate()
        output = service.communicate(timeout=20)[0]
    assert service.returncode == 0, output
    assert "SIMULATION: no Twilio account is set" in output
    assert "code4 stopped" in output
    assert not (tmp_path / "var" / "run.json").exists()


def test_a_second_instance_on_the_same_sqlite_database_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    env, port = clean_env()
    env |= {"CODE4_CONFIG": str(EXAMPLE)}
    service, _ = start_run(tmp_path, env, port)
    try:
        second = code4("run", cwd=tmp_path, env=env | {"CODE4_HTTP": f"127.0.0.1:{free_port()}"}, timeout=30)
        assert second.returncode == 2
        assert "another code4 instance (process " in second.stderr
        assert "SQLite is for one instance on one machine; use PostgreSQL" in second.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").json()["role"] == "leader", "the first runs on"
    finally:
        service.terminate()
        service.communicate(timeout=20)


def test_a_taken_http_port_stops_start_up_with_the_reason_and_leaves_nothing_running(tmp_path: Path) -> None:
    env, port = clean_env()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = code4("run", cwd=tmp_path, env=env | {"CODE4_CONFIG": str(EXAMPLE)}, timeout=60)
    assert result.returncode == 2
    assert f"code4 cannot start: the HTTP API cannot listen on 127.0.0.1:{port}" in result.stderr
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftovers.stdout == "", "the broker it started for itself was stopped again"


def test_run_with_an_agreement_file_of_its_own_never_simulates_phones(tmp_path: Path) -> None:
    env, port = clean_env()
    service, running = start_run(tmp_path, env | {"CODE4_CONFIG": str(EXAMPLE)}, port)
    try:
        assert "twilio_url" not in running
    finally:
        service.terminate()
        output = service.communicate(timeout=20)[0]
    assert "SIMULATION" not in output
    assert "Twilio is not configured" in output


def test_the_first_admin_is_created_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "CODE4_DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "users", *args], cwd=tmp_path, env=env,
                              input=stdin, capture_output=True, text=True, timeout=60, check=False)

    added = run("add", "beheer", "--role", "admin", "--role", "operator", "--name", "Ria Beheer", "--password-stdin",
                stdin="een lang genoeg wachtwoord\n")
    assert (added.returncode, added.stdout.strip()) == (0, "added beheer (admin, operator)")
    listed = run("list")
    assert listed.stdout.split() == ["beheer", "admin,", "operator", "Ria", "Beheer"]
    token = run("token", "beheer", "--name", "monitoring")
    assert token.returncode == 0 and token.stdout.startswith("c4_") and len(token.stdout.strip()) > 40
    short = run("add", "kim", "--role", "operator", "--password-stdin", stdin="kort\n")
    assert (short.returncode, short.stderr.strip()) == (1, "a password has at least 12 characters")
    twice = run("add", "beheer", "--role", "admin", "--password-stdin", stdin="een lang genoeg wachtwoord\n")
    assert (twice.returncode, twice.stderr.strip()) == (1, "user 'beheer' exists already")


def test_api_tokens_from_the_command_line_expire_are_listed_and_end(tmp_path: Path) -> None:
    env = {**os.environ, "CODE4_DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "users", *args], cwd=tmp_path, env=env,
                              input=stdin, capture_output=True, text=True, timeout=60, check=False)

    added = run("add", "beheer", "--role", "admin", "--password-stdin", stdin="een lang genoeg wachtwoord\n")
    assert added.returncode == 0, added.stderr
    forever = run("token", "beheer", "--name", "monitoring")
    assert forever.stdout.startswith("c4_") and "token 1 (monitoring) for beheer, lasts until revoked" in forever.stderr
    export = run("token", "beheer", "--name", "export", "--expires", "90d")
    assert export.returncode == 0 and export.stdout.startswith("c4_")
    assert "token 2 (export) for beheer, expires 20" in export.stderr
    wrong = run("token", "beheer", "--expires", "90 days")
    assert (wrong.returncode, wrong.stderr.strip()) == (
        2, "--expires: '90 days' is not a lifetime; write it like '90d', '12h' or '30m'")

    listed = run("tokens", "beheer")
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "CREATED", "LAST", "USED", "EXPIRES", "STATE"]
    assert [(r.split()[0], r.split()[1], r.split()[-1]) for r in rows] == [("1", "monitoring", "active"),
                                                                           ("2", "export", "active")]
    assert forever.stdout.strip() not in listed.stdout and export.stdout.strip() not in listed.stdout

    assert run("revoke-token", "1").stdout.strip() == "token 1 revoked"
    twice = run("revoke-token", "1")
    assert (twice.returncode, twice.stderr.strip()) == (1, "no active token 1")
    changed = run("passwd", "beheer", "--password-stdin", stdin="koffie fiets regenjas lamp\n")
    assert changed.stdout.strip() == "password of beheer changed; signed out everywhere and their API tokens ended"
    states = [" ".join(r.split()[-3:]) for r in run("tokens", "beheer").stdout.splitlines()[1:]]
    assert all(s.startswith("revoked 20") for s in states) and len(states) == 2, states


def test_common_passwords_are_refused_by_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "CODE4_DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}"}

    def add(username: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "users", "add", username, "--role", "operator",
                               "--password-stdin"], cwd=tmp_path, env=env, input=password + "\n",
                              capture_output=True, text=True, timeout=60, check=False)

    for password in ("Welkom01!2345", "password1234", "qwertyuiop12"):
        refused = add("kim", password)
        assert refused.returncode == 1, password
        assert refused.stderr.startswith("this password is too easy to guess: it is built on "), refused.stderr
        assert refused.stderr.strip().endswith("choose three or four unrelated words, or a longer password")
    assert add("kim", "koffie fiets regenjas lamp").stdout.strip() == "added kim (operator)"


def test_the_pager_shows_a_page_sent_again_once_and_an_update_of_it_as_new(tmp_path: Path,
                                                                          mosquitto: Mosquitto) -> None:
    """Pages are at-least-once (a takeover may send one again): the same page twice is one page."""
    env, _ = clean_env()
    pager = subprocess.Popen([sys.executable, "-m", "gateway.cli", "simulate", "pager", "pager-x", "--mqtt",
                              mosquitto.url, "--prefix", "t/v1", "--wait", "3"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert pager.stdout is not None
    assert "listening" in pager.stdout.readline()
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sender.connect("127.0.0.1", MqttEndpoint.parse(mosquitto.url).port)
    sender.loop_start()
    page = {"page_id": "a-1.1", "alarm_id": "a-1", "code": "", "text": "Hulp nodig bij de balie", "location": "Balie"}
    for payload in (page, page, {**page, "text": "Jan komt ook", "role": 2}):
        sender.publish("t/v1/dev/pager-x/page", json.dumps(payload), qos=1).wait_for_publish(5)
    output = pager.communicate(timeout=20)[0]
    sender.loop_stop()
    sender.disconnect()
    assert output.count("PAGE a-1.1: Hulp nodig bij de balie") == 1, output
    assert "PAGE a-1.1: Jan komt ook  [nummer 2]" in output


def test_device_credentials_tell_code4_the_url_of_the_shipped_broker_configuration(tmp_path: Path) -> None:
    """deploy/mosquitto/mosquitto.conf (what `--conf` writes) has a plain listener on loopback for
    code4 on the broker's host and a TLS listener on 8883 for everything else, as the README
    says: the dispatcher's URL printed names each, not TLS to a broker on the same host."""
    conf = tmp_path / "code4.conf"
    result = code4("devices", "credentials", "--config", str(EXAMPLE), "--passwd", str(tmp_path / "code4.passwd"),
                   "--acl", str(tmp_path / "code4.acl"), "--secrets", str(tmp_path / "credentials.csv"),
                   "--conf", str(conf), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = conf.read_text(encoding="utf-8").splitlines()
    assert "listener 1883 127.0.0.1" in written and "listener 8883" in written
    lines = result.stdout.splitlines()
    at = lines.index("code4 itself connects as code4-dispatcher:")
    assert lines[at + 1] == ("  on the broker's host (its loopback listener): "
                             "CODE4_MQTT_URL=mqtt://code4-dispatcher:<password from the file>@127.0.0.1:1883")
    assert lines[at + 2] == ("  from another host or a container (TLS only): "
                             "CODE4_MQTT_URL=mqtts://code4-dispatcher:<password from the file>@<broker>:8883, "
                             "CODE4_MQTT_CA_FILE for a private CA")
    again = code4("devices", "credentials", "--config", str(EXAMPLE), "--passwd", str(tmp_path / "code4.passwd"),
                  "--acl", str(tmp_path / "code4.acl"), "--secrets", str(tmp_path / "credentials.csv"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "CODE4_MQTT_URL" not in again.stdout, "its password is not new: nothing to configure"


def test_app_sign_ins_are_listed_and_revoked_from_the_command_line(tmp_path: Path) -> None:
    """A lost phone: the admin lists the user's app sign-ins and ends one; a new password ends the rest."""
    from dispatcher.clock import SystemClock
    from dispatcher.store.push import PushSubscriptionStore
    from dispatcher.store.repository import Store
    from gateway.identity.accounts import Accounts
    from gateway.identity.devices import DeviceSessions

    url = f"sqlite:///{tmp_path / 'users.db'}"
    env = {**os.environ, "CODE4_DATABASE_URL": url}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "users", *args], cwd=tmp_path, env=env,
                              input=stdin, capture_output=True, text=True, timeout=60, check=False)

    assert run("add", "jan", "--role", "responder", "--person", "jan", "--password-stdin",
               stdin="een lang genoeg wachtwoord\n").returncode == 0
    store = Store(url)
    now = SystemClock().now
    push = PushSubscriptionStore(store, now=now)
    devices = DeviceSessions(store, now=now, on_revoke=push.forget_device)
    principal = Accounts(store, now=now).authenticate("jan", "een lang genoeg wachtwoord")
    assert principal is not None
    pixel, iphone = devices.open(principal, "Android"), devices.open(principal, "iPhone")
    signed_in = devices.principal(pixel)
    assert signed_in is not None
    push.subscribe("jan", signed_in.session_id, "https://fcm.googleapis.com/fcm/send/x", "k" * 87, "a" * 22)
    header, *rows = run("devices", "jan").stdout.splitlines()
    assert header.split() == ["ID", "DEVICE", "SIGNED", "IN", "LAST", "USED", "STATE"]
    assert [(r.split()[0], r.split()[1], r.split()[-1]) for r in rows] == [("1", "Android", "active"),
                                                                           ("2", "iPhone", "active")]
    assert run("revoke-device", "1").stdout.strip() == "device sign-in 1 revoked"
    assert devices.principal(pixel) is None and push.active_for("jan") == []
    assert (run("revoke-device", "1").returncode, run("revoke-device", "1").stderr.strip()) == (
        1, "no active device sign-in 1")
    assert devices.principal(iphone) is not None
    run("passwd", "jan", "--password-stdin", stdin="koffie fiets regenjas lamp\n")
    assert devices.principal(iphone) is None
    store.close()


def test_check_present_shows_who_is_in_and_which_steps_cannot_be_met(tmp_path: Path) -> None:
    """`--present` reads who signed in from the service's database: one BHV-er in the town hall
    while the step needs two, so it cannot be met now; without `--present` nothing is assumed."""
    from datetime import UTC, datetime, timedelta

    from dispatcher.store.presence import PresenceStore
    from dispatcher.store.repository import Store

    url = f"sqlite:///{tmp_path / 'code4.db'}"
    store = Store(url)
    store.migrate()
    # Years either side: `code4` runs as a process of its own, whose clock need not be this
    # one's (CI's any-hour runs move this process's clock, not always the child's).
    now, years = datetime.now(UTC), timedelta(days=5 * 365)
    PresenceStore(store).sign_in("jan", "stadhuis", via="kiosk", now=now - years, expires_at=now + years)
    PresenceStore(store).sign_in("fatima", "stadhuis", via="app", now=now - 2 * years,
                                 expires_at=now - years)  # lapsed: not present
    store.close()
    env = {**os.environ, "CODE4_DATABASE_URL": url}
    config = str(FIXTURES / "presenceorg.yaml")
    result = code4("check", config, "--present", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Present now (from the service's database):\n  stadhuis: Jan de Vries\n  gemeentewerf: nobody" \
        in result.stdout
    assert "1. bhv code 4: pager, 45s, 2 needed -> Jan de Vries [BHV] (only those present); CANNOT BE MET now: " \
           "1 of 2 present" in result.stdout
    plain = code4("check", config, cwd=tmp_path, env=env)
    assert "Present now" not in plain.stdout and "CANNOT BE MET" not in plain.stdout
