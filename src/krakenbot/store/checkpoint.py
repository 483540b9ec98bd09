"""WAL checkpoints off the writer's path: on a second connection, in its own thread.

Owns: `Checkpointer` — after every `every` commits of the ledger's writer it starts one
`PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own (opened on first use), unless one
is still running; `close` waits for it and closes that connection.

Why: with SQLite's automatic checkpoint, the commit that grows the WAL past 1,000 pages copies
them into the database and syncs both files itself (sqlite.org/wal, "Automatic
Checkpoint"), so now and then the order row on the tick-to-order path waited a millisecond or
more for two `fsync`s. The writer's connection turns that off (`wal_autocheckpoint=0`,
store/db.py) and this module does the same work beside it: a PASSIVE checkpoint never waits
for, and never blocks, the writer or a reader (sqlite.org/c3ref/wal_checkpoint_v2.html), and
the second connection's thread (aiosqlite) sleeps in the `fsync`, not the event loop or the
writer's thread. Before each checkpoint the ledger's files must be writable, like before every
statement of `Database` (store/ledger_files.py: SQLite writing an unwritable `-shm` index
kills the process). A checkpoint that fails is logged and tried again after the next
`every` commits; closing the writer's connection (the last one) checkpoints what is left.
Imports: aiosqlite, stdlib, store.ledger_files; never engine/orders/net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiosqlite

from krakenbot.store.connect import connect

logger = logging.getLogger(__name__)
CHECKPOINT_EVERY = 200  # commits (an order's row and its updates: a few WAL pages each)


class Checkpointer:
    def __init__(
        self,
        path: Path,
        file_problems: Callable[[], list[str]],
        every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.path = path
        self._file_problems = file_problems
        self.every = every
        self.commits = 0  # since the last checkpoint started
        self.done = 0  # checkpoints that ran (for tests and the curious)
        self._conn: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def committed(self) -> None:
        """One more commit of the writer; starts a checkpoint when one is due."""
        self.commits += 1
        if self.commits < self.every or self._closed:
            return
        if self._task is not None and not self._task.done():
            return  # still checkpointing: the next commit asks again
        self.commits = 0
        self._task = asyncio.ensure_future(self._checkpoint())

    async def _checkpoint(self) -> None:
        problems = self._file_problems()
        if problems:
            return  # the writer's next statement reports it (LedgerFilesError)
        try:
            if self._conn is None:
                self._conn = await connect(str(self.path), isolation_level=None)
            await (await self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")).close()
        except Exception as exc:  # housekeeping: the writer's own statements report trouble
            logger.warning("ledger checkpoint failed", extra={"error": repr(exc)})
            return
        self.done += 1

    async def close(self, *, abandon: list[aiosqlite.Connection] | None = None) -> None:
        """Wait for a running checkpoint, then close the connection; with `abandon` (the
        ledger's files are not writable) leave it open, referenced there, instead."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(Exception):
                await task
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if abandon is not None:
            abandon.append(conn)
            return
        with contextlib.suppress(sqlite3.Error):
            await conn.close()


__all__ = ["CHECKPOINT_EVERY", "Checkpointer"]
