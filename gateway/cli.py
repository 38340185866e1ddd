"""The `code4` command: run, check, simulate, bench."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from devices.endpoint import MqttEndpoint
from devices.kinds import DEVICE_KINDS
from devices.protocol import DEFAULT_PREFIX, Topics
from gateway.identity.accounts import ROLES

if TYPE_CHECKING:
    from gateway.identity.accounts import Accounts
    from gateway.settings import Settings
    from simulators.twilio_server import TwilioSimulator


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="code4", description="Alarm and assistance dispatch.")
    commands = parser.add_subparsers(title="commands")

    run = commands.add_parser("run", help="run the service (broker, dispatcher, HTTP API)")
    run.add_argument("--config", type=Path, help="agreement file (default: CODE4_CONFIG or the example organisation)")
    run.add_argument("--http", help="HTTP address host:port (default: CODE4_HTTP or 127.0.0.1:8080)")
    run.set_defaults(func=_run)

    check = commands.add_parser("check", help="validate an agreement file and show each location's chain")
    check.add_argument("file", type=Path)
    check.add_argument("--at", help="show the chain at this local time, e.g. '2026-11-28 23:00' (default: now)")
    check.set_defaults(func=_check)

    simulate = commands.add_parser("simulate", help="simulated devices against a running code4")
    devices = simulate.add_subparsers(title="devices")
    button = devices.add_parser("button", help="press a panic button or mobile alarm and follow its feedback")
    button.add_argument("device", help="device id, e.g. knop-balie-1")
    button.add_argument("--kind", default="panic", choices=DEVICE_KINDS)
    button.add_argument("--zone", help="position zone for a mobile alarm")
    button.add_argument("--again-after", type=float, metavar="S", help="press again after S seconds (escalates)")
    button.add_argument("--cancel-after", type=float, metavar="S", help="cancel after S seconds")
    button.add_argument("--pin", help="PIN for the cancel")
    button.add_argument("--wait", type=float, default=300, metavar="S", help="stop following after S seconds")
    _mqtt_args(button)
    button.set_defaults(func=_simulate_button)

    pager = devices.add_parser("pager", help="a responder pager: show pages and answer them")
    pager.add_argument("device", help="pager id, e.g. pager-07")
    pager.add_argument("--answer", choices=["accept", "decline", "on_scene", "ask"],
                       help="answer every page like this; 'ask' asks you each time")
    pager.add_argument("--delay", type=float, default=2.0, metavar="S", help="answer after S seconds (default 2)")
    pager.add_argument("--respond", nargs=2, metavar=("PAGE_ID", "ANSWER"), help="answer one page and exit")
    pager.add_argument("--wait", type=float, default=300, metavar="S", help="stop listening after S seconds")
    _mqtt_args(pager)
    pager.set_defaults(func=_simulate_pager)

    mobile = devices.add_parser("mobile", help="a field worker's mobile alarm: moves, checks in, presses")
    mobile.add_argument("device", help="device id, e.g. mob-12")
    mobile.add_argument("--route", default="", help="positions 'lat,lon;lat,lon;…' walked one per --every")
    mobile.add_argument("--every", type=float, default=5.0, metavar="S", help="seconds per step along the route")
    mobile.add_argument("--visit", type=int, metavar="S", help="start a timed visit: check in within S seconds")
    mobile.add_argument("--note", help="the visit's note (address, client)")
    mobile.add_argument("--check-in-every", type=float, metavar="S", help="send 'ok' every S seconds")
    mobile.add_argument("--press-after", type=float, metavar="S", help="press the alarm after S seconds")
    mobile.add_argument("--kind", default="panic", choices=DEVICE_KINDS)
    mobile.add_argument("--wait", type=float, default=300, metavar="S")
    _mqtt_args(mobile)
    mobile.set_defaults(func=_simulate_mobile)

    scenario = devices.add_parser("scenario", help="run a scenario file against a running code4")
    scenario.add_argument("file", type=Path)
    scenario.add_argument("--twilio", default="http://127.0.0.1:8090", help="the local Twilio server, if used")
    _mqtt_args(scenario)
    scenario.set_defaults(func=_simulate_scenario)

    load = devices.add_parser("load", help="many devices heartbeating and a stream of alarms")
    load.add_argument("--config", type=Path, help="agreement file with the device ids (default: the example)")
    load.add_argument("--devices", type=int, default=200, help="devices heartbeating (default 200)")
    load.add_argument("--heartbeat-every", type=float, default=10.0, metavar="S")
    load.add_argument("--alarms-per-second", type=float, default=2.0, metavar="M")
    load.add_argument("--duration", type=float, default=30.0, metavar="S")
    _mqtt_args(load)
    load.set_defaults(func=_simulate_load)

    incidents = devices.add_parser("incidents", help="a realistic year of incident records, sent to a running code4")
    incidents.add_argument("--year", type=int, help="a calendar year (default: the twelve months up to today)")
    incidents.add_argument("--count", type=int, default=400, help="incidents in the year (default 400)")
    incidents.add_argument("--seed", type=int, default=4, help="same seed, same data (default 4)")
    incidents.add_argument("--config", type=Path, help="agreement file with the sites (default: the example)")
    incidents.add_argument("--url", help="code4's HTTP address (default: from var/run.json)")
    incidents.add_argument("--token", help="an API token of a coordinator or admin (default: CODE4_API_TOKEN)")
    incidents.add_argument("--out", type=Path, help="write the records as JSON here instead of sending them")
    incidents.set_defaults(func=_simulate_incidents)

    twilio = devices.add_parser("twilio", help="a local Twilio-compatible server: the phones of a demo or test")
    twilio.add_argument("--port", type=int, default=8090)
    twilio.add_argument("--account-sid", help="default: CODE4_TWILIO_ACCOUNT_SID, else a local test account")
    twilio.add_argument("--auth-token", help="default: CODE4_TWILIO_AUTH_TOKEN, else a local test token")
    twilio.add_argument("--sms-webhook", help="where phones' texts go (default: CODE4_PUBLIC_URL/twilio/sms/inbound)")
    twilio.set_defaults(func=_simulate_twilio)

    phone = devices.add_parser("phone", help="act as a phone on the local Twilio server")
    phone.add_argument("number", help="the phone number, e.g. +31612000001")
    phone.add_argument("--sms", metavar="TEXT", help="text code4 from this phone (e.g. 1, ja, 'nee K3X9')")
    phone.add_argument("--press", metavar="DIGITS", help="press keys on the call in progress")
    phone.add_argument("--auto-press", metavar="DIGITS", help="answer the next call with these keys by itself")
    phone.add_argument("--sms-mode", choices=["deliver", "undelivered", "failed", "5xx", "slow"],
                       help="how texts to this number go from now on")
    phone.add_argument("--voice-mode", choices=["answer", "busy", "no-answer", "failed", "5xx", "slow"],
                       help="how calls to this number go from now on")
    phone.add_argument("--twilio", help="the local Twilio server (default: the one `code4 run` started here, "
                                        "else http://127.0.0.1:8090)")
    phone.set_defaults(func=_simulate_phone)

    users = commands.add_parser("users", help="who may sign in: add users, passwords, API tokens")
    user_commands = users.add_subparsers(title="user commands")
    add = user_commands.add_parser("add", help="add a user (the first admin, too); asks for the password")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True,
                     choices=list(ROLES), help="give once per role")
    add.add_argument("--name", help="the name shown on the timeline (default: the user name)")
    add.add_argument("--person", help="the person in the agreement file (for responders)")
    add.add_argument("--language", choices=["nl", "en"], default="nl")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_users_add)
    passwd = user_commands.add_parser("passwd", help="set a new password (signs the user out everywhere and "
                                                     "ends their API tokens)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=_users_passwd)
    listing = user_commands.add_parser("list", help="list users and their roles")
    listing.set_defaults(func=_users_list)
    token = user_commands.add_parser("token", help="create an API token for a user (shown once)")
    token.add_argument("username")
    token.add_argument("--name", default="api", help="what the token is for")
    token.add_argument("--expires", metavar="DURATION",
                       help="it ends after this long, like '90d' or '12h' (default: when revoked)")
    token.set_defaults(func=_users_token)
    tokens = user_commands.add_parser("tokens", help="list a user's API tokens with their ids (never the tokens)")
    tokens.add_argument("username")
    tokens.set_defaults(func=_users_tokens)
    revoke = user_commands.add_parser("revoke-token", help="end an API token now (its id from 'users tokens')")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_users_revoke_token)

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

    bench = commands.add_parser("bench", help="measure alarm latency and throughput against a real broker")
    bench.add_argument("--alarms", type=int, default=100, help="alarms one at a time in the quiet run (default 100)")
    bench.add_argument("--burst", type=int, default=100, help="alarms within one second (default 100)")
    bench.add_argument("--devices", type=int, default=10_000,
                       help="supervised devices heartbeating once a minute meanwhile (default 10000)")
    bench.add_argument("--buttons", type=int, default=100, help="simulated buttons (default 100)")
    bench.add_argument("--pagers", type=int, default=20, help="simulated pagers (default 20)")
    bench.add_argument("--sustain", action="store_true",
                       help="also find the highest alarm rate held with press -> first page p99 under --bound-ms")
    bench.add_argument("--sustain-seconds", type=float, default=30.0, help="how long each rate must hold (default 30)")
    bench.add_argument("--bound-ms", type=float, default=100.0, help="the p99 bound of the sustained run (default 100)")
    bench.add_argument("--start-rate", type=float, default=100.0, help="the sustained run's first rate (default 100/s)")
    bench.add_argument("--mqtt", help="broker URL (default: start a Mosquitto of its own)")
    bench.add_argument("--database", action="append", metavar="sqlite|POSTGRESQL_ADMIN_URL",
                       help="run on a fresh SQLite file, or a throw-away database on this PostgreSQL server; "
                            "give it twice for both (default: sqlite, and the PostgreSQL at 127.0.0.1:5432 "
                            "when it answers)")
    bench.add_argument("--failover", action="store_true",
                       help="instead: two instances on PostgreSQL, the leader killed during a steady alarm stream")
    bench.add_argument("--kills", type=int, default=5, help="--failover: how often the leader is killed (default 5)")
    bench.add_argument("--rate", type=float, default=5.0, help="--failover: alarms a second meanwhile (default 5)")
    bench.set_defaults(func=_bench)
    return parser


def _mqtt_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mqtt", help="broker URL (default: CODE4_MQTT_URL, else the broker of `code4 run` here)")
    parser.add_argument("--prefix", help=f"topic prefix (default: CODE4_TOPIC_PREFIX or {DEFAULT_PREFIX})")


# ---- run ------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from dispatcher.store.lease import AnotherInstance
    from escalation.loader import AgreementFileError
    from gateway.app import CannotListen, Code4Service
    from gateway.logging import configure
    from gateway.settings import Settings, SettingsError

    overrides: dict[str, object] = {}
    if args.config:
        overrides["config"] = args.config
    if args.http:
        overrides["http"] = args.http
    try:
        settings = Settings.load(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure(fmt=settings.log_format, level=settings.log_level)

    async def serve() -> None:
        nonlocal settings
        phones = None
        if settings.config is None and not settings.twilio_configured:
            # The example site on its embedded defaults: phones are simulated, never reached.
            phones, settings = await _simulated_phones(settings)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            while not stop.is_set():
                service = Code4Service(settings, run_info={"twilio_url": phones.api_base} if phones else None)
                await service.start()
                loop.add_signal_handler(signal.SIGHUP, service.reload)
                try:
                    ended = asyncio.ensure_future(service.wait())
                    await asyncio.wait([ended, asyncio.ensure_future(stop.wait())],
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    await service.stop()
                if not service.stepped_down:
                    break
                # It lost the dispatcher lease (paused, or cut off from the database): start
                # afresh, as a standby, from what the database holds.
        finally:
            if phones is not None:
                await phones.stop()

    try:
        asyncio.run(serve())
    except AgreementFileError as exc:
        print("code4 cannot start: the agreement file has errors\n" + str(exc), file=sys.stderr)
        return 2
    except (AnotherInstance, CannotListen) as exc:
        print(f"code4 cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


async def _simulated_phones(settings: Settings) -> tuple[TwilioSimulator, Settings]:
    """The local Twilio-compatible server beside a demo run, so that its SMS and voice steps
    can be watched (`code4 simulate phone`, or its page). Only for the example organisation
    without a Twilio account: a run with an agreement file of its own never fakes a channel."""
    import structlog
    from pydantic import SecretStr

    from gateway.mqtt.broker import free_port, port_is_free
    from simulators.twilio_server import TwilioSimulator

    token = secrets.token_urlsafe(24)
    phones = TwilioSimulator(account_sid=LOCAL_SID, auth_token=token,
                             sms_webhook=f"{settings.effective_public_url}/twilio/sms/inbound")
    await phones.start(port=LOCAL_TWILIO_PORT if port_is_free(LOCAL_TWILIO_PORT) else free_port())
    structlog.get_logger("code4.service").warning(
        "SIMULATION: no Twilio account is set, so SMS and voice calls of the example site go to the local "
        "Twilio-compatible server; no real phone is reached", phones=phones.api_base,
        watch="code4 simulate phone <number>")
    simulated = settings.model_copy(update={
        "twilio_account_sid": LOCAL_SID, "twilio_auth_token": SecretStr(token), "twilio_from": LOCAL_FROM,
        "twilio_api_base": phones.api_base})
    return phones, simulated


# ---- check ------------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    from escalation.check import check_file, render_report

    result = check_file(args.file)
    now = datetime.now(UTC)
    if args.at:
        tz = ZoneInfo(result.loaded.organisation.timezone) if result.loaded else ZoneInfo("Europe/Amsterdam")
        try:
            now = datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            print("--at takes local time as 'YYYY-MM-DD HH:MM'", file=sys.stderr)
            return 2
    report = render_report(result, now=now)
    print(report, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


# ---- simulate -----------------------------------------------------------------------------------


def _running() -> dict[str, str]:
    """Where the local `code4 run` is (its var/run.json), or nothing when none runs here."""
    run_file = Path(os.environ.get("CODE4_DATA_DIR", "var")) / "run.json"
    return json.loads(run_file.read_text(encoding="utf-8")) if run_file.exists() else {}  # type: ignore[no-any-return]


def _endpoint(args: argparse.Namespace) -> tuple[MqttEndpoint, Topics]:
    running = _running()
    url = args.mqtt or os.environ.get("CODE4_MQTT_URL") or running.get("mqtt_url")
    prefix = args.prefix or os.environ.get("CODE4_TOPIC_PREFIX") or running.get("topic_prefix")
    return MqttEndpoint.parse(url or "mqtt://127.0.0.1:1883"), Topics(prefix or DEFAULT_PREFIX)


def _say(text: str) -> None:
    print(f"{datetime.now().astimezone():%H:%M:%S}  {text}", flush=True)


def _simulate_button(args: argparse.Namespace) -> int:
    from simulators.devices import SimButton

    endpoint, topics = _endpoint(args)
    button = SimButton(endpoint, args.device, topics=topics)
    button.on(lambda kind, data: _say(f"{kind}: {data.get('state')}  {data.get('text', '')}"))
    button.connect()
    position = {"zone": args.zone} if args.zone else None
    alarm_id = button.press(kind=args.kind, position=position)
    _say(f"{args.device} pressed ({args.kind}), alarm {alarm_id}, via {endpoint.url()}")
    started = time.monotonic()
    pressed_again = cancelled = False
    try:
        while time.monotonic() - started < args.wait:
            elapsed = time.monotonic() - started
            if args.again_after is not None and not pressed_again and elapsed >= args.again_after:
                pressed_again = True
                _say(f"pressed again (press {button.press_again(alarm_id, kind=args.kind)})")
            if args.cancel_after is not None and not cancelled and elapsed >= args.cancel_after:
                cancelled = True
                button.cancel(alarm_id, args.pin)
                _say("cancel sent" + (" with PIN" if args.pin else ""))
            if any(d.get("state") == "closed" for d in button.messages("feedback")):
                return 0
            time.sleep(0.2)
        _say("still open; stopped following (the alarm goes on in code4)")
        return 0
    finally:
        button.close()


def _simulate_mobile(args: argparse.Namespace) -> int:
    from simulators.devices import SimMobile

    endpoint, topics = _endpoint(args)
    route = [tuple(float(x) for x in point.split(",")) for point in args.route.split(";") if point.strip()]
    mobile = SimMobile(endpoint, args.device, topics=topics, route=route)  # type: ignore[arg-type]
    mobile.on(lambda kind, data: _say(f"{kind}: {data.get('state')}  {data.get('text', '')}"))
    mobile.connect()
    started = time.monotonic()
    last_move = last_ok = started
    pressed = False
    try:
        if mobile.here:
            mobile.publish("position", json.dumps(mobile.here).encode(), qos=0)
            _say(f"{args.device} at {mobile.here['lat']:.5f},{mobile.here['lon']:.5f}")
        if args.visit:
            mobile.checkin("start", expect_within_s=args.visit, note=args.note)
            _say(f"visit started: check in within {args.visit} s")
        while time.monotonic() - started < args.wait:
            now = time.monotonic()
            if route and now - last_move >= args.every:
                last_move = now
                here = mobile.move()
                if here:
                    _say(f"moved to {here['lat']:.5f},{here['lon']:.5f}")
            if args.check_in_every and now - last_ok >= args.check_in_every:
                last_ok = now
                mobile.checkin("ok")
                _say("check-in ok")
            if args.press_after is not None and not pressed and now - started >= args.press_after:
                pressed = True
                _say(f"pressed ({args.kind}), alarm {mobile.press(kind=args.kind)}")
            time.sleep(0.2)
        return 0
    finally:
        mobile.close()


def _simulate_scenario(args: argparse.Namespace) -> int:
    from simulators.scenario import Runner, Scenario, ScenarioError

    endpoint, topics = _endpoint(args)
    try:
        ok = Runner(Scenario.load(args.file), endpoint=endpoint, topics=topics, twilio=args.twilio).run(
            lambda line: print(line, flush=True))
    except ScenarioError as exc:
        print(f"scenario error: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


def _simulate_load(args: argparse.Namespace) -> int:
    from gateway.settings import Settings
    from simulators.load import run_load

    endpoint, topics = _endpoint(args)
    ok = run_load(endpoint=endpoint, topics=topics, config=args.config or Settings.load().agreement_file,
                  devices=args.devices, heartbeat_every=args.heartbeat_every,
                  alarms_per_second=args.alarms_per_second, duration=args.duration,
                  say=lambda line: print(line, flush=True))
    return 0 if ok else 1


def _simulate_incidents(args: argparse.Namespace) -> int:
    from gateway.settings import Settings
    from simulators.incidents import generate, send, summary

    config = args.config or Settings.load().agreement_file
    now = datetime.now().astimezone()
    first, last = ((date(args.year, 1, 1), date(args.year, 12, 31)) if args.year
                   else (now.date() - timedelta(days=364), now.date()))
    incidents = generate(config, first=first, last=last, count=args.count, seed=args.seed, until=now)
    for line in summary(incidents):
        print(line, flush=True)
    if args.out:
        args.out.write_text(json.dumps({"incidents": incidents}, indent=1), encoding="utf-8")
        print(f"written to {args.out}")
        return 0
    token = args.token or os.environ.get("CODE4_API_TOKEN")
    if not token:
        print("an API token is needed: --token or CODE4_API_TOKEN (code4 users token NAME)", file=sys.stderr)
        return 2
    url = args.url or _running().get("http_url")
    try:
        ids = send(incidents, url=url or "http://127.0.0.1:8080", token=token)
    except (RuntimeError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"imported as incidents {ids[0]}–{ids[-1]}", flush=True)
    return 0


def _simulate_pager(args: argparse.Namespace) -> int:
    from simulators.devices import SimPager

    endpoint, topics = _endpoint(args)
    ask = args.answer == "ask"
    pager = SimPager(endpoint, args.device, topics=topics, auto=None if ask else args.answer, auto_delay=args.delay)
    pager.connect()
    try:
        if args.respond:
            page_id, answer = args.respond
            pager.respond(page_id, answer)
            _say(f"{args.device} answered {answer} to {page_id}")
            time.sleep(0.3)
            return 0

        shown: set[object] = set()
        seen: set[tuple[object, ...]] = set()

        def show(kind: str, data: dict[str, object]) -> None:
            if kind == "page":
                # Pages are at-least-once: the same page again (after a takeover) is shown once.
                # An update of a page (its role, who else comes) has other text and is shown.
                if (repeat := (data.get("page_id"), data.get("text"), data.get("role"))) in seen:
                    return
                seen.add(repeat)
                role = f"  [nummer {data['role']}]" if data.get("role") else ""
                _say(f"PAGE {data['page_id']}: {data.get('text')}{role}")
                if args.answer and not ask and data["page_id"] not in shown:
                    _say(f"  answering {args.answer} in {args.delay:g} s")
                shown.add(data["page_id"])
            else:
                _say(f"{kind}: {data.get('state')}  {data.get('text', '')}")

        pager.on(show)
        _say(f"{args.device} listening on {endpoint.url()}" + (f", answering {args.answer}" if args.answer else ""))
        if not ask:
            time.sleep(args.wait)
            return 0
        started, answered = time.monotonic(), set()
        while time.monotonic() - started < args.wait:
            waiting = [p for p in pager.pages() if p["page_id"] not in answered]
            if not waiting:
                time.sleep(0.2)
                continue
            page = waiting[-1]
            choice = input(f"{page['page_id']}: [k]om / kan [n]iet / [t]er plaatse / enter = niets: ").strip().lower()
            answered.add(page["page_id"])
            response = {"k": "accept", "n": "decline", "t": "on_scene"}.get(choice[:1])
            if response:
                pager.respond(page["page_id"], response)
                _say(f"answered {response}")
        return 0
    finally:
        pager.close()


LOCAL_SID = "AC" + "0" * 32
LOCAL_FROM = "+3197010000000"
LOCAL_TWILIO_PORT = 8090


def _simulate_twilio(args: argparse.Namespace) -> int:
    from simulators.twilio_server import TwilioSimulator

    sid = args.account_sid or os.environ.get("CODE4_TWILIO_ACCOUNT_SID") or LOCAL_SID
    # A fresh token unless one is shared through the environment: never a well-known one.
    token = args.auth_token or os.environ.get("CODE4_TWILIO_AUTH_TOKEN") or secrets.token_urlsafe(24)
    public = os.environ.get("CODE4_PUBLIC_URL") or f"http://{os.environ.get('CODE4_HTTP', '127.0.0.1:8080')}"
    webhook = args.sms_webhook or f"{public.rstrip('/')}/twilio/sms/inbound"

    async def serve() -> None:
        simulator = TwilioSimulator(account_sid=sid, auth_token=token, sms_webhook=webhook)
        await simulator.start(port=args.port)
        print(f"Local Twilio server on {simulator.api_base}; traffic log: {simulator.api_base}/\n"
              f"Phones' texts go to {webhook}. Run code4 with these settings:\n"
              f"  export CODE4_TWILIO_API_BASE={simulator.api_base} CODE4_TWILIO_ACCOUNT_SID={sid} "
              f"CODE4_TWILIO_AUTH_TOKEN={token} CODE4_TWILIO_FROM=+3197010000000", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await simulator.stop()

    asyncio.run(serve())
    return 0


def _simulate_phone(args: argparse.Namespace) -> int:
    import httpx

    base = (args.twilio or _running().get("twilio_url") or f"http://127.0.0.1:{LOCAL_TWILIO_PORT}").rstrip("/")
    number = args.number
    with httpx.Client(base_url=base, timeout=30) as client:
        rules = {k: v for k, v in (("sms", args.sms_mode), ("voice", args.voice_mode), ("press", args.auto_press))
                 if v is not None}
        if rules:
            client.put(f"/_sim/numbers/{number}", json=rules).raise_for_status()
            _say(f"{number}: {rules}")
        if args.sms:
            replies = client.post(f"/_sim/phones/{number}/sms", json={"body": args.sms}).raise_for_status().json()
            _say(f"{number} texted {args.sms!r}" + "".join(f"\n  code4 answered: {r}" for r in replies["replies"]))
        if args.press:
            answer = client.post(f"/_sim/phones/{number}/press", json={"digits": args.press})
            if answer.status_code == 404:
                print(f"no call in progress to {number}", file=sys.stderr)
                return 1
            answer.raise_for_status()
            _say(f"{number} pressed {args.press}")
        traffic = client.get("/_sim/traffic").raise_for_status().json()
    for message in traffic["messages"]:
        if number in (message["to"], message["from"]):
            arrow = "<-" if message["to"] == number else "->"
            print(f"  sms {arrow} {message['status']:<11} {message['body']}")
    for call in traffic["calls"]:
        if call["to"] == number:
            print(f"  call {call['status']:<11} heard: {' | '.join(call['heard'])}  pressed: {call['pressed']}")
    return 0


# ---- device accounts ---------------------------------------------------------------------------------


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
        print(f"code4 itself connects as {broker_accounts.DISPATCHER}: "
              f"CODE4_MQTT_URL=mqtts://{broker_accounts.DISPATCHER}:<password from the file>@<broker>:8883")
    return 0


# ---- users ----------------------------------------------------------------------------------------


def _accounts() -> Accounts:
    from dispatcher.clock import SystemClock
    from dispatcher.store.repository import Store
    from gateway.identity.accounts import Accounts
    from gateway.settings import Settings

    settings = Settings.load()
    store = Store(settings.effective_database_url)
    store.migrate()
    return Accounts(store, now=SystemClock().now)


def _password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters; a few unrelated words are best): ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def _users_add(args: argparse.Namespace) -> int:
    from gateway.identity.accounts import AccountError

    accounts = _accounts()
    try:
        accounts.add_user(args.username, _password(args.password_stdin), args.role,
                          display_name=args.name, person_id=args.person, language=args.language)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"added {args.username} ({', '.join(sorted(set(args.role)))})")
    return 0


def _users_passwd(args: argparse.Namespace) -> int:
    from gateway.identity.accounts import AccountError

    try:
        _accounts().set_password(args.username, _password(args.password_stdin))
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"password of {args.username} changed; signed out everywhere and their API tokens ended")
    return 0


def _users_list(_: argparse.Namespace) -> int:
    for user in _accounts().users():
        state = "" if user.active else "  (disabled)"
        print(f"{user.username:<20} {', '.join(user.roles):<30} {user.display_name}{state}")
    return 0


def _users_token(args: argparse.Namespace) -> int:
    from gateway.identity.accounts import AccountError, token_lifetime

    try:
        lifetime = token_lifetime(args.expires) if args.expires else None
    except AccountError as exc:
        print(f"--expires: {exc}", file=sys.stderr)
        return 2
    accounts = _accounts()
    user = accounts.user_named(args.username)
    if user is None:
        print(f"no user {args.username}", file=sys.stderr)
        return 1
    token_id, token = accounts.create_token(user.id, args.name, expires_in=lifetime)
    made = next(t for t in accounts.tokens(user.id) if t.id == token_id)
    until = f"expires {_local(made.expires_at)}" if made.expires_at else "lasts until revoked"
    print(f"token {token_id} ({args.name}) for {user.username}, {until}; shown once:", file=sys.stderr)
    print(token)  # alone on standard output, for scripts
    return 0


def _users_tokens(args: argparse.Namespace) -> int:
    accounts = _accounts()
    user = accounts.user_named(args.username)
    if user is None:
        print(f"no user {args.username}", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    print(f"{'ID':>5}  {'NAME':<20} {'CREATED':<16}  {'LAST USED':<16}  {'EXPIRES':<16}  STATE")
    for t in accounts.tokens(user.id):
        state = (f"revoked {_local(t.revoked_at)}" if t.revoked_at else
                 "expired" if t.expires_at and t.expires_at <= now else "active")
        print(f"{t.id:>5}  {t.name[:20]:<20} {_local(t.created_at):<16}  {_local(t.last_used_at):<16}  "
              f"{_local(t.expires_at):<16}  {state}")
    return 0


def _users_revoke_token(args: argparse.Namespace) -> int:
    if not _accounts().revoke_token(args.id):
        print(f"no active token {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _local(moment: datetime | None) -> str:
    """A moment as this machine's local time, to the minute; '-' for none."""
    return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else "-"


# ---- bench -------------------------------------------------------------------------------------------


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _bench(args: argparse.Namespace) -> int:
    from gateway.mqtt.broker import wait_for_port
    from simulators.bench import Options, run_bench

    if args.failover:
        from simulators.failover import FailoverOptions, run_failover

        postgres = [d for d in args.database or [LOCAL_POSTGRES] if d != "sqlite"]
        if not postgres:
            print("code4 bench --failover needs PostgreSQL (--database postgresql://…/postgres): several "
                  "instances share one database", file=sys.stderr)
            return 2
        return run_failover(FailoverOptions(kills=args.kills, rate=args.rate), database=postgres[0],
                            mqtt_url=args.mqtt)
    databases = args.database or ["sqlite"] + ([LOCAL_POSTGRES] if wait_for_port(5432, 0.5) else [])
    options = Options(latency_alarms=args.alarms, burst=args.burst, devices=args.devices, buttons=args.buttons,
                      pagers=args.pagers, sustain=args.sustain, sustain_seconds=args.sustain_seconds,
                      bound_ms=args.bound_ms, start_rate=args.start_rate)
    return run_bench(options, mqtt_url=args.mqtt, databases=databases)


if __name__ == "__main__":
    sys.exit(main())
