"""What devices say about themselves: heartbeats, online/offline status, battery.

Reports are coalesced per device and written in batches, so thousands of heartbeats cost a
few writes a second and never queue in front of an alarm. Supervision (a device silent for
longer than its interval becomes a fault) builds on these records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from devices.protocol import DeviceMessage, HeartbeatPayload, StatusPayload

log = structlog.get_logger("code4.devices")


@dataclass(frozen=True)
class DeviceReport:
    device_id: str
    at: datetime
    online: bool | None = None
    heartbeat: bool = False
    battery: float | None = None
    rssi: int | None = None
    firmware: str | None = None


class DeviceMonitor:
    def __init__(self, sink: Callable[[list[DeviceReport]], Awaitable[None]], *, flush_every: float = 1.0) -> None:
        self._sink = sink
        self._flush_every = flush_every
        self._pending: dict[str, DeviceReport] = {}
        self._has_pending = asyncio.Event()

    def observe(self, message: DeviceMessage, now: datetime) -> None:
        payload = message.payload
        report = self._pending.get(message.device_id, DeviceReport(message.device_id, now))
        if isinstance(payload, HeartbeatPayload):
            report = replace(report, at=now, heartbeat=True, online=True,
                             battery=payload.battery if payload.battery is not None else report.battery,
                             rssi=payload.rssi if payload.rssi is not None else report.rssi,
                             firmware=payload.fw or report.firmware)
        elif isinstance(payload, StatusPayload):
            online = payload.status == "online"
            if not online:
                log.warning("device offline", device_id=message.device_id)
            report = replace(report, at=now, online=online)
        else:
            return
        self._pending[message.device_id] = report
        self._has_pending.set()

    async def run(self) -> None:
        """Flush every `flush_every` seconds while there is something to store; the owner
        calls `flush` once more at shutdown."""
        while True:
            await self._has_pending.wait()
            await asyncio.sleep(self._flush_every)
            await self.flush()

    async def flush(self) -> None:
        self._has_pending.clear()
        reports, self._pending = list(self._pending.values()), {}
        if reports:
            try:
                await self._sink(reports)
            except Exception:
                log.exception("storing device reports failed; keeping them for the next try")
                for report in reports:
                    self._pending.setdefault(report.device_id, report)
                self._has_pending.set()
