"""Who may dispatch: one instance at a time, and a dead or paused one cannot come back writing.

On PostgreSQL several `code4 run` instances share one database. The dispatcher lease is a row
(`dispatcher_lease`) with a holder, an expiry on the database's clock, and a fencing number
(epoch) that goes up at every takeover. The leader renews it several times per lease; a
standby takes it only once it has expired. Every write the leader makes checks, inside its own
transaction, that it still holds the lease with its epoch (and locks the row for share, so a
takeover waits for that transaction and sees its result), and every send checks the leader's
own conservative view of its lease first: a leader that was paused past its lease finds both
refused the moment it runs again.

Time on the leader is the monotonic clock (it keeps counting through a pause); the lease counts
as held until the renewal's *start* plus the lease time minus a margin, so the leader gives it
up before the database does. A paused leader cannot hold the takeover up by a transaction left
open: PostgreSQL ends such a session after `IDLE_IN_TRANSACTION_MS`.

On SQLite (one machine) there is no lease: `SingleInstance` keeps a second instance off the
same database file with a clear message.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text

NAME = "dispatcher"
IDLE_IN_TRANSACTION_MS = 2000  # the leader's transactions never pause longer; a paused leader's do

_ACQUIRE = text("""
    INSERT INTO dispatcher_lease (name, holder, epoch, expires_at, acquired_at)
    VALUES (:name, :holder, 1, clock_timestamp() + make_interval(secs => :ttl), clock_timestamp())
    ON CONFLICT (name) DO UPDATE
        SET holder = EXCLUDED.holder, epoch = dispatcher_lease.epoch + 1,
            expires_at = EXCLUDED.expires_at, acquired_at = EXCLUDED.acquired_at
        WHERE dispatcher_lease.expires_at < clock_timestamp()
    RETURNING epoch""")
_RENEW = text("""
    UPDATE dispatcher_lease SET expires_at = clock_timestamp() + make_interval(secs => :ttl)
    WHERE name = :name AND holder = :holder AND epoch = :epoch AND expires_at > clock_timestamp()
    RETURNING epoch""")
_FENCE = text("""
    SELECT epoch FROM dispatcher_lease
    WHERE name = :name AND holder = :holder AND epoch = :epoch AND expires_at > clock_timestamp()
    FOR SHARE""")
_RELEASE = text("""
    UPDATE dispatcher_lease SET expires_at = clock_timestamp() - interval '1 second'
    WHERE name = :name AND holder = :holder AND epoch = :epoch""")
_CURRENT = text("""
    SELECT holder, epoch, expires_at > clock_timestamp() AS live FROM dispatcher_lease WHERE name = :name""")


class LeaseLost(Exception):
    """This instance no longer holds the dispatcher lease: it must not write or send."""


@dataclass(frozen=True)
class LeaseHolder:
    holder: str
    epoch: int
    live: bool


class Lease:
    def __init__(self, engine: Engine, *, holder: str, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self.holder = holder
        self.ttl_s = ttl_s
        # Given up this long before the database's expiry: the time between a check and the
        # send it allows, and clocks that tick at slightly different rates.
        self.margin_s = max(0.2, ttl_s * 0.1)
        self._monotonic = monotonic
        self.epoch: int | None = None
        self._valid_until = 0.0

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 4

    def left_s(self) -> float:
        """How long this instance may still act on the lease, by its own clock."""
        return self._valid_until - self._monotonic() if self.epoch is not None else 0.0

    def holds(self) -> bool:
        """Held, as far as this instance can tell without asking (cheap: before every send)."""
        return self.epoch is not None and self._monotonic() < self._valid_until

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (it expired or was released); True if taken."""
        started = self._monotonic()
        with self._engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            epoch = connection.execute(_ACQUIRE, self._params(epoch=None)).scalar()
        if epoch is None:
            return False
        self.epoch, self._valid_until = int(epoch), started + self.ttl_s - self.margin_s
        return True

    def renew(self) -> bool:
        """Extend the lease; False (and held no longer) if it was lost. Raises if the database
        does not answer: the lease then runs out here on its own time."""
        if self.epoch is None:
            return False
        started = self._monotonic()
        with self._engine.begin() as connection:
            renewed = connection.execute(_RENEW, self._params()).scalar()
        if renewed is None:
            self.epoch = None
            return False
        self._valid_until = started + self.ttl_s - self.margin_s
        return True

    def release(self) -> None:
        """A planned stop: let a standby take over at once instead of after the lease runs out."""
        if self.epoch is None:
            return
        with self._engine.begin() as connection:
            connection.execute(_RELEASE, self._params())
        self.epoch = None

    def fence(self, connection: Connection | None) -> None:
        """Inside a write transaction: refuse it unless this instance still holds the lease
        (without a connection: by its own view only, before asking the database)."""
        if not self.holds():
            raise LeaseLost(f"lease given up here (epoch {self.epoch}); not writing")
        if connection is None:
            return
        if connection.execute(_FENCE, self._params()).scalar() is None:
            self.epoch = None
            raise LeaseLost("another instance took the dispatcher lease; not writing")

    def current(self) -> LeaseHolder | None:
        with self._engine.connect() as connection:
            row = connection.execute(_CURRENT, {"name": NAME}).first()
        return LeaseHolder(row.holder, int(row.epoch), bool(row.live)) if row else None

    def _params(self, **overrides: Any) -> dict[str, Any]:
        return {"name": NAME, "holder": self.holder, "epoch": self.epoch, "ttl": self.ttl_s, **overrides}


def instance_name() -> str:
    """Unique per process: host, process id and a random part (a restarted process is new)."""
    return f"{os.uname().nodename}:{os.getpid()}:{os.urandom(3).hex()}"


class AnotherInstance(Exception):
    pass


class SingleInstance:
    """An exclusive lock beside a SQLite file, held while this instance runs. The kernel lets it
    go when the process ends, however it ends."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def take(self) -> None:
        file = self.path.open("a+", encoding="utf-8")
        self.path.chmod(0o600)
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            owner = file.read().strip() or "unknown"
            file.close()
            raise AnotherInstance(
                f"another code4 instance ({owner}) runs on the SQLite database {self.path.with_suffix('')}: "
                "SQLite is for one instance on one machine; use PostgreSQL (CODE4_DATABASE_URL) to run "
                "several") from None
        file.seek(0)
        file.truncate()
        file.write(f"process {os.getpid()} since {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
