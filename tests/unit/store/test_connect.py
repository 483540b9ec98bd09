"""A connection that SQLite cannot open leaves no aiosqlite thread behind (store/connect.py)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from krakenbot.store import Database
from krakenbot.store.connect import connect


def _workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def test_a_failed_open_has_ended_its_thread_when_it_raises(tmp_path: Path) -> None:
    """The thread answers a future on the caller's loop as it ends: a command that reports
    the error and closes its loop must not race it (it printed a traceback)."""
    before = _workers()
    (tmp_path / "a_folder").mkdir()
    for _ in range(10):
        with pytest.raises(sqlite3.OperationalError):
            await connect(str(tmp_path))  # a folder, not a database file
        assert not {t for t in _workers() - before if t.is_alive()}
        with pytest.raises(sqlite3.OperationalError):
            await Database.open(tmp_path / "a_folder")  # DATABASE_PATH naming a folder
        assert not {t for t in _workers() - before if t.is_alive()}


async def test_aiosqlite_still_keeps_its_worker_thread_where_connect_looks() -> None:
    conn = aiosqlite.connect(":memory:")
    assert isinstance(conn._thread, threading.Thread)
    async with conn:
        assert conn._thread.is_alive()
