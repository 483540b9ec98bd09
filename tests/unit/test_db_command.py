from __future__ import annotations

import threading
from pathlib import Path

import pytest
from settings_env import isolate

from krakenbot.cli import main
from krakenbot.lock import InstanceLock


@pytest.fixture
def env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate(monkeypatch, tmp_path)
    path = tmp_path / "test.env"
    path.write_text(
        f"DATABASE_PATH={tmp_path / 'db' / 'trading.db'}\nLOCK_FILE={tmp_path / 'lock'}\n",
        encoding="utf-8",
    )
    return path


def test_migrate_creates_then_keeps_the_ledger(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env-file", str(env_file), "db", "migrate"]) == 0
    assert "0 -> 1" in capsys.readouterr().out
    assert (tmp_path / "db" / "trading.db").is_file()
    assert main(["--env-file", str(env_file), "db", "migrate"]) == 0
    assert "already at schema version 1" in capsys.readouterr().out
    assert (tmp_path / "lock").read_text(encoding="utf-8") == ""  # lock released


def test_migrate_refuses_while_another_instance_runs(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with InstanceLock(tmp_path / "lock"):
        assert main(["--env-file", str(env_file), "db", "migrate"]) == 3
    assert "PID" in capsys.readouterr().err
    assert not (tmp_path / "db" / "trading.db").exists()


def test_migrate_bad_settings_exit_2(
    env_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAX_POSITIONS", "0")
    assert main(["--env-file", str(env_file), "db", "migrate"]) == 2
    assert "MAX_POSITIONS" in capsys.readouterr().err


def test_backup_writes_a_copy(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.db"
    assert main(["--env-file", str(env_file), "db", "backup", str(target)]) == 1
    assert "no database" in capsys.readouterr().err
    assert main(["--env-file", str(env_file), "db", "migrate"]) == 0
    assert main(["--env-file", str(env_file), "db", "backup", str(target)]) == 0
    assert target.is_file() and target.stat().st_size > 0
    assert main(["--env-file", str(env_file), "db", "backup", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_backup_bad_settings_exit_2(
    env_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALLOWED_PAIRS", "nonsense")
    assert main(["--env-file", str(env_file), "db", "backup", str(tmp_path / "c.db")]) == 2


def test_unusable_database_path_exits_1_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate(monkeypatch, tmp_path)
    (tmp_path / "a_directory").mkdir()
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "a_directory"))
    assert main(["db", "migrate"]) == 1
    assert "db migrate failed" in capsys.readouterr().err
    # SQLite's refusal left aiosqlite's thread to end on its own after the command's loop
    # had closed: now and then it printed "RuntimeError: Event loop is closed" and a
    # traceback. The thread has ended before the command returns (store/connect.py).
    assert not [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


def test_backup_to_an_unwritable_place_exits_1(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env-file", str(env_file), "db", "migrate"]) == 0
    (tmp_path / "blocker").write_text("a file, not a directory")
    target = tmp_path / "blocker" / "copy.db"
    assert main(["--env-file", str(env_file), "db", "backup", str(target)]) == 1
    assert "db backup failed" in capsys.readouterr().err


def test_backup_refuses_a_folder_that_does_not_exist(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--env-file", str(env_file), "db", "migrate"]) == 0
    target = tmp_path / "typo" / "nested" / "copy.db"
    assert main(["--env-file", str(env_file), "db", "backup", str(target)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()  # no folder made up


def test_backup_reaches_the_sim_ledger_and_any_named_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "data" / "sim" / "trading.db"))
    assert main(["db", "migrate"]) == 0  # what `run --sim` leaves in DATA_DIR/sim
    monkeypatch.delenv("DATABASE_PATH")
    sim_ledger = tmp_path / "data" / "sim" / "trading.db"
    assert main(["db", "backup", "--sim", str(tmp_path / "sim-copy.db")]) == 0
    assert f"{sim_ledger} backed up" in capsys.readouterr().out
    assert (tmp_path / "sim-copy.db").is_file()
    assert main(["db", "backup", "--db", str(sim_ledger), str(tmp_path / "named.db")]) == 0
    assert (tmp_path / "named.db").is_file()
    assert main(["db", "backup", str(tmp_path / "plain.db")]) == 1  # ./trading.db: none
    assert "no database" in capsys.readouterr().err
