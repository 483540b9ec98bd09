from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from krakenbot.clock import ManualClock
from krakenbot.lock import EXIT_LOCKED, InstanceLock, InstanceLockedError, LockRecord, is_alive


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    pid = int(proc.stdout)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    return pid


def test_lock_records_pid_and_start_time(tmp_path: Path) -> None:
    path = tmp_path / ".trading_lock"
    clock = ManualClock(start_ns=1_767_225_600_000_000_000)  # 2026-01-01T00:00:00Z
    with InstanceLock(path, clock=clock) as lock:
        assert lock.held
        record = LockRecord.parse(path.read_text(encoding="utf-8"))
        assert record is not None
        assert record.pid == os.getpid()
        assert record.started_at == "2026-01-01T00:00:00+00:00"
        assert record.create_time == pytest.approx(psutil.Process().create_time())
    assert not lock.held
    assert path.read_text(encoding="utf-8") == ""


def test_second_holder_is_refused_naming_the_pid(tmp_path: Path) -> None:
    path = tmp_path / ".trading_lock"
    with InstanceLock(path):
        with pytest.raises(InstanceLockedError) as info:
            InstanceLock(path).acquire()
        assert info.value.pid == os.getpid()
        assert str(os.getpid()) in str(info.value)
        assert info.value.exit_status == EXIT_LOCKED == 3
    with InstanceLock(path) as again:  # free after release
        assert again.held


def test_released_when_the_block_raises(tmp_path: Path) -> None:
    path = tmp_path / ".trading_lock"
    with pytest.raises(RuntimeError), InstanceLock(path):
        raise RuntimeError("boom")
    with InstanceLock(path) as lock:
        assert lock.taken_over is None


def test_acquire_and_release_are_idempotent(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path / "sub" / ".trading_lock")
    lock.acquire()
    lock.acquire()
    lock.release()
    lock.release()
    assert not lock.held


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / ".trading_lock"
    dead = _dead_pid()
    path.write_text(json.dumps({"pid": dead, "started_at": "2026-01-01T00:00:00+00:00"}))
    with InstanceLock(path) as lock:
        assert lock.taken_over is not None and lock.taken_over.pid == dead
        record = LockRecord.parse(path.read_text(encoding="utf-8"))
        assert record is not None and record.pid == os.getpid()


def test_bare_pid_file_of_a_live_process_refuses(tmp_path: Path) -> None:
    # An older tool that wrote only its PID (no OS lock) while it still runs.
    path = tmp_path / ".trading_lock"
    path.write_text(f"{os.getppid()}\n")
    with pytest.raises(InstanceLockedError) as info:
        InstanceLock(path).acquire()
    assert info.value.pid == os.getppid()
    with InstanceLock(tmp_path / "other_lock"):
        pass


def test_reused_pid_counts_as_dead(tmp_path: Path) -> None:
    path = tmp_path / ".trading_lock"
    path.write_text(json.dumps({"pid": os.getppid(), "create_time": 1.0}))
    with InstanceLock(path) as lock:
        assert lock.taken_over is not None and lock.taken_over.pid == os.getppid()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   \n", None),
        ("garbage", None),
        ("[1, 2]", None),
        ('{"pid": -4}', None),
        ('{"pid": true}', None),
        ('{"pid": "12"}', None),
        ('{"nopid": 1}', None),
        ("4242\n", LockRecord(pid=4242)),
        (
            '{"pid": 7, "started_at": "t", "create_time": 12}',
            LockRecord(pid=7, started_at="t", create_time=12.0),
        ),
        ('{"pid": 7, "started_at": 5, "create_time": "x"}', LockRecord(pid=7)),
    ],
)
def test_record_parsing(text: str, expected: LockRecord | None) -> None:
    assert LockRecord.parse(text) == expected


def test_record_round_trip() -> None:
    record = LockRecord(pid=99, started_at="2026-01-01T00:00:00+00:00", create_time=5.5)
    assert LockRecord.parse(record.to_text()) == record


def test_is_alive() -> None:
    assert is_alive(LockRecord(pid=os.getpid()))
    assert is_alive(LockRecord(pid=os.getpid(), create_time=psutil.Process().create_time()))
    assert not is_alive(LockRecord(pid=os.getpid(), create_time=1.0))
    assert not is_alive(LockRecord(pid=_dead_pid()))


def test_message_for_a_holder_still_starting(tmp_path: Path) -> None:
    err = InstanceLockedError(tmp_path / "l", None, None)
    assert "still starting" in str(err)
