"""The SQLite connection: pragmas, the one-writer rule and transactions.

Owns: `Database` — one aiosqlite connection opened with the pragmas of store/pragmas.py (WAL,
`synchronous=NORMAL`, foreign keys, checkpoints by store/checkpoint.py beside the writer), an
`asyncio.Lock` that makes this process a single writer, `transaction()` (commits on success,
rolls back on any exception; nested calls from the same task become savepoints) and the
one-trip writes (`*_committed`, `write_atomic`: a lone statement or a whole transaction run
on the connection's thread, store/one_trip.py). Also `backup_to` (SQLite's backup API; the
copy appears whole or not at all, store/backup_file.py).
Before every statement (and before closing) it checks that the ledger's files are still
writable (`ledger_files`): SQLite writing an unwritable `-shm` index kills the process with
SIGBUS. While they are not, every call raises `LedgerFilesError` without touching SQLite (the
engine's ledger watch then counts failed writes and makes the usual safe stop), and `close`
abandons the connection rather than let SQLite checkpoint into the file; the process must then
end with `os._exit` (`abandoned_connections()`; the CLI does). A write waits for another
connection's write lock as store/lock_wait.py says.
`Database.open_read_only` is for readers beside a running daemon (`trades`, `db backup`): an
existing file opened with `mode=ro` and `query_only`, no pragma that writes, no folder
created; in WAL mode it never blocks the writer nor is blocked. It still writes its read mark
into the `-shm` index, so the files it found writable must stay so (else `LedgerFilesError`).
Imports: aiosqlite, stdlib, errors, store; never engine/orders/net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import TypeAlias, TypeVar

import aiosqlite

from krakenbot.errors import InvariantError
from krakenbot.store import backup_file, one_trip
from krakenbot.store.checkpoint import Checkpointer
from krakenbot.store.connect import connect
from krakenbot.store.ledger_files import (
    LedgerFileNames,
    LedgerFilesError,
    check_ledger_files,
    describe,
    file_problems,
    ledger_files,
    writable,
)
from krakenbot.store.lock_wait import LockWait
from krakenbot.store.pragmas import READ_ONLY_PRAGMAS, WRITER_PRAGMAS

Param: TypeAlias = one_trip.Param
Row: TypeAlias = sqlite3.Row
_T = TypeVar("_T")
logger = logging.getLogger(__name__)
# Connections left open on purpose (their files became unwritable): kept referenced so that
# no finaliser closes them, which would let SQLite write the unwritable -shm file.
_ABANDONED: list[aiosqlite.Connection] = []


def abandoned_connections() -> int:
    """How many ledger connections were abandoned: the process must then leave with
    `os._exit` (a normal exit would wait for their worker threads forever)."""
    return len(_ABANDONED)


_DRIVEN = object()  # the "task" of a ledger driven without an event loop (store/sync_db.py)


def _current_task() -> object | None:
    """The task that owns a transaction: asyncio's, or the one synchronous driver of a
    ledger used where no event loop runs (the backtest's throwaway ledger)."""
    try:
        return asyncio.current_task()
    except RuntimeError:
        return _DRIVEN


class Database:
    """One connection, one writer. Open with `await Database.open(path)`; close when done."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, *, read_only: bool = False) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        # Read-only: the ledger files SQLite may write (its read mark in -shm), as found
        # after opening; the others it opened read-only and never writes.
        self._watched: tuple[Path, ...] = ()
        self._lock = asyncio.Lock()
        self._owner: object | None = None
        self._depth = 0
        self._memory = str(path) == ":memory:"
        self._names = LedgerFileNames.of(path)
        # A transaction whose ROLLBACK could not be sent (files unwritable): sent first
        # when the files are writable again.
        self._rollback_owed = False
        self._abandoned = False
        self.lock_wait = LockWait()
        self.checkpoints: Checkpointer | None = None  # the writer's (`open`)

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
            check_ledger_files(path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, nothing implicit.
        conn = await connect(str(path), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in WRITER_PRAGMAS:
                await conn.execute(pragma)
        except BaseException:
            await conn.close()
            raise
        db = cls(conn, path)
        if str(path) != ":memory:":
            db.checkpoints = Checkpointer(path, db._file_problems)
        return db

    @classmethod
    async def open_read_only(cls, path: Path | str) -> Database:
        """Open an existing ledger for reading only (see the module doc)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ledger at {path}")
        uri = f"{path.absolute().as_uri()}?mode=ro"
        conn = await connect(uri, uri=True, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in READ_ONLY_PRAGMAS:
                await conn.execute(pragma)
            # The first read opens (or creates) the -wal and -shm files.
            await (await conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")).close()
        except BaseException:
            await conn.close()
            raise
        db = cls(conn, path, read_only=True)
        db._watched = tuple(f for f in ledger_files(path) if writable(f))
        return db

    async def close(self) -> None:
        if self._abandoned:
            return
        problems = self._file_problems()
        if self.checkpoints is not None:
            await self.checkpoints.close(abandon=_ABANDONED if problems else None)
        if problems:
            # Closing checkpoints the WAL into the database through the -shm index: with
            # that file unwritable SQLite would crash the process. Leave it to the OS.
            self._abandoned = True
            _ABANDONED.append(self._conn)
            logger.error(
                "ledger connection abandoned, not closed: its files are not writable",
                extra={"problems": problems},
            )
            return
        await self._conn.close()

    def _file_problems(self) -> list[str]:
        if self._memory:
            return []
        if self.read_only:
            return [f"{f} is not writable any more" for f in self._watched if not writable(f)]
        return file_problems(self._names)

    async def _run(self, sql: str, params: Sequence[Param] = ()) -> aiosqlite.Cursor:
        return await self._trip(lambda: self._conn.execute(sql, params))

    async def _trip(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """Every statement goes through here: refused while a ledger file is unwritable."""
        await self._ready()
        try:
            return await call()
        except sqlite3.Error as exc:
            self._name_the_files(exc)
            raise

    async def _ready(self) -> None:
        problems = ["the connection was abandoned"] if self._abandoned else self._file_problems()
        if problems:
            raise LedgerFilesError(describe(problems))
        if self._rollback_owed:
            self._rollback_owed = False
            with contextlib.suppress(sqlite3.Error):
                await self._conn.execute("ROLLBACK")
        wait_ms = self.lock_wait.change()
        if wait_ms is not None:  # one more trip, only when it changes
            await (await self._conn.execute(f"PRAGMA busy_timeout={wait_ms}")).close()
            self.lock_wait.applied_ms = wait_ms

    def _name_the_files(self, exc: sqlite3.Error) -> None:
        # Which error SQLite reports for an unwritable file varies (read-only database, disk
        # I/O error, ...): name the file when that is the cause.
        problems = self._file_problems()
        if problems:
            raise LedgerFilesError(describe(problems)) from exc

    async def _undo(self, sql: str) -> None:
        """ROLLBACK / ROLLBACK TO after a failure; owed for later if the files refuse it."""
        try:
            await self._run(sql)
        except LedgerFilesError:
            self._rollback_owed = True
        except Exception:  # gone already: SQLite may have rolled back by itself
            return

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
        task = _current_task()
        return task is not None and self._owner is task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """`async with db.transaction():` — commit on success, roll back on any exception."""
        if self.read_only:
            raise InvariantError(f"{self.path} was opened read-only: no writes")
        if self._in_own_transaction():
            async with self._savepoint():
                yield self
            return
        async with self._lock:
            self._owner = _current_task()
            try:
                # IMMEDIATE: take the write lock now, so a commit never fails half-way for
                # lack of it.
                try:
                    await self._run("BEGIN IMMEDIATE")
                except asyncio.CancelledError:
                    # Cancelled while BEGIN sat in aiosqlite's queue: the worker thread still
                    # runs it, so undo it (queued after it) or the next BEGIN would fail.
                    await self._undo("ROLLBACK")
                    raise
                except Exception as exc:
                    self.lock_wait.outcome(exc)
                    raise
                try:
                    yield self
                except BaseException:
                    # SQLite may have rolled back by itself already (SQLITE_FULL, IOERR):
                    # then ROLLBACK fails, and must not hide the error that caused it.
                    await self._undo("ROLLBACK")
                    raise
                try:
                    await self._run("COMMIT")
                except BaseException:
                    # A failed COMMIT (busy, disk full, a deferred constraint) can leave the
                    # transaction open; every later BEGIN would then fail. Undo it: the
                    # caller sees the error, nothing was committed.
                    await self._undo("ROLLBACK")
                    raise
                self._committed()
            finally:
                self._owner = None

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"sp_{self._depth}"
        await self._run(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # gone if SQLite rolled everything back
                await self._run(f"ROLLBACK TO {name}")
                await self._run(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        await self._run(f"RELEASE {name}")

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
        cursor = await self._run(sql, params)
        await cursor.close()
        return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Param] = ()) -> int:
        """Run one INSERT inside the caller's transaction; returns the new rowid."""
        self._require_transaction()
        cursor = await self._run(sql, params)
        await cursor.close()
        rowid = cursor.lastrowid
        if rowid is None:
            raise InvariantError("INSERT produced no rowid")
        return rowid

    async def insert_committed(self, sql: str, params: Sequence[Param] = ()) -> int:
        """One INSERT committed on its own, in one trip to the connection's thread (the
        order row on the tick-to-order path; store/one_trip.py): SQLite runs a lone
        statement as its own transaction, so it is all or nothing. Inside this task's
        transaction it is just part of that transaction."""
        if self._in_own_transaction():
            return await self.insert(sql, params)
        rowid = await self._one_trip(one_trip.lone_rowid(sql, params))
        if rowid is None:
            raise InvariantError("INSERT produced no rowid")
        return rowid

    async def execute_committed(self, sql: str, params: Sequence[Param] = ()) -> int:
        """`insert_committed` for any one write; returns the affected row count."""
        if self._in_own_transaction():
            return await self.execute(sql, params)
        return await self._one_trip(one_trip.lone_rowcount(sql, params))

    async def fetch_committed(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        """`insert_committed` for a write with `RETURNING`: the rows it changed."""
        if self._in_own_transaction():
            return await self._fetch_all(sql, params)
        return await self._one_trip(one_trip.lone_rows(sql, params))

    async def write_atomic(self, statements: Sequence[one_trip.Statement]) -> list[list[Row]]:
        """`run_atomic` of these writes; each one's rows (`RETURNING`) in order."""
        return await self.run_atomic(one_trip.statements(statements))

    async def run_atomic(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work` (on the raw connection) as ONE transaction in ONE trip (store/one_trip.py):
        a failure rolls all back, none left open. In this task's transaction: a savepoint."""
        if self._in_own_transaction():
            nested = one_trip.savepoint(work, self._file_problems)
            return await self._trip(lambda: one_trip.on_thread(self._conn, nested))
        owe = lambda: setattr(self, "_rollback_owed", True)  # noqa: E731
        return await self._one_trip(one_trip.atomic(work, self._file_problems, owe))

    async def _one_trip(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work` whole on the connection's thread; its outcome tells the lock wait."""
        if self.read_only:
            raise InvariantError(f"{self.path} was opened read-only: no writes")
        async with self._lock:
            try:
                result = await self._trip(lambda: one_trip.on_thread(self._conn, work))
            except Exception as exc:
                self.lock_wait.outcome(exc)
                raise
            self._committed()
            return result

    def _committed(self) -> None:
        self.lock_wait.outcome(None)
        if self.checkpoints is not None:
            self.checkpoints.committed()

    async def fetchall(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        async with self._reading():
            return await self._fetch_all(sql, params)

    async def _fetch_all(self, sql: str, params: Sequence[Param]) -> list[Row]:
        """Run, fetch and close in one trip (it was three)."""
        return await self._trip(lambda: one_trip.on_thread(self._conn, one_trip.rows(sql, params)))

    async def fetchone(self, sql: str, params: Sequence[Param] = ()) -> Row | None:
        async with self._reading():
            rows = await self._fetch_all(sql, params)
        return rows[0] if rows else None

    async def pragma(self, name: str) -> object:
        row = await self.fetchone(f"PRAGMA {name}")
        return None if row is None else row[0]

    async def backup_to(self, target: Path | str) -> Path:
        """A consistent copy of the committed database at `target` (SQLite backup API)."""
        target = Path(target)
        if target.exists():
            raise FileExistsError(f"{target} already exists; not overwriting it")
        if not target.parent.is_dir():  # never a folder nobody asked for (a typo in the path)
            raise FileNotFoundError(f"{target.parent} is not an existing folder")
        async with self._reading():
            await self._run("SELECT 1")  # refused, like any statement, while unwritable
            await backup_file.copy_into(self._conn, target)  # whole, or no file at all
        return target

    def _require_transaction(self) -> None:
        if not self._in_own_transaction():
            raise InvariantError("database writes must run inside `async with db.transaction()`")
