"""One-trip ledger writes (store/one_trip.py): a write, or a whole transaction, is ONE trip
to aiosqlite's thread; a failure or a cancellation never leaves a transaction open."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from ledgerkit import fill as _fill
from ledgerkit import order as _order

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import OrderStatus
from krakenbot.store import Database, LedgerRepository, one_trip
from krakenbot.store.sync_db import close_sync_ledger, open_sync_ledger, run_now

_PUT = "INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, 't', 0)"


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every trip to any aiosqlite connection's thread (all of them go through `_execute`)."""
    seen: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kw)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield seen


async def _count(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) FROM state")
    assert row is not None
    return int(row[0])


def _raw(db: Database) -> sqlite3.Connection:
    conn: sqlite3.Connection = db._conn._conn  # type: ignore[attr-defined]
    return conn


async def test_on_thread_runs_on_the_connections_own_thread(db: Database) -> None:
    # Pins aiosqlite's private `Connection._execute`: our function, with the raw connection,
    # on the connection's worker thread (never the loop's), its value and errors returned.
    loop_thread = threading.get_ident()
    first = await one_trip.on_thread(db._conn, lambda conn: (threading.get_ident(), conn))
    second = await one_trip.on_thread(db._conn, lambda conn: threading.get_ident())
    assert first[0] == second != loop_thread
    assert isinstance(first[1], sqlite3.Connection)

    def fails(conn: sqlite3.Connection) -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await one_trip.on_thread(db._conn, fails)


async def test_each_order_path_write_is_one_trip(
    repo: LedgerRepository, trips: list[str], clock: ManualClock
) -> None:
    # The order's row, its updates, its learning row, audit events, state and metrics: each
    # one trip to the database thread (a transaction of separate calls was four or more,
    # each holding the writer's lock and the engine's).
    now = clock.now_ns()
    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: repo.add_order(_order(), tag="t", reduces_position=False, created_ns=now),
        lambda: repo.update_order("c1", status=OrderStatus.OPEN, txid="OTX-1"),
        lambda: repo.open_learning_entry("c1", "XLM/USD", [("spread", "0.1")], now),
        lambda: repo.close_learning_entry("c1", "win", Decimal("1.5"), now),
        lambda: repo.record_event("probe", {"a": "b"}, now),
        lambda: repo.set_state("k", "v"),
        lambda: repo.record_metrics(
            {
                "balance_usd": "10",
                "total_trades": "1",
                "winning_trades": "1",
                "total_profit_loss": "0",
                "daily_profit_loss": "0",
            },
            now,
        ),
    ]
    for write in writes:
        trips.clear()
        await write()
        assert len(trips) == 1, trips
    for fill in (_fill("T1", qty="40"), _fill("T1", qty="40"), _fill("T2", qty="60")):
        trips.clear()  # the fill, its order's totals and its round trip: one transaction
        await repo.insert_fill(fill)
        assert len(trips) == 1, trips
    trips.clear()
    await repo.rebuild_trades()
    assert len(trips) == 1, trips
    (order,) = await repo.open_orders()
    assert order.filled_qty == Decimal("100") and order.txid == "OTX-1"
    (trade,) = await repo.trades()
    assert trade.volume == Decimal("100")
    assert await repo.get_state("k") == "v"
    assert [e.kind for e in await repo.events("probe")] == ["probe"]
    assert (await repo.learning_rows_for_order("c1"))[0].outcome == "win"


async def test_a_whole_transaction_is_one_trip_and_commits(db: Database, trips: list[str]) -> None:
    rows = await db.write_atomic(
        [(_PUT, ("a", "1")), (_PUT, ("b", "2")), ("UPDATE state SET value = '3' RETURNING key", ())]
    )
    assert len(trips) == 1
    assert rows[:2] == [[], []] and sorted(r[0] for r in rows[2]) == ["a", "b"]
    assert await _count(db) == 2


async def test_a_failed_statement_rolls_back_all_and_leaves_no_transaction_open(
    db: Database,
) -> None:
    await db.insert_committed(_PUT, ("a", "1"))
    with pytest.raises(sqlite3.IntegrityError):
        await db.write_atomic([(_PUT, ("b", "2")), (_PUT, ("a", "dup")), (_PUT, ("c", "3"))])
    assert not _raw(db).in_transaction
    assert await _count(db) == 1  # "b" went with the failed statement
    with pytest.raises(sqlite3.IntegrityError):  # a lone statement: nothing open either
        await db.insert_committed(_PUT, ("a", "dup"))
    assert not _raw(db).in_transaction
    await db.write_atomic([(_PUT, ("d", "4"))])  # the connection works on
    assert await _count(db) == 2


async def test_a_failed_commit_rolls_back_on_the_thread(db: Database) -> None:
    # A deferred foreign key makes COMMIT itself fail, which leaves SQLite's transaction open.
    async with db.transaction():
        await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await db.execute(
            "CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    with pytest.raises(sqlite3.IntegrityError):
        await db.write_atomic([(_PUT, ("a", "1")), ("INSERT INTO child (pid) VALUES (42)", ())])
    assert not _raw(db).in_transaction
    assert await _count(db) == 0
    await db.write_atomic([(_PUT, ("after", "1"))])
    assert await _count(db) == 1


async def test_a_cancelled_transaction_finishes_whole_on_the_thread(db: Database) -> None:
    gate = threading.Event()

    def slow(conn: sqlite3.Connection) -> None:
        gate.wait(5)

    held = asyncio.ensure_future(one_trip.on_thread(db._conn, slow))  # the thread is busy
    write = asyncio.ensure_future(db.write_atomic([(_PUT, ("a", "1")), (_PUT, ("b", "2"))]))
    await asyncio.sleep(0.01)
    write.cancel()
    gate.set()
    await held
    with pytest.raises(asyncio.CancelledError):
        await write
    await db.write_atomic([(_PUT, ("c", "3"))])  # no half transaction in the way
    assert not _raw(db).in_transaction
    assert await _count(db) == 3  # queued before the cancel: it ran whole


async def test_inside_a_callers_transaction_the_writes_are_part_of_it(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.write_atomic([(_PUT, ("a", "1"))])
            await db.execute_committed(_PUT, ("b", "2"))
            raise RuntimeError("roll back")
    assert await _count(db) == 0


async def test_inside_a_callers_transaction_a_failure_undoes_only_its_own_writes(
    db: Database,
) -> None:
    async with db.transaction():
        await db.execute(_PUT, ("a", "1"))
        with pytest.raises(sqlite3.IntegrityError):
            await db.write_atomic([(_PUT, ("b", "2")), (_PUT, ("a", "dup"))])
        await db.execute(_PUT, ("c", "3"))
    assert [r[0] for r in await db.fetchall("SELECT key FROM state ORDER BY key")] == ["a", "c"]


def test_a_rollback_is_owed_while_the_files_are_unwritable(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    owed: list[bool] = []
    conn.execute("BEGIN")
    one_trip.undo(conn, lambda: ["x.db-shm is not writable"], lambda: owed.append(True))
    assert owed == [True] and conn.in_transaction  # nothing sent to SQLite
    one_trip.undo(conn, list, lambda: owed.append(True))
    assert owed == [True] and not conn.in_transaction
    conn.close()


def test_the_synchronous_ledger_writes_in_one_go(tmp_path: Path, clock: ManualClock) -> None:
    db = open_sync_ledger(tmp_path / "bt.db", clock)
    try:
        run_now(db.write_atomic([(_PUT, ("a", "1")), (_PUT, ("b", "2"))]))
        with pytest.raises(sqlite3.IntegrityError):
            run_now(db.write_atomic([(_PUT, ("c", "3")), (_PUT, ("a", "dup"))]))
        assert run_now(db.execute_committed("UPDATE state SET value = 'x'")) == 2
        assert run_now(_count(db)) == 2
    finally:
        close_sync_ledger(db)
