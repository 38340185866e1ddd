"""`code4 simulate button|pager|mobile`: one simulated device, followed interactively."""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from devices.kinds import DEVICE_KINDS
from devices.protocol import ResponsePayload
from simulators.cli.common import choices, endpoint, mqtt_args, say

if TYPE_CHECKING:
    from simulators.devices import SimMobile, SimPager

ALARM_KINDS = [str(kind) for kind in DEVICE_KINDS]
RESPONSES = choices(ResponsePayload.model_fields["response"].annotation)
# What a key typed at the pager's question means.
KEYS = {"k": "accept", "n": "decline", "t": "on_scene"}


def register(simulators: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    button = simulators.add_parser("button", help="press a panic button or mobile alarm and follow its feedback")
    button.add_argument("device", help="device id, e.g. knop-balie-1")
    button.add_argument("--kind", default="panic", choices=ALARM_KINDS)
    button.add_argument("--zone", help="position zone for a mobile alarm")
    button.add_argument("--again-after", type=float, metavar="S", help="press again after S seconds (escalates)")
    button.add_argument("--cancel-after", type=float, metavar="S", help="cancel after S seconds")
    button.add_argument("--pin", help="PIN for the cancel")
    button.add_argument("--wait", type=float, default=300, metavar="S", help="stop following after S seconds")
    mqtt_args(button)
    button.set_defaults(func=_simulate_button)

    pager = simulators.add_parser("pager", help="a responder pager: show pages and answer them")
    pager.add_argument("device", help="pager id, e.g. pager-07")
    pager.add_argument("--answer", choices=[*RESPONSES, "ask"],
                       help="answer every page like this; 'ask' asks you each time")
    pager.add_argument("--delay", type=float, default=2.0, metavar="S", help="answer after S seconds (default 2)")
    pager.add_argument("--respond", nargs=2, metavar=("PAGE_ID", "ANSWER"), help="answer one page and exit")
    pager.add_argument("--wait", type=float, default=300, metavar="S", help="stop listening after S seconds")
    mqtt_args(pager)
    pager.set_defaults(func=_simulate_pager)

    mobile = simulators.add_parser("mobile", help="a field worker's mobile alarm: moves, checks in, presses")
    mobile.add_argument("device", help="device id, e.g. mob-12")
    mobile.add_argument("--route", default="", help="positions 'lat,lon;lat,lon;…' walked one per --every")
    mobile.add_argument("--every", type=float, default=5.0, metavar="S", help="seconds per step along the route")
    mobile.add_argument("--visit", type=int, metavar="S", help="start a timed visit: check in within S seconds")
    mobile.add_argument("--note", help="the visit's note (address, client)")
    mobile.add_argument("--check-in-every", type=float, metavar="S", help="send 'ok' every S seconds")
    mobile.add_argument("--press-after", type=float, metavar="S", help="press the alarm after S seconds")
    mobile.add_argument("--kind", default="panic", choices=ALARM_KINDS)
    mobile.add_argument("--wait", type=float, default=300, metavar="S")
    mqtt_args(mobile)
    mobile.set_defaults(func=_simulate_mobile)


def _show_feedback(kind: str, data: dict[str, Any]) -> None:
    say(f"{kind}: {data.get('state')}  {data.get('text', '')}")


# ---- button -----------------------------------------------------------------------------------


def _simulate_button(args: argparse.Namespace) -> int:
    from simulators.devices import SimButton

    broker, topics = endpoint(args)
    button = SimButton(broker, args.device, topics=topics)
    button.on(_show_feedback)
    button.connect()
    position = {"zone": args.zone} if args.zone else None
    alarm_id = button.press(kind=args.kind, position=position)
    say(f"{args.device} pressed ({args.kind}), alarm {alarm_id}, via {broker.url()}")
    started = time.monotonic()
    pressed_again = cancelled = False
    try:
        while time.monotonic() - started < args.wait:
            elapsed = time.monotonic() - started
            if args.again_after is not None and not pressed_again and elapsed >= args.again_after:
                pressed_again = True
                say(f"pressed again (press {button.press_again(alarm_id, kind=args.kind)})")
            if args.cancel_after is not None and not cancelled and elapsed >= args.cancel_after:
                cancelled = True
                button.cancel(alarm_id, args.pin)
                say("cancel sent" + (" with PIN" if args.pin else ""))
            if any(d.get("state") == "closed" for d in button.messages("feedback")):
                return 0
            time.sleep(0.2)
        say("still open; stopped following (the alarm goes on in code4)")
        return 0
    finally:
        button.close()


# ---- pager ------------------------------------------------------------------------------------


def _simulate_pager(args: argparse.Namespace) -> int:
    from simulators.devices import SimPager

    broker, topics = endpoint(args)
    ask = args.answer == "ask"
    pager = SimPager(broker, args.device, topics=topics, auto=None if ask else args.answer, auto_delay=args.delay)
    pager.connect()
    try:
        if args.respond:
            page_id, answer = args.respond
            pager.respond(page_id, answer)
            say(f"{args.device} answered {answer} to {page_id}")
            time.sleep(0.3)
            return 0
        pager.on(_PageDisplay(args.answer if not ask else None, args.delay))
        say(f"{args.device} listening on {broker.url()}" + (f", answering {args.answer}" if args.answer else ""))
        if ask:
            _ask_for_answers(pager, args.wait)
        else:
            time.sleep(args.wait)
        return 0
    finally:
        pager.close()


class _PageDisplay:
    """Shows what a pager receives. Pages are at-least-once: the same page again (after a
    takeover) is shown once; an update of a page (its role, who else comes) has other text
    and is shown."""

    def __init__(self, answer: str | None, delay: float) -> None:
        self.answer = answer  # answered by the pager itself, after `delay`
        self.delay = delay
        self.shown: set[object] = set()
        self.seen: set[tuple[object, ...]] = set()

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind != "page":
            _show_feedback(kind, data)
            return
        if (repeat := (data.get("page_id"), data.get("text"), data.get("role"))) in self.seen:
            return
        self.seen.add(repeat)
        role = f"  [nummer {data['role']}]" if data.get("role") else ""
        say(f"PAGE {data['page_id']}: {data.get('text')}{role}")
        if self.answer and data["page_id"] not in self.shown:
            say(f"  answering {self.answer} in {self.delay:g} s")
        self.shown.add(data["page_id"])


def _ask_for_answers(pager: SimPager, wait: float) -> None:
    """Asks at the terminal how to answer each new page, the latest first."""
    started, answered = time.monotonic(), set()
    while time.monotonic() - started < wait:
        waiting = [p for p in pager.pages() if p["page_id"] not in answered]
        if not waiting:
            time.sleep(0.2)
            continue
        page = waiting[-1]
        choice = input(f"{page['page_id']}: [k]om / kan [n]iet / [t]er plaatse / enter = niets: ").strip().lower()
        answered.add(page["page_id"])
        response = KEYS.get(choice[:1])
        if response:
            pager.respond(page["page_id"], response)
            say(f"answered {response}")


# ---- mobile -----------------------------------------------------------------------------------


def _simulate_mobile(args: argparse.Namespace) -> int:
    from simulators.devices import SimMobile

    broker, topics = endpoint(args)
    route = [_point(point) for point in args.route.split(";") if point.strip()]
    mobile = SimMobile(broker, args.device, topics=topics, route=route)
    mobile.on(_show_feedback)
    mobile.connect()
    started = time.monotonic()
    try:
        if mobile.here:
            mobile.publish("position", json.dumps(mobile.here).encode(), qos=0)
            say(f"{args.device} at {mobile.here['lat']:.5f},{mobile.here['lon']:.5f}")
        if args.visit:
            mobile.checkin("start", expect_within_s=args.visit, note=args.note)
            say(f"visit started: check in within {args.visit} s")
        _walk(mobile, args, started=started, moving=bool(route))
        return 0
    finally:
        mobile.close()


def _point(text: str) -> tuple[float, float]:
    lat, lon = (float(x) for x in text.split(","))
    return lat, lon


def _walk(mobile: SimMobile, args: argparse.Namespace, *, started: float, moving: bool) -> None:
    """Along the route, checking in and pressing when told, until --wait is over."""
    last_move = last_ok = started
    pressed = False
    while time.monotonic() - started < args.wait:
        now = time.monotonic()
        if moving and now - last_move >= args.every:
            last_move = now
            here = mobile.move()
            if here:
                say(f"moved to {here['lat']:.5f},{here['lon']:.5f}")
        if args.check_in_every and now - last_ok >= args.check_in_every:
            last_ok = now
            mobile.checkin("ok")
            say("check-in ok")
        if args.press_after is not None and not pressed and now - started >= args.press_after:
            pressed = True
            say(f"pressed ({args.kind}), alarm {mobile.press(kind=args.kind)}")
        time.sleep(0.2)
