"""Scenario files: a timeline of what simulated devices and phones do, and what they must see.

```yaml
name: Balie 1 escaleert naar de BHV
devices: {buttons: [knop-balie-1], pagers: [pager-sanne, pager-jan], mobiles: [mob-piet]}
steps:
  - {at: 0, press: knop-balie-1}
  - {at: 0, expect: {feedback: knop-balie-1, state: received, within: 3}}
  - {at: 0, expect: {page: pager-sanne, within: 3}}
  - {at: 4, expect: {page: pager-jan, code: "4", within: 3}}
  - {at: 5, answer: {pager: pager-jan, response: accept}}
  - {at: 5, expect: {feedback: knop-balie-1, state: help_coming, text: "Jan de Vries (1)", within: 3}}
  - {at: 7, cancel: {device: knop-balie-1, pin: "1234"}}
```

`at` is seconds from the start. An expectation is met by a message that arrives between its
`at` (half a second earlier is allowed) and `within` seconds later; too early fails like too
late, because the chain's timing is what is being tested. Actions: press (kind, again),
cancel, answer (the pager's latest page), heartbeat, move (a mobile one step along its route),
checkin, sms and keys (a phone on the local Twilio server). Expectations: page (code, role,
text), feedback (state, text), sms (text) and call (heard) on the local Twilio server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from devices.endpoint import MqttEndpoint
from devices.protocol import Topics
from simulators.devices import SimButton, SimDevice, SimMobile, SimPager

SLACK = 0.5


class ScenarioError(ValueError):
    pass


@dataclass
class Step:
    number: int
    at: float
    action: str | None
    args: dict[str, Any]
    expect: dict[str, Any] | None = None
    failure: str | None = None
    passed: bool | None = None


@dataclass
class Scenario:
    name: str
    devices: dict[str, list[str]]
    steps: list[Step]
    routes: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "steps" not in data:
            raise ScenarioError(f"{path}: a scenario has a name, devices and steps")
        steps = []
        for number, raw in enumerate(data["steps"], start=1):
            at = float(raw.get("at", 0))
            if "expect" in raw:
                steps.append(Step(number, at, None, {}, dict(raw["expect"])))
                continue
            actions = [k for k in raw if k != "at"]
            if len(actions) != 1:
                raise ScenarioError(f"{path}: step {number} does one thing; it has {actions}")
            value = raw[actions[0]]
            steps.append(Step(number, at, actions[0], value if isinstance(value, dict) else {"device": value}))
        routes = {k: [(lat, lon) for lat, lon in v] for k, v in (data.get("routes") or {}).items()}
        return cls(str(data.get("name", path.stem)), dict(data.get("devices") or {}), steps, routes)


class Runner:
    def __init__(self, scenario: Scenario, *, endpoint: MqttEndpoint, topics: Topics,
                 twilio: str = "http://127.0.0.1:8090") -> None:
        self.scenario = scenario
        self.endpoint = endpoint
        self.topics = topics
        self.twilio = twilio.rstrip("/")
        self.devices: dict[str, SimDevice] = {}
        self.started = 0.0

    def run(self, say: Any = print) -> bool:
        kinds = {"buttons": SimButton, "pagers": SimPager, "mobiles": SimMobile}
        try:
            for group, ids in self.scenario.devices.items():
                if group not in kinds:
                    raise ScenarioError(f"unknown device group {group!r}; use {', '.join(kinds)}")
                for device_id in ids:
                    extra = {"route": self.scenario.routes.get(device_id)} if group == "mobiles" else {}
                    self.devices[device_id] = kinds[group](self.endpoint, device_id, topics=self.topics,
                                                           **extra).connect()
            time.sleep(0.3)  # subscriptions in place before the first action
            self.started = time.monotonic()
            say(f"scenario: {self.scenario.name}")
            pending: list[Step] = []
            for step in sorted(self.scenario.steps, key=lambda s: (s.at, s.number)):
                self._wait_until(step.at, pending, say)
                if step.expect is not None:
                    pending.append(step)
                else:
                    self._act(step)
                    say(f"  {step.at:6.1f} s  {step.action} {_brief(step.args)}")
            self._wait_until(float("inf"), pending, say)
        finally:
            for device in self.devices.values():
                device.close()
        failed = [s for s in self.scenario.steps if s.passed is False]
        if failed:
            say(f"FAILED: {len(failed)} of {sum(1 for s in self.scenario.steps if s.expect)} expectations")
            for step in failed:
                say(f"  step {step.number} (at {step.at:g} s): {step.failure}")
            return False
        say(f"OK: {sum(1 for s in self.scenario.steps if s.expect)} expectations met")
        return True

    # ---- actions --------------------------------------------------------------------------------

    def _act(self, step: Step) -> None:
        args = step.args
        device_id = args.get("device") or args.get("pager")
        if step.action == "press":
            button = self._device(device_id, SimButton)
            if args.get("again"):
                button.press_again(next(reversed(button.presses)), kind=args.get("kind", "panic"))
            else:
                button.press(kind=args.get("kind", "panic"))
        elif step.action == "cancel":
            button = self._device(device_id, SimButton)
            button.cancel(next(reversed(button.presses)), args.get("pin"))
        elif step.action == "answer":
            pager = self._device(device_id, SimPager)
            pages = pager.pages()
            if not pages:
                raise ScenarioError(f"step {step.number}: {device_id} has no page to answer")
            pager.respond(pages[-1]["page_id"], args.get("response", "accept"))
        elif step.action == "heartbeat":
            self._device(device_id, SimButton).heartbeat(battery=args.get("battery"))
        elif step.action == "move":
            self._device(device_id, SimMobile).move()
        elif step.action == "checkin":
            self._device(device_id, SimMobile).checkin(args.get("action", "start"),
                                                       expect_within_s=args.get("expect_within_s"),
                                                       note=args.get("note"))
        elif step.action == "sms":
            httpx.post(f"{self.twilio}/_sim/phones/{args['phone']}/sms", json={"body": str(args["body"])},
                       timeout=10).raise_for_status()
        elif step.action == "keys":
            httpx.post(f"{self.twilio}/_sim/phones/{args['phone']}/press", json={"digits": str(args["digits"])},
                       timeout=10).raise_for_status()
        else:
            raise ScenarioError(f"step {step.number}: unknown action {step.action!r}")

    def _device(self, device_id: str | None, kind: type[Any]) -> Any:
        device = self.devices.get(device_id or "")
        if not isinstance(device, kind):
            raise ScenarioError(f"{device_id!r} is not one of the scenario's {kind.__name__.lower()}s")
        return device

    # ---- expectations -------------------------------------------------------------------------------

    def _wait_until(self, moment: float, pending: list[Step], say: Any) -> None:
        while True:
            now = time.monotonic() - self.started
            for step in list(pending):
                verdict = self._check(step, now)
                if verdict is not None:
                    pending.remove(step)
                    step.passed = verdict
                    mark = "ok  " if verdict else "FAIL"
                    say(f"  {step.at:6.1f} s  {mark} expect {_brief(step.expect or {})}")
            if now >= moment or (moment == float("inf") and not pending):
                return
            time.sleep(0.05)

    def _check(self, step: Step, now: float) -> bool | None:
        """True: met; False: the window closed without a match; None: still waiting."""
        expect = step.expect or {}
        within = float(expect.get("within", 5))
        start, end = self.started + step.at - SLACK, self.started + step.at + within
        seen = self._observations(expect)
        if any(start <= at <= end and matches for at, matches, _ in seen):
            return True
        if now < step.at + within:
            return None
        others = [f"{description} at {at - self.started:.1f} s" for at, _, description in seen][-5:]
        step.failure = (f"expected {_brief(expect)} between {step.at:g} and {step.at + within:g} s; "
                        + (f"saw {'; '.join(others)}" if others else "saw nothing"))
        return False

    def _observations(self, expect: dict[str, Any]) -> list[tuple[float, bool, str]]:
        text = str(expect.get("text", ""))
        if "page" in expect:
            pager = self._device(expect["page"], SimPager)
            return [(at, _page_matches(data, expect, text),
                     f"page code {data.get('code')!r} {data.get('text', '')[:60]!r}")
                    for at, kind, data in pager.timed() if kind == "page"]
        if "feedback" in expect:
            device = self._device(expect["feedback"], SimDevice)
            return [(at, data.get("state") == expect.get("state", data.get("state"))
                     and text in data.get("text", ""), f"feedback {data.get('state')} {data.get('text', '')!r}")
                    for at, kind, data in device.timed() if kind == "feedback"]
        if "sms" in expect or "call" in expect:
            return self._twilio_observations(expect, text)
        raise ScenarioError(f"unknown expectation {expect}")

    def _twilio_observations(self, expect: dict[str, Any], text: str) -> list[tuple[float, bool, str]]:
        traffic = httpx.get(f"{self.twilio}/_sim/traffic", timeout=10).json()
        now_wall, now = time.time(), time.monotonic()

        def when(iso: str) -> float:  # the server's clock to this process's monotonic clock
            return now - (now_wall - datetime.fromisoformat(iso).timestamp())

        if "sms" in expect:
            return [(when(m["created"]), text in m["body"], f"sms {m['body'][:60]!r}") for m in traffic["messages"]
                    if m["to"] == expect["sms"]]
        return [(when(c["created"]), any(text in h for h in c["heard"]), f"call {c['status']} {c['heard'][:1]}")
                for c in traffic["calls"] if c["to"] == expect["call"]]


def _page_matches(data: dict[str, Any], expect: dict[str, Any], text: str) -> bool:
    if "code" in expect and str(data.get("code")) != str(expect["code"]):
        return False
    if "role" in expect and data.get("role") != expect["role"]:
        return False
    return text in str(data.get("text", ""))


def _brief(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
