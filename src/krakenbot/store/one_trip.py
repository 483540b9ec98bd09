"""Ledger writes carried out whole on the connection's thread: one trip from the event loop.

Owns: `on_thread` (runs a function of the raw `sqlite3.Connection` on aiosqlite's worker
thread, or at once on store/sync_db.py's synchronous connection), and the work it runs for
`Database`'s one-trip writes: `lone_rowid` / `lone_rowcount` / `lone_rows` (one
statement, which SQLite commits as its own transaction), `atomic` (BEGIN IMMEDIATE, the
work, e.g. `statements`, COMMIT; on any failure ROLLBACK, all on that thread) and `savepoint`
(the same inside a transaction the caller holds open).

Why: every aiosqlite call is a trip to its thread and back through the event loop, and each
one waits for the GIL while the loop runs Python. A transaction made of separate calls
(BEGIN, each statement, each cursor's close, COMMIT) held the writer's lock, and the engine's,
for four or more such trips; the order's row on the tick-to-order path waits behind them.
Here a whole transaction is one function on the thread: it commits or rolls back there, so
a caller cancelled while it runs never leaves a transaction open (the thread finishes it),
and a failed statement never does either.

`on_thread` uses aiosqlite's `Connection._execute` (private; pinned by
tests/unit/store/test_one_trip.py, which fails if it stops running our function on the
connection's thread). A ROLLBACK is never sent while the ledger's files are unwritable
(store/ledger_files.py: SQLite writing the `-shm` index would kill the process): it is owed
(`owe`) and `Database` sends it first when they are writable again.
Imports: aiosqlite, stdlib; never engine/orders/net.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeAlias, TypeVar

import aiosqlite

_T = TypeVar("_T")
Param: TypeAlias = str | int | float | bytes | None
Statement: TypeAlias = tuple[str, Sequence[Param]]
Row: TypeAlias = sqlite3.Row


def on_thread(
    conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], _T]
) -> Awaitable[_T]:
    """`work(raw connection)` on the connection's own thread, in one trip."""
    run: Callable[[Callable[[], _T]], Awaitable[_T]] = conn._execute
    return run(lambda: work(conn._conn))


def lone_rowid(sql: str, params: Sequence[Param]) -> Callable[[sqlite3.Connection], int | None]:
    """One INSERT outside any transaction (SQLite commits a lone statement on its own:
    all or nothing); answers its rowid."""

    def work(conn: sqlite3.Connection) -> int | None:
        cursor = conn.execute(sql, params)
        cursor.close()
        return cursor.lastrowid

    return work


def lone_rowcount(sql: str, params: Sequence[Param]) -> Callable[[sqlite3.Connection], int]:
    """`lone_rowid` for any write; answers the affected row count."""

    def work(conn: sqlite3.Connection) -> int:
        cursor = conn.execute(sql, params)
        cursor.close()
        return cursor.rowcount

    return work


def lone_rows(
    sql: str, params: Sequence[Param]
) -> Callable[[sqlite3.Connection], list[sqlite3.Row]]:
    """`lone_rowid` for a write with `RETURNING`: its rows (fetching them all runs the
    statement to its end, and then it commits)."""
    return rows(sql, params)


def rows(sql: str, params: Sequence[Param]) -> Callable[[sqlite3.Connection], list[Row]]:
    """Any statement (a read, or a write in an open transaction): run, fetch all, close."""
    return lambda conn: _rows(conn, sql, params)


def statements(writes: Sequence[Statement]) -> Callable[[sqlite3.Connection], list[list[Row]]]:
    """The work of running `writes` in order; each one's rows (`RETURNING`)."""
    return lambda conn: [_rows(conn, sql, params) for sql, params in writes]


def atomic(
    work: Callable[[sqlite3.Connection], _T],
    problems: Callable[[], list[str]],
    owe: Callable[[], None],
) -> Callable[[sqlite3.Connection], _T]:
    """`work` as one transaction: BEGIN IMMEDIATE, `work`, COMMIT; ROLLBACK on any failure."""

    def whole(conn: sqlite3.Connection) -> _T:
        # IMMEDIATE: the write lock now, so COMMIT never fails half-way for lack of it.
        conn.execute("BEGIN IMMEDIATE")
        try:
            out = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back by itself (SQLITE_FULL, IOERR), or a failed COMMIT
            # (busy, a deferred constraint) may have left the transaction open: end it here,
            # never hiding the error that caused it.
            if conn.in_transaction:
                undo(conn, problems, owe)
            raise
        return out

    return whole


def savepoint(
    work: Callable[[sqlite3.Connection], _T], problems: Callable[[], list[str]]
) -> Callable[[sqlite3.Connection], _T]:
    """`work` inside a transaction already open (the caller's): all of it or none, and the
    caller's transaction decides whether it is committed."""

    def nested(conn: sqlite3.Connection) -> _T:
        conn.execute("SAVEPOINT one_trip")
        try:
            out = work(conn)
        except BaseException:
            # Not while the files are unwritable: the caller's transaction fails with this
            # error and owes its whole ROLLBACK (`undo`).
            if not problems():
                with contextlib.suppress(sqlite3.Error):  # gone if SQLite rolled all back
                    conn.execute("ROLLBACK TO one_trip")
                    conn.execute("RELEASE one_trip")
            raise
        conn.execute("RELEASE one_trip")
        return out

    return nested


def undo(
    conn: sqlite3.Connection, problems: Callable[[], list[str]], owe: Callable[[], None]
) -> None:
    """ROLLBACK now, or owe it while the ledger's files are unwritable."""
    if problems():
        owe()
        return
    with contextlib.suppress(sqlite3.Error):
        conn.execute("ROLLBACK")


def _rows(conn: sqlite3.Connection, sql: str, params: Sequence[Param]) -> list[sqlite3.Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


__all__ = [
    "Param",
    "Statement",
    "atomic",
    "lone_rowcount",
    "lone_rowid",
    "lone_rows",
    "on_thread",
    "rows",
    "savepoint",
    "statements",
    "undo",
]
