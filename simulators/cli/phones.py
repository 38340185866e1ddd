"""`code4 simulate twilio|phone`: the local Twilio-compatible server, and acting as a phone on it."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from typing import Any

from simulators.cli.common import running, say
from simulators.twilio_modes import LOCAL_FROM, LOCAL_PORT, LOCAL_SID, SMS_MODES, VOICE_MODES


def register(simulators: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    twilio = simulators.add_parser("twilio", help="a local Twilio-compatible server: the phones of a demo or test")
    twilio.add_argument("--port", type=int, default=LOCAL_PORT)
    twilio.add_argument("--account-sid", help="default: CODE4_TWILIO_ACCOUNT_SID, else a local test account")
    twilio.add_argument("--auth-token", help="default: CODE4_TWILIO_AUTH_TOKEN, else a local test token")
    twilio.add_argument("--sms-webhook", help="where phones' texts go (default: CODE4_PUBLIC_URL/twilio/sms/inbound)")
    twilio.set_defaults(func=_simulate_twilio)

    phone = simulators.add_parser("phone", help="act as a phone on the local Twilio server")
    phone.add_argument("number", help="the phone number, e.g. +31612000001")
    phone.add_argument("--sms", metavar="TEXT", help="text code4 from this phone (e.g. 1, ja, 'nee K3X9')")
    phone.add_argument("--press", metavar="DIGITS", help="press keys on the call in progress")
    phone.add_argument("--auto-press", metavar="DIGITS", help="answer the next call with these keys by itself")
    phone.add_argument("--sms-mode", choices=SMS_MODES, help="how texts to this number go from now on")
    phone.add_argument("--voice-mode", choices=VOICE_MODES, help="how calls to this number go from now on")
    phone.add_argument("--twilio", help="the local Twilio server (default: the one `code4 run` started here, "
                                        f"else http://127.0.0.1:{LOCAL_PORT})")
    phone.set_defaults(func=_simulate_phone)


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
              f"CODE4_TWILIO_AUTH_TOKEN={token} CODE4_TWILIO_FROM={LOCAL_FROM}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await simulator.stop()

    asyncio.run(serve())
    return 0


def _simulate_phone(args: argparse.Namespace) -> int:
    import httpx

    base = (args.twilio or running().get("twilio_url") or f"http://127.0.0.1:{LOCAL_PORT}").rstrip("/")
    number = args.number
    with httpx.Client(base_url=base, timeout=30) as client:
        rules = {k: v for k, v in (("sms", args.sms_mode), ("voice", args.voice_mode), ("press", args.auto_press))
                 if v is not None}
        if rules:
            client.put(f"/_sim/numbers/{number}", json=rules).raise_for_status()
            say(f"{number}: {rules}")
        if args.sms:
            replies = client.post(f"/_sim/phones/{number}/sms", json={"body": args.sms}).raise_for_status().json()
            say(f"{number} texted {args.sms!r}" + "".join(f"\n  code4 answered: {r}" for r in replies["replies"]))
        if args.press:
            answer = client.post(f"/_sim/phones/{number}/press", json={"digits": args.press})
            if answer.status_code == 404:
                print(f"no call in progress to {number}", file=sys.stderr)
                return 1
            answer.raise_for_status()
            say(f"{number} pressed {args.press}")
        traffic = client.get("/_sim/traffic").raise_for_status().json()
    _show_traffic(traffic, number)
    return 0


def _show_traffic(traffic: dict[str, Any], number: str) -> None:
    """What went to and from this number, as the server's traffic log has it."""
    for message in traffic["messages"]:
        if number in (message["to"], message["from"]):
            arrow = "<-" if message["to"] == number else "->"
            print(f"  sms {arrow} {message['status']:<11} {message['body']}")
    for call in traffic["calls"]:
        if call["to"] == number:
            print(f"  call {call['status']:<11} heard: {' | '.join(call['heard'])}  pressed: {call['pressed']}")
