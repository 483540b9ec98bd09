"""Two real processes contend for `.trading_lock`."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from krakenbot.lock import InstanceLock, LockRecord

HOLDER = """
import sys
from pathlib import Path
from krakenbot.lock import InstanceLock
with InstanceLock(Path(sys.argv[1])):
    print("locked", flush=True)
    line = sys.stdin.readline()
    if line.strip() == "raise":
        raise SystemExit("exiting through an exception")
"""


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}


def _start_holder(lock_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(),
    )
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sel.select(timeout=0.5):
                assert proc.stdout.readline().strip() == "locked"
                return proc
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.kill()
    raise AssertionError("holder did not take the lock within 30 s")


def _krakenbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "test.env"
    env_file.write_text(
        f"LOCK_FILE={tmp_path / '.trading_lock'}\nDATABASE_PATH={tmp_path / 'trading.db'}\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "krakenbot", "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
        timeout=60,
        check=False,
    )


def test_second_instance_exits_3_naming_the_running_pid(tmp_path: Path) -> None:
    lock_path = tmp_path / ".trading_lock"
    holder = _start_holder(lock_path)
    try:
        second = _krakenbot(tmp_path, "db", "migrate")
        assert second.returncode == 3, second.stderr
        assert f"PID {holder.pid}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        holder.communicate("done\n", timeout=30)
    assert holder.returncode == 0
    assert lock_path.read_text(encoding="utf-8") == ""  # released on a normal exit
    third = _krakenbot(tmp_path, "db", "migrate")
    assert third.returncode == 0, third.stderr


def test_lock_is_released_when_the_holder_exits_through_an_exception(tmp_path: Path) -> None:
    lock_path = tmp_path / ".trading_lock"
    holder = _start_holder(lock_path)
    holder.communicate("raise\n", timeout=30)
    assert holder.returncode == 1
    with InstanceLock(lock_path) as lock:
        assert lock.taken_over is None


def test_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    lock_path = tmp_path / ".trading_lock"
    holder = _start_holder(lock_path)
    holder.kill()  # SIGKILL: no cleanup code runs, the OS drops the lock
    holder.communicate(timeout=30)
    left = LockRecord.parse(lock_path.read_text(encoding="utf-8"))
    assert left is not None and left.pid == holder.pid
    with InstanceLock(lock_path) as lock:
        assert lock.taken_over is not None and lock.taken_over.pid == holder.pid
