from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from krakenbot.errors import InvariantError
from krakenbot.store import Database


async def _count(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) FROM state")
    assert row is not None
    return int(row[0])


async def _put(db: Database, key: str, value: str = "v") -> None:
    await db.execute(
        "INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, 't', 0)",
        (key, value),
    )


async def test_pragmas_are_safe(db: Database) -> None:
    assert await db.pragma("journal_mode") == "wal"
    assert await db.pragma("synchronous") == 1  # NORMAL: see store/db.py and the README
    assert await db.pragma("foreign_keys") == 1


async def test_transaction_commits_on_success(db: Database, tmp_path: Path) -> None:
    async with db.transaction():
        await _put(db, "a")
    assert await _count(db) == 1
    other = await Database.open(tmp_path / "trading.db")  # visible to another connection
    try:
        assert await _count(other) == 1
    finally:
        await other.close()


async def test_transaction_rolls_back_on_any_exception(db: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.transaction():
            await _put(db, "a")
            assert await _count(db) == 1
            _ = 1 / 0
    assert await _count(db) == 0


async def test_transaction_rolls_back_on_cancellation(db: Database) -> None:
    started = asyncio.Event()

    async def writer() -> None:
        async with db.transaction():
            await _put(db, "a")
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(writer())
    await asyncio.wait_for(started.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _count(db) == 0


async def test_nested_transaction_is_a_savepoint(db: Database) -> None:
    async with db.transaction():
        await _put(db, "outer")
        with pytest.raises(KeyError):
            async with db.transaction():
                await _put(db, "inner")
                raise KeyError("inner fails")
        async with db.transaction():
            await _put(db, "inner2")
    rows = await db.fetchall("SELECT key FROM state ORDER BY key")
    assert [r[0] for r in rows] == ["inner2", "outer"]


async def test_write_outside_a_transaction_is_a_bug(db: Database) -> None:
    with pytest.raises(InvariantError):
        await _put(db, "a")
    with pytest.raises(InvariantError):
        await db.insert("INSERT INTO events (timestamp, ts_ns, kind) VALUES ('t', 0, 'k')")


async def test_one_writer_at_a_time(db: Database) -> None:
    async with db.transaction():
        await _put(db, "counter", "0")

    async def bump() -> None:
        for _ in range(25):
            async with db.transaction():
                row = await db.fetchone("SELECT value FROM state WHERE key = 'counter'")
                assert row is not None
                await asyncio.sleep(0)  # let the other task try to interleave
                await db.execute(
                    "UPDATE state SET value = ? WHERE key = 'counter'", (str(int(row[0]) + 1),)
                )

    async with asyncio.timeout(30):
        await asyncio.gather(bump(), bump())
    row = await db.fetchone("SELECT value FROM state WHERE key = 'counter'")
    assert row is not None and row[0] == "50"


async def test_reader_does_not_see_another_tasks_uncommitted_write(db: Database) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with db.transaction():
            await _put(db, "pending")
            inside.set()
            await release.wait()
            raise RuntimeError("abandon")

    task = asyncio.create_task(writer())
    await asyncio.wait_for(inside.wait(), timeout=5)
    reader = asyncio.create_task(_count(db))
    await asyncio.sleep(0)
    assert not reader.done()  # waits for the writer
    release.set()
    with pytest.raises(RuntimeError):
        await task
    assert await asyncio.wait_for(reader, timeout=5) == 0


async def test_backup_is_a_consistent_copy(db: Database, tmp_path: Path) -> None:
    async with db.transaction():
        await _put(db, "kept")
    with pytest.raises(FileNotFoundError):  # a missing folder is never made up
        await db.backup_to(tmp_path / "copies" / "copy.db")
    assert not (tmp_path / "copies").exists()
    (tmp_path / "copies").mkdir()
    target = await db.backup_to(tmp_path / "copies" / "copy.db")
    copy = await Database.open(target)
    try:
        rows = await copy.fetchall("SELECT key FROM state")
        assert [r[0] for r in rows] == ["kept"]
    finally:
        await copy.close()
    with pytest.raises(FileExistsError):
        await db.backup_to(target)


async def test_context_manager_closes(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "x.db") as db:
        assert await db.pragma("foreign_keys") == 1
    with pytest.raises(ValueError):
        await db.fetchone("SELECT 1")


async def test_a_failed_commit_leaves_no_transaction_open(db: Database) -> None:
    # A deferred foreign key makes COMMIT itself fail and SQLite keeps the transaction open;
    # the connection must come out of it, or every later write would fail to BEGIN.
    async with db.transaction():
        await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await db.execute(
            "CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():
            await db.execute("INSERT INTO child (pid) VALUES (42)")
    async with db.transaction():
        await _put(db, "after")
    assert await _count(db) == 1
    assert await db.fetchall("SELECT * FROM child") == []


async def test_writes_fail_while_another_program_locks_and_work_again_after(
    db: Database, tmp_path: Path
) -> None:
    await db.pragma("busy_timeout=50")  # fail fast instead of waiting 5 s
    blocker = sqlite3.connect(tmp_path / "trading.db", timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with db.transaction():
                await _put(db, "a")
    finally:
        blocker.rollback()
        blocker.close()
    async with db.transaction():
        await _put(db, "b")
    assert await _count(db) == 1


async def test_a_full_disk_fails_the_write_and_the_connection_recovers(db: Database) -> None:
    # SQLITE_FULL as a full disk gives it: the page limit pinned to the current size.
    pages = await db.pragma("page_count")
    await db.pragma(f"max_page_count={pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        async with db.transaction():
            for i in range(200):
                await _put(db, f"k{i}", "x" * 4000)
    assert await _count(db) == 0  # nothing half-written
    with pytest.raises(sqlite3.OperationalError, match="full"):  # also inside a savepoint
        async with db.transaction(), db.transaction():
            for i in range(200):
                await _put(db, f"k{i}", "x" * 4000)
    assert await _count(db) == 0
    await db.pragma("max_page_count=1073741823")
    async with db.transaction():
        await _put(db, "after")
    assert await _count(db) == 1


async def test_a_read_only_ledger_reads_committed_rows_and_never_writes(
    db: Database, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await Database.open_read_only(tmp_path / "none" / "trading.db")
    assert not (tmp_path / "none").exists()  # nothing created on the way
    async with db.transaction():
        await _put(db, "a")
    reader = await Database.open_read_only(tmp_path / "trading.db")
    try:
        async with db.transaction():  # the writer's open transaction is not seen, nor blocked
            await _put(db, "b")
            assert await _count(reader) == 1
        assert await _count(reader) == 2
        with pytest.raises(InvariantError):
            async with reader.transaction():
                pass
        with pytest.raises(sqlite3.OperationalError):  # not even a stray statement writes
            await reader.fetchall("DELETE FROM state")
        assert await _count(db) == 2
    finally:
        await reader.close()


async def test_a_lone_insert_is_committed_in_one_trip(db: Database) -> None:
    sql = "INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, 't', 0)"
    rowid = await db.insert_committed(sql, ("a", "1"))
    assert rowid > 0 and await _count(db) == 1  # committed: visible to everyone
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():  # inside a transaction it is part of it
            await db.insert_committed(sql, ("b", "2"))
            await db.insert_committed(sql, ("b", "3"))  # duplicate key: the whole lot goes
    assert await _count(db) == 1
    with pytest.raises(sqlite3.IntegrityError):
        await db.insert_committed(sql, ("a", "again"))
    assert await _count(db) == 1


async def test_writes_queued_behind_a_lock_fail_fast_once_one_has_waited(
    db: Database, tmp_path: Path
) -> None:
    # Another program holds the write lock. Writes that queue behind each other must not each
    # wait out the busy timeout (6 writes x 5 s kept the daemon from its safe stop for ~30 s).
    db.lock_wait.limit(0.5)
    sql = "INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, 't', 0)"
    loop = asyncio.get_running_loop()

    async def write(key: str) -> BaseException | None:
        try:
            async with db.transaction():
                await _put(db, key)
        except sqlite3.OperationalError as exc:
            return exc
        return None

    async def insert(key: str) -> BaseException | None:
        try:
            await db.insert_committed(sql, (key, "v"))
        except sqlite3.OperationalError as exc:
            return exc
        return None

    blocker = sqlite3.connect(tmp_path / "trading.db", timeout=1)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = loop.time()
        outcomes = await asyncio.gather(*(write(f"k{i}") for i in range(5)), insert("i"))
        took = loop.time() - started
        assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
        assert 0.45 <= took < 1.5  # the first waited 0.5 s; the others ~0.05 s each
        assert db.lock_wait.locked_out and await db.pragma("busy_timeout") == 50
    finally:
        blocker.rollback()
        blocker.close()
    assert await insert("after") is None  # the lock is gone: the short wait is enough
    assert not db.lock_wait.locked_out and await db.pragma("busy_timeout") == 500
    blocker = sqlite3.connect(tmp_path / "trading.db", timeout=1)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = loop.time()
        assert await write("again") is not None
        assert loop.time() - started >= 0.45  # a new lock is waited for again (bounded)
    finally:
        blocker.rollback()
        blocker.close()
    assert await write("last") is None
    assert await _count(db) == 2
