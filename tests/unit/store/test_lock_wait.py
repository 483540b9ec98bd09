"""How long a write waits for another connection's lock: bounded, and hardly at all once a
write has failed for one, until a write gets through (store/lock_wait.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from krakenbot.store.lock_wait import LOCK_WAIT_S, LOCKED_OUT_WAIT_S, LockWait, is_lock_error


def _real_lock_error(tmp_path: Path) -> sqlite3.OperationalError:
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("BEGIN IMMEDIATE")
        return caught.value
    finally:
        holder.close()
        other.close()


def test_a_lock_error_is_told_from_other_failures(tmp_path: Path) -> None:
    assert is_lock_error(_real_lock_error(tmp_path))
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    assert not is_lock_error(full)
    assert not is_lock_error(sqlite3.OperationalError("database is locked"))  # no code: unknown
    assert not is_lock_error(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not is_lock_error(PermissionError("read-only"))


def test_the_wait_is_bounded_and_short_after_a_lock_defeated_a_write(tmp_path: Path) -> None:
    wait = LockWait()
    assert wait.change() is None  # the connection opened with LOCK_WAIT_S
    wait.limit(1.0)
    assert wait.change() == 1000
    wait.applied_ms = 1000
    wait.outcome(sqlite3.IntegrityError("UNIQUE constraint failed"))  # not a lock: no change
    assert wait.change() is None and not wait.locked_out
    wait.outcome(_real_lock_error(tmp_path))
    assert wait.locked_out and wait.change() == int(LOCKED_OUT_WAIT_S * 1000)
    wait.applied_ms = int(LOCKED_OUT_WAIT_S * 1000)
    wait.outcome(None)  # a write got through
    assert not wait.locked_out and wait.change() == 1000


@pytest.mark.parametrize(
    ("seconds", "ms"), [(60.0, int(LOCK_WAIT_S * 1000)), (2.5, 2500), (0.01, 10), (-1.0, 0)]
)
def test_the_limit_never_exceeds_the_default_nor_goes_negative(seconds: float, ms: int) -> None:
    wait = LockWait()
    wait.limit(seconds)
    assert wait.limit_ms == ms
    wait.locked_out = True
    assert wait.change() == min(ms, int(LOCKED_OUT_WAIT_S * 1000))
