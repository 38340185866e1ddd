"""Waiting for the dispatcher lease as a standby, and keeping it as the leader.

The lease itself (its rows, its fence) is dispatcher/store/lease.py. Here: a standby asks for
it every quarter lease until it gets it; the leader renews it as often, and the moment it can
no longer be sure it holds it (renewal refused, or the database silent until the lease ran
out here) `keep` raises LeaseLost, which ends dispatching on this instance.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import structlog

from dispatcher.logs import error_line
from dispatcher.store.lease import Lease, LeaseLost

log = structlog.get_logger("code4.leadership")


class Leadership:
    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        # A thread of its own: renewal never queues behind the writer, and a database that
        # hangs holds at most this one thread.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="code4-lease")

    async def acquire(self) -> bool:
        """One try."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self.lease.acquire)
        except Exception as exc:
            log.warning("dispatcher lease: the database does not answer", error=error_line(exc))
            return False

    async def wait(self) -> None:
        """As a standby: until this instance holds the lease."""
        waited_since = time.monotonic()
        last_said = 0.0
        while not await self.acquire():
            if time.monotonic() - last_said >= 60:
                leader = await self._leader()
                log.info("standby: another instance dispatches", leader=leader,
                         waiting_s=round(time.monotonic() - waited_since))
                last_said = time.monotonic()
            await asyncio.sleep(self.lease.renew_every_s)

    async def keep(self) -> None:
        """As the leader: renew until the lease is lost, then raise LeaseLost."""
        loop = asyncio.get_running_loop()
        renewal: asyncio.Future[bool] | None = None
        while True:
            await asyncio.sleep(min(self.lease.renew_every_s, max(0.0, self.lease.left_s())))
            if not self.lease.holds():
                raise LeaseLost("the lease ran out before it could be renewed (paused, or no database)")
            if renewal is None or renewal.done():
                renewal = loop.run_in_executor(self._executor, self.lease.renew)
            try:
                # Never waits past the lease: a database that does not answer ends it on time.
                renewed = await asyncio.wait_for(asyncio.shield(renewal),
                                                 min(self.lease.renew_every_s, max(0.0, self.lease.left_s())))
            except TimeoutError:
                log.error("dispatcher lease not renewed yet: the database is slow to answer",
                          lease_left_s=round(self.lease.left_s(), 2))
                continue
            except Exception as exc:
                log.error("dispatcher lease not renewed: the database does not answer", error=error_line(exc))
                continue
            if not renewed:
                raise LeaseLost("another instance holds the dispatcher lease")

    async def release(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.lease.release)
        except Exception as exc:
            log.warning("dispatcher lease not released; a standby takes over when it runs out",
                        error=error_line(exc))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _leader(self) -> str | None:
        try:
            current = await asyncio.get_running_loop().run_in_executor(self._executor, self.lease.current)
        except Exception:
            return None
        return f"{current.holder} (epoch {current.epoch})" if current else None

