"""Per-key shared state on disk under an OS file lock: nonce high-water mark + rate counters.

Owns: the state file (one per API-key fingerprint) and its lock. Every krakenbot process
using a key takes the lock for the whole life of a private request, so for one key at most
one private request is in flight on this machine and nonces reach Kraken in order; the
nonce high-water mark and both rate counters are read and written under the same lock.
Must not import: codecs or anything above `net` (the state model is kraken.ratelimit).
Locking: fcntl.flock on POSIX, msvcrt.locking on Windows, on a separate `.lock` file that is
never replaced (the state file itself is replaced atomically with os.replace). Waiting for
the lock polls without blocking the event loop. The state files are a few hundred bytes;
reading/writing them inline costs microseconds, far below one network round trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from krakenbot.errors import ConfigError, TransportError
from krakenbot.kraken.ratelimit import KeyState

logger = logging.getLogger(__name__)

_POLL_S = 0.0005
_POLL_MAX_S = 0.01


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible file name for a key (the key itself never hits the disk)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:20]


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
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


class KeyStateStore:
    """The locked state of one API key; `async with store.locked() as state:` then `save()`."""

    def __init__(self, state_dir: Path, api_key: str, *, lock_timeout_s: float = 30.0) -> None:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the state directory {state_dir}") from exc
        fp = key_fingerprint(api_key)
        self.path = state_dir / f"kraken-key-{fp}.json"
        self._tmp = state_dir / f"kraken-key-{fp}.json.{os.getpid()}.tmp"
        self._lock_path = state_dir / f"kraken-key-{fp}.lock"
        self._lock_timeout_s = lock_timeout_s
        self._fd: int | None = None
        self._held = False
        self.state = KeyState()

    def _lock_fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(self._fd).st_size == 0:
                os.write(self._fd, b"\0")  # msvcrt locks a byte range that must exist
        return self._fd

    async def acquire(self) -> KeyState:
        """Take the OS lock (polling, never blocking the loop) and load the current state."""
        if self._held:
            raise RuntimeError("KeyStateStore lock is not re-entrant")
        fd = self._lock_fd()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._lock_timeout_s
        pause = _POLL_S
        while not _try_lock(fd):
            if loop.time() > give_up:
                raise TransportError(
                    f"the key's state lock stayed busy for {self._lock_timeout_s:g} s "
                    "(another krakenbot process is stuck in a request)"
                )
            await asyncio.sleep(pause)
            pause = min(_POLL_MAX_S, pause * 2)
        self._held = True
        try:
            self.state = self._load()
        except BaseException:
            self.release()
            raise
        return self.state

    def _load(self) -> KeyState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return KeyState()
        try:
            return KeyState.from_json(json.loads(raw))
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            # A corrupt file must not silently reset the nonce to 0: refuse instead.
            raise ConfigError(
                f"the key state file {self.path} is unreadable; move it aside only after "
                "checking that no other krakenbot process is running"
            ) from exc

    def save(self) -> None:
        """Persist atomically (write a temp file, then rename over the old one)."""
        if not self._held:
            raise RuntimeError("save() without holding the lock")
        data = json.dumps(self.state.to_json(), separators=(",", ":")).encode()
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(self._tmp, self.path)

    def release(self) -> None:
        if self._held and self._fd is not None:
            self._held = False
            _unlock(self._fd)

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
