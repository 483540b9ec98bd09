"""A ledger backup appears whole or not at all (store/backup_file.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from krakenbot.store import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "ledger.db")
    async with database.transaction():
        await database.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT)")
        for n in range(200):  # many pages, so a copy can be cut half way
            await database.execute("INSERT INTO state VALUES (?, ?)", (f"k{n}", "x" * 500))
    yield database
    await database.close()


async def test_a_copy_cut_short_leaves_no_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk or a failing device stops SQLite's backup part way (simulated: the copy
    stops with an error after its first page). The path the user named must not hold a
    partial file that looks like a backup (and would block the next attempt)."""
    real = aiosqlite.Connection.backup

    async def cut_short(self: aiosqlite.Connection, target: Any, **_: Any) -> None:
        def fail(status: int, remaining: int, total: int) -> None:
            raise OSError(28, "No space left on device")

        await real(self, target, pages=1, progress=fail)

    monkeypatch.setattr(aiosqlite.Connection, "backup", cut_short)
    folder = tmp_path / "copies"
    folder.mkdir()
    with pytest.raises(OSError, match="No space left"):
        await db.backup_to(folder / "copy.db")
    assert sorted(os.listdir(folder)) == []

    monkeypatch.undo()
    target = await db.backup_to(folder / "copy.db")  # the next attempt is not refused
    assert sorted(os.listdir(folder)) == ["copy.db"]
    copy = await Database.open_read_only(target)
    try:
        row = await copy.fetchone("SELECT COUNT(*) FROM state")
        assert row is not None and row[0] == 200
    finally:
        await copy.close()


async def test_a_name_taken_during_the_copy_is_never_overwritten(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = aiosqlite.Connection.backup
    target = tmp_path / "copy.db"

    async def someone_else_writes(self: aiosqlite.Connection, copy: Any, **kw: Any) -> None:
        await real(self, copy, **kw)
        target.write_bytes(b"theirs")

    monkeypatch.setattr(aiosqlite.Connection, "backup", someone_else_writes)
    with pytest.raises(FileExistsError, match="not overwriting"):
        await db.backup_to(target)
    assert target.read_bytes() == b"theirs"
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]
