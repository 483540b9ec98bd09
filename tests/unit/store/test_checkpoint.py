"""The WAL checkpoints beside the writer (store/checkpoint.py) and the one-trip update
(`Database.fetch_committed`): the writer's commits never copy the WAL into the database file
themselves; the checkpointer does, on its own connection, only while the files are writable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from krakenbot.store import Database
from krakenbot.store.checkpoint import Checkpointer

_PUT = "INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, 't', 0)"
_BIG = "x" * 1_000_000  # ~250 WAL pages a row


async def _settle(checkpoints: Checkpointer) -> None:
    task = checkpoints._task
    if task is not None:
        await task


async def test_the_writers_commits_never_checkpoint(db: Database, tmp_path: Path) -> None:
    # With SQLite's automatic checkpoint the commit that grows the WAL past 1,000 pages
    # copies them into the database file (and syncs both): on the order's path.
    assert await db.pragma("wal_autocheckpoint") == 0
    assert db.checkpoints is not None
    db.checkpoints.every = 1_000  # not due in this test
    main = tmp_path / "trading.db"
    size = main.stat().st_size
    for i in range(6):  # ~1,500 pages
        await db.insert_committed(_PUT, (f"k{i}", _BIG))
    assert main.stat().st_size == size  # all of it still in the WAL
    assert db.checkpoints.done == 0


async def test_a_checkpoint_runs_beside_the_writer_every_so_many_commits(
    db: Database, tmp_path: Path
) -> None:
    assert db.checkpoints is not None
    db.checkpoints.every, db.checkpoints.commits = 3, 0  # (opening migrated the ledger)
    main = tmp_path / "trading.db"
    size = main.stat().st_size
    await db.insert_committed(_PUT, ("a", _BIG))
    async with db.transaction():
        await db.execute(_PUT, ("b", _BIG))
    await _settle(db.checkpoints)
    assert db.checkpoints.done == 0 and main.stat().st_size == size
    await db.fetch_committed("UPDATE state SET value = ? WHERE key = ? RETURNING key", ("c", "a"))
    await _settle(db.checkpoints)
    assert db.checkpoints.done == 1
    assert main.stat().st_size > size + 1_000_000  # the pages reached the database file
    rows = await db.fetchall("SELECT key, value FROM state WHERE key = 'a'")
    assert [tuple(r) for r in rows] == [("a", "c")]


async def test_no_checkpoint_while_the_ledger_files_are_not_writable(tmp_path: Path) -> None:
    # SQLite writing an unwritable -shm index kills the process (store/ledger_files.py).
    db = await Database.open(tmp_path / "ledger.db")
    try:
        problems = ["ledger.db-shm is not writable"]
        checkpoints = Checkpointer(db.path, lambda: problems, every=1)
        checkpoints.committed()
        await _settle(checkpoints)
        assert checkpoints.done == 0 and checkpoints._conn is None
        problems.clear()
        checkpoints.committed()
        await _settle(checkpoints)
        assert checkpoints.done == 1
        await checkpoints.close()
    finally:
        await db.close()


async def test_an_update_is_committed_and_read_back_in_one_statement(db: Database) -> None:
    await db.insert_committed(_PUT, ("a", "1"))
    sql = "UPDATE state SET value = ? WHERE key = ? RETURNING key, value"
    rows = await db.fetch_committed(sql, ("2", "a"))
    assert [tuple(r) for r in rows] == [("a", "2")]
    assert await db.fetch_committed(sql, ("3", "nobody")) == []
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():  # inside a transaction it is part of it
            await db.fetch_committed(sql, ("4", "a"))
            await db.insert_committed(_PUT, ("a", "dup"))
    row = await db.fetchone("SELECT value FROM state WHERE key = 'a'")
    assert row is not None and row[0] == "2"
