"""Start-up file failures become a named step (never a traceback) and leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from krakenbot.app.exitcodes import RunExit
from krakenbot.app.runtime_files import (
    RUNTIME_FILE,
    TOKEN_FILE,
    RuntimeInfo,
    new_token,
    remove_runtime,
    write_runtime,
)
from krakenbot.app.startup_steps import StartupStepError, fresh_sim_database


def test_fresh_sim_database_removes_the_old_ledger(tmp_path: Path) -> None:
    db = tmp_path / "trading.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).write_text("old", encoding="utf-8")
    fresh_sim_database(db)
    assert list(tmp_path.iterdir()) == []
    fresh_sim_database(db)  # nothing there: nothing to do


def test_fresh_sim_database_that_cannot_be_removed_is_the_database_step(tmp_path: Path) -> None:
    db = tmp_path / "trading.db"
    db.mkdir()  # a directory where the ledger file should be
    with pytest.raises(StartupStepError) as caught:
        fresh_sim_database(db)
    assert caught.value.step == "database"
    assert caught.value.exit_status is RunExit.DATABASE
    assert str(db) in caught.value.message


@pytest.mark.parametrize("name", [TOKEN_FILE, RUNTIME_FILE])
def test_a_runtime_file_that_cannot_be_written_leaves_no_temporary_file(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).mkdir()  # os.replace onto a directory fails
    info = RuntimeInfo(pid=1, mode="live", started_ns=0, health_url="http://x", data_files={})
    with pytest.raises(OSError):
        if name == TOKEN_FILE:
            new_token(tmp_path)
        else:
            write_runtime(tmp_path, info)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    remove_runtime(tmp_path, 1)  # best effort on the way out: must not raise
    assert (tmp_path / name).is_dir()
