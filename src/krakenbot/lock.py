"""Single instance: an OS-level lock on `.trading_lock` so two daemons never trade one account.

Owns: `InstanceLock` (acquire / release / context manager), the lock record (PID + start
time) written into the lock file, stale-lock takeover and `InstanceLockedError` (exit status
3). Composition root: it may import anything; psutil is used only to tell a live holder from a
dead one.

Why both an OS lock and a PID record: the OS lock (fcntl on POSIX, msvcrt on Windows) is
released by the kernel whenever the holder dies, however it dies, so it can never go stale; the
record names the holder for the operator, and it also catches an older krakenbot that only
wrote a PID file without locking it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import psutil

from krakenbot.clock import Clock, SystemClock
from krakenbot.errors import KrakenbotError

logger = logging.getLogger(__name__)

EXIT_LOCKED = 3
# Windows locks byte ranges and forbids reading a locked range, so lock a byte far past the
# record instead of the record itself.
_WIN_LOCK_OFFSET = 1 << 30
# psutil's create_time and the one we recorded can differ by float rounding only.
_CREATE_TIME_TOLERANCE_S = 1.0


class InstanceLockedError(KrakenbotError):
    """Another krakenbot holds the lock: refuse to start."""

    exit_status = EXIT_LOCKED

    def __init__(self, path: Path, pid: int | None, started_at: str | None) -> None:
        holder = f"PID {pid}" if pid is not None else "a process that is still starting"
        since = f", started {started_at}" if started_at else ""
        super().__init__(
            f"another krakenbot is already running ({holder}{since}); it holds {path}. "
            "Stop it first (or wait for it to exit)."
        )
        self.path = path
        self.pid = pid
        self.started_at = started_at


@dataclass(frozen=True, slots=True)
class LockRecord:
    pid: int
    started_at: str | None = None  # UTC ISO-8601, for people
    create_time: float | None = None  # psutil's process creation time, to detect PID reuse

    def to_text(self) -> str:
        return json.dumps(
            {"pid": self.pid, "started_at": self.started_at, "create_time": self.create_time}
        )

    @staticmethod
    def parse(text: str) -> LockRecord | None:
        """Our JSON record, or a bare PID as older PID-file tools write it; None if unreadable."""
        text = text.strip()
        if not text:
            return None
        if text.isdigit():
            return LockRecord(pid=int(text))
        try:
            doc = json.loads(text)
            pid = doc["pid"]
            started = doc.get("started_at")
            created = doc.get("create_time")
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return None
        return LockRecord(
            pid=pid,
            started_at=started if isinstance(started, str) else None,
            create_time=float(created) if isinstance(created, int | float) else None,
        )


def is_alive(record: LockRecord) -> bool:
    """Whether the process a record names still runs (and is the same process, not a reuse)."""
    try:
        proc = psutil.Process(record.pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if record.create_time is not None:
            return abs(proc.create_time() - record.create_time) <= _CREATE_TIME_TOLERANCE_S
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # exists but belongs to someone else: assume the worst
    return True


class InstanceLock:
    """`with InstanceLock(path):` — held for the block, released on every way out of it."""

    def __init__(self, path: Path, *, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._fd: int | None = None
        self.taken_over: LockRecord | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise `InstanceLockedError`; never blocks."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                previous = LockRecord.parse(_read(fd))
                raise InstanceLockedError(
                    self.path,
                    previous.pid if previous else None,
                    previous.started_at if previous else None,
                )
            previous = LockRecord.parse(_read(fd))
            if previous is not None and previous.pid != os.getpid() and is_alive(previous):
                # A live process that named itself here without an OS lock (a PID-file-only
                # tool): still another instance.
                _unlock(fd)
                raise InstanceLockedError(self.path, previous.pid, previous.started_at)
            if previous is not None and previous.pid != os.getpid():
                self.taken_over = previous
                logger.warning(
                    "taking over a lock left by a process that is gone",
                    extra={"lock_file": str(self.path), "stale_pid": previous.pid},
                )
            _write(fd, self._record().to_text())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Clear the record and drop the lock; safe to call more than once."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        finally:
            os.close(fd)

    def _record(self) -> LockRecord:
        started = datetime.fromtimestamp(self._clock.now_ns() / 1e9, UTC)
        return LockRecord(
            pid=os.getpid(),
            started_at=started.isoformat(timespec="seconds"),
            create_time=psutil.Process().create_time(),
        )

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
        if sum(map(len, chunks)) > 65536:
            break
    return b"".join(chunks).decode("utf-8", "replace")


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (text + "\n").encode("utf-8"))
    os.fsync(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
