"""The SQLite connection: pragmas, the one-writer rule and transactions.

Owns: `Database` — one aiosqlite connection opened with WAL, `synchronous=FULL` and foreign
keys, an `asyncio.Lock` that makes this process a single writer, and `transaction()`, which
commits on success and rolls back on any exception (nested calls from the same task become
savepoints). Also the consistent online copy (`backup_to`, SQLite's backup API). Imports:
aiosqlite, stdlib, errors; never engine/orders/net.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import TypeAlias

import aiosqlite

from krakenbot.errors import InvariantError

Param: TypeAlias = str | int | float | bytes | None
Row: TypeAlias = sqlite3.Row

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a committed fill survives power loss, not only a process crash (sqlite.org/wal).
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


class Database:
    """One connection, one writer. Open with `await Database.open(path)`; close when done."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._depth = 0

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, nothing implicit.
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in _PRAGMAS:
                await conn.execute(pragma)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def in_transaction(self) -> bool:
        """True inside this task's own `transaction()` (a nested one is a savepoint)."""
        return self._in_own_transaction()

    def _in_own_transaction(self) -> bool:
        task = asyncio.current_task()
        return task is not None and self._owner is task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """`async with db.transaction():` — commit on success, roll back on any exception."""
        if self._in_own_transaction():
            async with self._savepoint():
                yield self
            return
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                # IMMEDIATE: take the write lock now, so a commit never fails half-way for
                # lack of it.
                try:
                    await self._conn.execute("BEGIN IMMEDIATE")
                except asyncio.CancelledError:
                    # Cancelled while BEGIN sat in aiosqlite's queue: the worker thread still
                    # runs it, so undo it (queued after it) or the next BEGIN would fail.
                    with contextlib.suppress(Exception):
                        await self._conn.execute("ROLLBACK")
                    raise
                try:
                    yield self
                except BaseException:
                    # SQLite may have rolled back by itself already (SQLITE_FULL, IOERR):
                    # then ROLLBACK fails, and must not hide the error that caused it.
                    with contextlib.suppress(Exception):
                        await self._conn.execute("ROLLBACK")
                    raise
                try:
                    await self._conn.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (busy, disk full, a deferred constraint) can leave the
                    # transaction open; every later BEGIN would then fail. Undo it: the
                    # caller sees the error, nothing was committed.
                    with contextlib.suppress(Exception):
                        await self._conn.execute("ROLLBACK")
                    raise
            finally:
                self._owner = None

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"sp_{self._depth}"
        await self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # gone if SQLite rolled everything back
                await self._conn.execute(f"ROLLBACK TO {name}")
                await self._conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        await self._conn.execute(f"RELEASE {name}")

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[None]:
        """Reads wait for another task's open transaction, so they see committed data only."""
        if self._in_own_transaction():
            yield
            return
        async with self._lock:
            yield

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> int:
        """Run one write inside the caller's transaction; returns the affected row count."""
        self._require_transaction()
        cursor = await self._conn.execute(sql, params)
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def insert(self, sql: str, params: Sequence[Param] = ()) -> int:
        """Run one INSERT inside the caller's transaction; returns the new rowid."""
        self._require_transaction()
        cursor = await self._conn.execute(sql, params)
        try:
            rowid = cursor.lastrowid
        finally:
            await cursor.close()
        if rowid is None:
            raise InvariantError("INSERT produced no rowid")
        return rowid

    async def fetchall(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        async with self._reading():
            cursor = await self._conn.execute(sql, params)
            try:
                return list(await cursor.fetchall())
            finally:
                await cursor.close()

    async def fetchone(self, sql: str, params: Sequence[Param] = ()) -> Row | None:
        async with self._reading():
            cursor = await self._conn.execute(sql, params)
            try:
                return await cursor.fetchone()
            finally:
                await cursor.close()

    async def pragma(self, name: str) -> object:
        row = await self.fetchone(f"PRAGMA {name}")
        return None if row is None else row[0]

    async def backup_to(self, target: Path | str) -> Path:
        """A consistent copy of the committed database at `target` (SQLite backup API)."""
        target = Path(target)
        if target.exists():
            raise FileExistsError(f"{target} already exists; not overwriting it")
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self._reading(), aiosqlite.connect(str(target)) as copy:
            await self._conn.backup(copy)
        return target

    def _require_transaction(self) -> None:
        if not self._in_own_transaction():
            raise InvariantError("database writes must run inside `async with db.transaction()`")
