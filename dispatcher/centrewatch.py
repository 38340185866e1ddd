"""Line supervision of the paths to alarm centres: a DC-09 link test (a NULL message) to each
receiver of every alarm-centre contact, every half supervision interval, as a centre expects of
a supervised path.

Why half: a receiver that dies just after a test is tested again at most half an interval later,
and that test is over within the answer timeout, which the agreement file keeps at most half the
interval. So a dead path is on the device board within one `supervision` interval.

What a round finds goes to the device watch (`report`), which keeps it as a row of the device
board, stores the faults raised and cleared, and tells the technical contact. Each centre is
tested in a task of its own, so a silent receiver (waited for up to its timeout) delays no other
centre. The transmitters are the alarm channel's (`Transmitters`), so link tests and alarms take
their sequence numbers from one sequence, as the receiver expects of one line. Nothing a
receiver does, and no error in a round, stops supervision: it is logged and the next round runs.
Timing is the injected clock's; the link tests themselves are real network I/O.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Protocol

import structlog

from dispatcher.clock import Clock
from dispatcher.logs import error_line
from escalation.alarm_centre.centres import CentreUnusable
from escalation.alarm_centre.transmitter import Attempt, Outcome, Receiver, RouteSettings
from escalation.directory import Directory
from escalation.model import Contact

log = structlog.get_logger("code4.centres")

DOWN = "centre_down"  # no receiver answers: alarms go to the centre's fallback route
PRIMARY = "centre_primary"  # the primary receiver does not answer
BACKUP = "centre_backup"  # the backup receiver does not answer
UNUSABLE = "centre_unusable"  # the file or the environment does not give what the path needs
ROLES = ("primary", "backup")


class LinkTester(Protocol):
    settings: RouteSettings

    async def link_test(self, receiver: Receiver | None = None) -> Attempt: ...


class Testers(Protocol):
    """`Transmitters`: the transmitter of a centre as the file says now (raises `CentreUnusable`)."""

    def for_contact(self, contact: Contact) -> LinkTester: ...


class Report(Protocol):
    """`DeviceWatch.path_checked`."""

    def __call__(self, path_id: str, faults: tuple[str, ...], *, answering: bool, note: str | None = None) -> None:
        ...


def path_faults(answered: Sequence[bool]) -> tuple[str, ...]:
    """The faults of a path from which of its receivers (primary, then backup) acknowledged a
    link test. Each silent receiver is a fault of its own, so the board and the events say
    which one; none answering is `centre_down` besides."""
    silent = tuple(fault for fault, ok in zip((PRIMARY, BACKUP), answered, strict=False) if not ok)
    return (DOWN, *silent) if not any(answered) else silent


class CentreWatch:
    def __init__(self, *, directory: Directory, clock: Clock, transmitters: Testers, report: Report,
                 ready: Callable[[], Awaitable[object]] | None = None) -> None:
        self._directory = directory
        self._clock = clock
        self._transmitters = transmitters
        self._report = report
        self._ready = ready  # the device watch has read what it stored (faults before a restart)
        self._centres: dict[str, Contact] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running = False
        self._answered: dict[tuple[str, int], bool] = {}  # (centre, receiver index): for logging changes only
        self._unusable: dict[str, str] = {}  # centre: why, as last logged
        self._faults: dict[str, tuple[str, ...]] = {}  # centre: as last found, for logging changes
        self.rounds: Counter[str] = Counter()  # rounds done per centre (tests wait on these)
        self.errors = 0

    async def run(self) -> None:
        if self._ready is not None:
            await self._ready()
        self._running = True
        self._follow()
        log.info("alarm-centre line supervision started", centres=sorted(self._centres))
        try:
            await asyncio.Event().wait()  # the work is in one task per centre
        finally:
            self._running = False
            tasks = list(self._tasks.values())
            self._tasks.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def is_down(self, centre_id: str) -> bool:
        """No receiver answered the last link test, or the centre cannot be used at all."""
        faults = self._faults.get(centre_id, ())
        return DOWN in faults or UNUSABLE in faults

    def reload(self, directory: Directory) -> None:
        """Centres added are tested at once; removed ones no longer; changed ones (receivers,
        interval, key) start again with the new settings, tested at once."""
        self._directory = directory
        if self._running:
            self._follow()

    def _follow(self) -> None:
        current = {c.id: c for c in self._directory.org.contacts if c.alarm_centre is not None}
        for centre_id in list(self._tasks):
            if current.get(centre_id) != self._centres.get(centre_id):
                self._tasks.pop(centre_id).cancel()
                self._forget(centre_id)
                if centre_id not in current:
                    log.info("alarm centre no longer in the file: not supervised", centre=centre_id)
        self._centres = current
        for centre_id, contact in current.items():
            if centre_id not in self._tasks:
                self._tasks[centre_id] = asyncio.create_task(self._supervise(contact), name=f"centre-{centre_id}")

    def _forget(self, centre_id: str) -> None:
        """What was logged of a centre whose settings changed or that is gone."""
        self._faults.pop(centre_id, None)
        self._unusable.pop(centre_id, None)
        for index in range(len(ROLES)):
            self._answered.pop((centre_id, index), None)

    async def _supervise(self, contact: Contact) -> None:
        assert contact.alarm_centre is not None
        half = timedelta(seconds=contact.alarm_centre.supervision / 2)
        moment = self._clock.now()
        with structlog.contextvars.bound_contextvars(centre=contact.id):
            while True:
                try:
                    await self._round(contact)
                except Exception:  # a bug in one round must never stop supervision
                    self.errors += 1
                    log.exception("link test round failed; supervision goes on", centre=contact.id)
                self.rounds[contact.id] += 1
                now = self._clock.now()
                # On the planned beat; after a long stall (a suspended machine) one round at once, not a burst.
                moment = moment + half if moment + half >= now else now + half
                await self._clock.sleep_until(moment)

    async def _round(self, contact: Contact) -> None:
        try:
            tester = self._transmitters.for_contact(contact)
        except (CentreUnusable, ValueError) as exc:
            self._cannot_use(contact.id, error_line(exc))
            return
        if self._unusable.pop(contact.id, None) is not None:
            log.info("alarm centre usable again", centre=contact.id)
        receivers = tester.settings.receivers()
        results = await asyncio.gather(*(tester.link_test(r) for r in receivers), return_exceptions=True)
        answered = [self._judge(contact.id, i, receiver, result)
                    for i, (receiver, result) in enumerate(zip(receivers, results, strict=True))]
        faults = path_faults(answered)
        if (DOWN in faults) != (DOWN in self._faults.get(contact.id, ())):
            if DOWN in faults:
                log.error("no receiver of the alarm centre answers: its alarms take the fallback route",
                          centre=contact.id)
            else:
                log.info("the alarm centre answers again", centre=contact.id)
        self._faults[contact.id] = faults
        self._report(contact.id, faults, answering=any(answered))

    def _judge(self, centre_id: str, index: int, receiver: Receiver, result: Attempt | BaseException) -> bool:
        """Did this receiver acknowledge its link test; logged when that changed."""
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result  # cancelled: the round ends
            self.errors += 1
            log.error("link test could not be made; counted as not answering", centre=centre_id,
                      receiver=str(receiver), role=ROLES[index], error=error_line(result), exc_info=result)
            ok, outcome, detail = False, "error", error_line(result)
        else:
            ok, outcome, detail = result.outcome is Outcome.ACK, str(result.outcome), result.detail
        before = self._answered.get((centre_id, index))
        self._answered[(centre_id, index)] = ok
        if ok and before is not True:
            log.info("alarm-centre receiver answers again" if before is False else "alarm-centre receiver answers",
                     centre=centre_id, receiver=str(receiver), role=ROLES[index])
        elif not ok and before is not False:
            log.warning(f"alarm-centre receiver does not acknowledge the link test: {_meaning(outcome)}",
                        centre=centre_id, receiver=str(receiver), role=ROLES[index], outcome=outcome, detail=detail)
        return ok

    def _cannot_use(self, centre_id: str, why: str) -> None:
        if self._unusable.get(centre_id) != why:
            self._unusable[centre_id] = why
            self._faults[centre_id] = (UNUSABLE,)
            log.error("alarm centre cannot be used; its alarms take the fallback route", centre=centre_id, reason=why)
        self._report(centre_id, (UNUSABLE,), answering=False, note=why)


def _meaning(outcome: str) -> str:
    """What an outcome tells an operator."""
    meanings: dict[str, str] = {
        Outcome.REFUSED: "nobody listens there (refused or unreachable)",
        Outcome.SILENCE: "no answer within the timeout",
        Outcome.NAK: "the receiver refuses our messages (account, key or clock?)",
        Outcome.DUH: "the receiver does not understand our messages",
        Outcome.UNMATCHED: "an answer that is no acknowledgement of this message",
        Outcome.MALFORMED: "an answer that cannot be read (key?)",
    }
    return meanings.get(outcome, outcome)
