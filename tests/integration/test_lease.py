"""The dispatcher lease on PostgreSQL: one holder, takeover only after it ran out, and a writer
that lost it is refused inside its own transaction. On SQLite: one instance per file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from devices.kinds import AlarmKind
from dispatcher.core import decide
from dispatcher.core.events import AlarmRaised
from dispatcher.store.lease import AnotherInstance, Lease, LeaseLost, SingleInstance
from dispatcher.store.repository import Store
from tests.conftest import _postgres_database
from tests.factories import T0, make_plan, step, target


class Monotonic:
    """The leader's own clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Iterator[Store]:
    for url in _postgres_database():
        made = Store(url)
        made.migrate()
        try:
            yield made
        finally:
            made.close()


def run_out(store: Store) -> None:
    """The lease's time passes on the database's clock (no waiting in the test)."""
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE dispatcher_lease SET expires_at = clock_timestamp() - interval '1 ms'"))


def new_alarm(uid: str) -> tuple[object, list[object]]:
    plan = make_plan(step("collega", [target("jan", "pager")], ack=None))
    return decide(None, AlarmRaised(uid, "knop-1", f"dev-{uid}", 1, AlarmKind.PANIC, True, plan), T0)


def save(store: Store, uid: str) -> None:
    state, effects = new_alarm(uid)
    store.save_decision(state=state, effects=effects, now=T0)  # type: ignore[arg-type]


def stored_alarms(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT uid FROM alarms")).scalars())


@pytest.mark.postgres
def test_one_holder_and_a_takeover_only_after_the_lease_ran_out(store: Store) -> None:
    first = Lease(store.engine, holder="a", ttl_s=2.0)
    second = Lease(store.engine, holder="b", ttl_s=2.0)
    assert first.acquire() and first.epoch == 1
    assert not second.acquire(), "the lease is live: the standby waits"
    assert first.renew() and first.current() is not None and first.current().holder == "a"  # type: ignore[union-attr]
    run_out(store)
    assert second.acquire() and second.epoch == 2, "every takeover raises the fencing number"
    assert not first.renew(), "the old leader learns it lost the lease"
    assert not first.holds()


@pytest.mark.postgres
def test_a_leader_that_lost_the_lease_cannot_write(store: Store) -> None:
    old = Lease(store.engine, holder="a", ttl_s=2.0)
    assert old.acquire()
    store.fence = old.fence
    save(store, "a-before")
    run_out(store)
    new_store = Store(store.url)
    new = Lease(new_store.engine, holder="b", ttl_s=2.0)
    assert new.acquire()
    new_store.fence = new.fence
    try:
        # The old leader still believes it holds the lease (its own clock says so): the database refuses.
        assert old.holds()
        with pytest.raises(LeaseLost):
            save(store, "a-after")
        with pytest.raises(LeaseLost):
            store.mark_sent([1], T0)
        save(new_store, "b-after")
        assert stored_alarms(store) == ["a-before", "b-after"]
    finally:
        new_store.close()


@pytest.mark.postgres
def test_the_leader_gives_the_lease_up_on_its_own_clock_before_the_database_does(store: Store) -> None:
    clock = Monotonic()
    lease = Lease(store.engine, holder="a", ttl_s=2.0, monotonic=clock)
    assert lease.acquire()
    store.fence = lease.fence
    clock.now += 2.0 - lease.margin_s  # paused, then resumed: no renewal meanwhile
    assert not lease.holds()
    with pytest.raises(LeaseLost):
        save(store, "a-late")  # refused before asking: its own view says the lease is gone
    assert stored_alarms(store) == []


@pytest.mark.postgres
def test_a_leader_paused_inside_a_transaction_does_not_hold_the_takeover_up(store: Store) -> None:
    """Its fence locked the lease row; PostgreSQL ends the idle transaction, the standby takes over."""
    old = Lease(store.engine, holder="a", ttl_s=2.0)
    assert old.acquire()
    paused = store.engine.connect()
    paused.begin()
    old.fence(paused)  # holds the row for share, then the process freezes
    run_out_in = Store(store.url)
    try:
        run_out(run_out_in)
        standby = Lease(run_out_in.engine, holder="b", ttl_s=2.0)
        taken = threading.Event()
        thread = threading.Thread(target=lambda: standby.acquire() and taken.set(), daemon=True)
        thread.start()
        assert taken.wait(timeout=10), "the takeover waited for the frozen transaction for ever"
        assert standby.epoch == 2
        with pytest.raises(sa.exc.DBAPIError, match="idle-in-transaction timeout"):
            paused.execute(sa.text("SELECT 1"))  # the frozen leader's transaction was ended
    finally:
        paused.invalidate()
        run_out_in.close()


def test_a_second_instance_on_one_sqlite_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    database = tmp_path / "code4.db"
    running = SingleInstance(database)
    running.take()
    with pytest.raises(AnotherInstance, match="use PostgreSQL"):
        SingleInstance(database).take()
    running.release()
    again = SingleInstance(database)
    again.take()  # the first one stopped: the file is free
    again.release()


@pytest.mark.postgres
def test_instances_started_together_on_an_empty_database_both_start() -> None:
    """Both bring the schema up to date at once: one migrates, the other waits and finds it done."""
    for url in _postgres_database():
        stores = [Store(url), Store(url)]
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_migrate_into, args=(store, errors)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for store in stores:
            store.close()
        assert errors == []


def _migrate_into(store: Store, errors: list[BaseException]) -> None:
    try:
        store.migrate()
    except BaseException as exc:  # reported by the test's assertion
        errors.append(exc)
