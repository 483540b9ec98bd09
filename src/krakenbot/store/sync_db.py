"""A ledger driven synchronously, where no event loop runs: the backtest's throwaway ledger.

Owns: `SyncConnection` (the part of aiosqlite's connection that `Database` uses, over a
plain `sqlite3` connection: its coroutines finish without ever waiting), `run_now` (runs
one such coroutine to its end on the spot) and `open_sync_ledger` (a new ledger file,
migrated to the live schema). Every statement still goes through `Database` and the
`LedgerRepository`, so the file is written by the daemon's own SQL: `trades`, `orders` and
`profit --db` read it like the live ledger.

Why synchronous here: the daemon's rule (no blocking call on its event loop) protects a
process that must keep answering the exchange; a backtest has no exchange to answer, and a
write on a thread per row would cost more than the whole decision it records. The file is
throwaway (a run that fails never leaves it where a result would be), so SQLite is told not
to wait for the disk (`synchronous=OFF`, rollback journal in memory). `open_sync_ledger(...,
in_memory=True)` keeps the whole database in memory and `save_sync_ledger` writes it to its
file once, at the end (`VACUUM INTO`: the same schema and rows): the order
of the writes is the same (each row is written before the effect after it is carried out),
only where they sit until the run ends differs, and no file check is needed on every
statement because there is no file (the check exists for the -shm index of a WAL database
on disk: store/ledger_files.py).
Imports: sqlite3, store, clock, stdlib.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from krakenbot.clock import Clock
from krakenbot.store.db import Database, Param
from krakenbot.store.migrations import migrate
from krakenbot.store.sync_ledger import SyncLedgerWriter

_T = TypeVar("_T")
_MEMORY = Path(":memory:")
_PRAGMAS = (
    "PRAGMA journal_mode=MEMORY",
    "PRAGMA synchronous=OFF",
    "PRAGMA foreign_keys=ON",
)


class SyncCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def fetchall(self) -> list[sqlite3.Row]:
        return self._cursor.fetchall()

    async def fetchone(self) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._cursor.fetchone()
        return row

    async def close(self) -> None:
        self._cursor.close()


class SyncConnection:
    """aiosqlite's connection as far as `Database` uses it, answered on the spot."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def row_factory(self) -> object:
        return self._conn.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._conn.row_factory = factory

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> SyncCursor:
        return SyncCursor(self._conn.execute(sql, params))

    async def execute_insert(self, sql: str, params: Sequence[Param] = ()) -> tuple[int | None]:
        return (self._conn.execute(sql, params).lastrowid,)

    async def execute_fetchall(self, sql: str, params: Sequence[Param] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    async def _execute(self, fn: Callable[[], _T]) -> _T:
        """aiosqlite's trip to its thread (store/one_trip.py `on_thread`): here, at once."""
        return fn()

    async def close(self) -> None:
        self._conn.close()


def run_now(work: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine of a synchronously driven ledger to its end, here and now."""
    try:
        work.send(None)
    except StopIteration as done:
        return cast(_T, done.value)
    work.close()
    raise RuntimeError("a synchronously driven ledger call tried to wait")


def open_sync_ledger(path: Path, clock: Clock, *, in_memory: bool = False) -> Database:
    """Create a new ledger file at `path` (it must not exist) with the live schema;
    `in_memory`: a database in memory, written to `path` by `save_sync_ledger`."""
    return _open(path, clock, in_memory)[0]


def _open(path: Path, clock: Clock, in_memory: bool) -> tuple[Database, sqlite3.Connection]:
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    where = _MEMORY if in_memory else path
    conn = sqlite3.connect(str(where), isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        db = Database(cast(aiosqlite.Connection, SyncConnection(conn)), where)
        run_now(migrate(db, clock))
    except BaseException:
        conn.close()
        raise
    return db, conn


def open_sync_writer(
    path: Path, clock: Clock, *, in_memory: bool = False
) -> tuple[Database, SyncLedgerWriter]:
    """`open_sync_ledger`, and the writer that writes it (store/sync_ledger.py) on its
    connection: while it writes, only it does (its one transaction is open), until
    its `commit`."""
    db, conn = _open(path, clock, in_memory)
    return db, SyncLedgerWriter(conn, clock)


def save_sync_ledger(db: Database, path: Path) -> None:
    """Write an in-memory ledger to a new file at `path` (it must not exist)."""
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    run_now(db.fetchone("VACUUM INTO ?", (str(path),)))


def close_sync_ledger(db: Database) -> None:
    run_now(db.close())


__all__ = [
    "SyncConnection",
    "close_sync_ledger",
    "open_sync_ledger",
    "open_sync_writer",
    "run_now",
    "save_sync_ledger",
]
