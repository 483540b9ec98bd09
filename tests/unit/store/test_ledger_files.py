"""The ledger's files are checked for writability before SQLite may touch them."""

from __future__ import annotations

from pathlib import Path

import pytest

from file_faults import unwritable
from krakenbot.store import Database
from krakenbot.store.ledger_files import (
    LedgerFilesError,
    check_ledger_files,
    ledger_file_problems,
    ledger_files,
)


def _touch_all(path: Path) -> tuple[Path, ...]:
    files = ledger_files(path)
    for file in files:
        file.write_bytes(b"")
    return files


def test_writable_files_have_no_problem(tmp_path: Path) -> None:
    _touch_all(tmp_path / "trading.db")
    assert ledger_file_problems(tmp_path / "trading.db") == []
    check_ledger_files(tmp_path / "trading.db")


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_each_unwritable_file_is_named(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "trading.db"
    _touch_all(path)
    target = path.with_name(path.name + suffix)
    with unwritable(target):
        problems = ledger_file_problems(path)
        with pytest.raises(LedgerFilesError) as info:
            check_ledger_files(path)
    assert problems == [f"{target} is not writable"]
    assert str(target) in str(info.value)


def test_missing_files_need_a_writable_directory(tmp_path: Path) -> None:
    folder = tmp_path / "ledger"
    folder.mkdir()
    path = folder / "trading.db"
    assert ledger_file_problems(path) == []  # SQLite will create all three
    with unwritable(folder):
        problems = ledger_file_problems(path)
    assert len(problems) == 1 and str(folder) in problems[0]


async def test_open_refuses_an_unwritable_shm_before_sqlite_touches_it(tmp_path: Path) -> None:
    path = tmp_path / "trading.db"
    db = await Database.open(path)
    await db.close()
    shm = path.with_name("trading.db-shm")
    shm.write_bytes(b"")  # as a crashed process leaves it
    with unwritable(shm), pytest.raises(LedgerFilesError) as info:
        await Database.open(path)
    assert "trading.db-shm is not writable" in str(info.value)
