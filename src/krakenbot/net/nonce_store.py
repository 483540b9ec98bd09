"""Per-key shared state on disk under an OS file lock: nonce high-water mark + rate counters.

Owns: the state file (one per API-key fingerprint) and its lock. Every krakenbot process
using a key takes the lock for the whole life of a private request, so for one key at most
one private request is in flight on this machine and nonces reach Kraken in order; the
nonce high-water mark and both rate counters are read and written under the same lock.
Must not import: codecs or anything above `net` (the state model is kraken.ratelimit).
Locking: fcntl.flock on POSIX, msvcrt.locking on Windows, on a separate `.lock` file.
Waiting for the lock polls without blocking the event loop.
Releasing after a request (`release_soon`) waits for the end of the loop turn, so the
unlock's system call is off the order's path; a request of ours that takes the lock again
before then keeps holding it and skips the reload (nobody else can have written meanwhile).
Atomic persistence without a rename per request (a rename costs ~0.25 ms on ext4, a
quarter of a loopback round trip): the state file holds two fixed-size slots, each
`<seq> <crc32> <json>` padded with spaces; a save overwrites the older slot with one
pwrite, and a load takes the valid slot with the higher sequence number. A torn write can
only damage the slot being written, so the previous state always survives. Once both slots
exist a save writes only the slot's text (the padding and an older, longer text's tail stay
behind it, never read: the text carries its own length).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import zlib
from pathlib import Path

import orjson

from krakenbot.errors import ConfigError, TransportError
from krakenbot.kraken.ratelimit import KeyState

logger = logging.getLogger(__name__)

_POLL_S = 0.0005
_POLL_MAX_S = 0.01
SLOT_BYTES = 2048


def slot_text(seq: int, state: KeyState) -> bytes:
    """`<seq> <crc32> <length> <json>`: all of a slot that is ever read (the length says
    where it ends; whatever follows in the slot is never looked at)."""
    payload = orjson.dumps(state.to_json())
    text = b"%d %d %d %s" % (seq, zlib.crc32(payload), len(payload), payload)
    if len(text) >= SLOT_BYTES:
        raise ValueError("key state too large for its slot")
    return text


def encode_slot(seq: int, state: KeyState) -> bytes:
    """`slot_text` padded with spaces to SLOT_BYTES."""
    return slot_text(seq, state).ljust(SLOT_BYTES - 1) + b"\n"


def decode_slot(raw: bytes) -> tuple[int, KeyState] | None:
    """(seq, state) from one slot, or None when it is empty or torn."""
    try:
        # Explicit length: never scan the padding (that would cost more than the load).
        seq_text, crc_text, len_text, rest = raw.split(b" ", 3)
        payload = rest[: int(len_text)]
        if len(payload) != int(len_text) or zlib.crc32(payload) != int(crc_text):
            return None
        return int(seq_text), KeyState.from_json(orjson.loads(payload))
    except (ValueError, TypeError, KeyError, IndexError, orjson.JSONDecodeError):
        return None


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible file name for a key (the key itself never hits the disk)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:20]


def state_file(state_dir: Path, api_key: str) -> Path:
    """The key's state file in `state_dir` (its lock file sits next to it)."""
    return state_dir / f"kraken-key-{key_fingerprint(api_key)}.state"


def peek_high_water(path: Path) -> int:
    """The nonce high-water mark recorded in a state file, read without its lock (0 when the
    file is absent or unreadable): for carrying over a state left in an older location."""
    try:
        raw = path.read_bytes()[: 2 * SLOT_BYTES]
    except OSError:
        return 0
    slots = [decode_slot(raw[i : i + SLOT_BYTES]) for i in (0, SLOT_BYTES)]
    return max((slot[1].nonce_high_water for slot in slots if slot is not None), default=0)


if hasattr(os, "pread"):

    def _read_at(fd: int, size: int, offset: int) -> bytes:
        return os.pread(fd, size, offset)  # one system call instead of lseek + read

    def _write_at(fd: int, data: bytes, offset: int) -> None:
        os.pwrite(fd, data, offset)

else:  # Windows

    def _read_at(fd: int, size: int, offset: int) -> bytes:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)

    def _write_at(fd: int, data: bytes, offset: int) -> None:
        os.lseek(fd, offset, os.SEEK_SET)
        os.write(fd, data)


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
        self.path = state_file(state_dir, api_key)
        self._lock_path = self.path.with_suffix(".lock")
        self._lock_timeout_s = lock_timeout_s
        self._fd: int | None = None
        self._state_fd: int | None = None
        self._held = False
        self._lingering = False  # held only until the loop's next turn (release_soon)
        self._seq = 0
        # The file's bytes as of our last load or save: a read that returns them unchanged
        # means nobody else wrote, and the state in memory is current (one compare, no parse).
        self._image: bytearray | None = None
        self.state = KeyState()

    def _lock_fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(self._fd).st_size == 0:
                os.write(self._fd, b"\0")  # msvcrt locks a byte range that must exist
        return self._fd

    def try_acquire(self) -> KeyState | None:
        """Take the OS lock if it is free and load the current state; None when another
        process holds it (no await: the uncontended case costs no trip through the loop)."""
        if self._held:
            if self._lingering:
                # Still ours since our last load or save: every writer holds this lock, so
                # the state in memory is the file's (no system call, no reload).
                self._lingering = False
                return self.state
            raise RuntimeError("KeyStateStore lock is not re-entrant")
        if not _try_lock(self._lock_fd()):
            return None
        self._held = True
        try:
            self.state = self._load()
        except BaseException:
            self.release()
            raise
        return self.state

    async def acquire(self) -> KeyState:
        """Take the OS lock (polling, never blocking the loop) and load the current state."""
        state = self.try_acquire()
        if state is not None:
            return state
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._lock_timeout_s
        pause = _POLL_S
        while True:
            if loop.time() > give_up:
                raise TransportError(
                    f"the key's state lock stayed busy for {self._lock_timeout_s:g} s "
                    "(another krakenbot process is stuck in a request)"
                )
            await asyncio.sleep(pause)
            pause = min(_POLL_MAX_S, pause * 2)
            state = self.try_acquire()
            if state is not None:
                return state

    def _data_fd(self) -> int:
        if self._state_fd is None:
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
            self._state_fd = os.open(self.path, flags, 0o600)
        return self._state_fd

    def _load(self) -> KeyState:
        raw = _read_at(self._data_fd(), 2 * SLOT_BYTES, 0)
        if not raw:
            self._seq, self._image = 0, None
            return KeyState()
        image: bytes | bytearray | None = self._image  # compared as bytes (one memcmp)
        if image == raw:
            # Nobody wrote since our own last load/save: the state in memory is current
            # (in-memory changes since are decay or more conservative folds only).
            return self.state
        slots = [decode_slot(raw[i : i + SLOT_BYTES]) for i in (0, SLOT_BYTES)]
        valid = [slot for slot in slots if slot is not None]
        if not valid:
            # A corrupt file must not silently reset the nonce to 0: refuse instead.
            raise ConfigError(
                f"the key state file {self.path} is unreadable; move it aside only after "
                "checking that no other krakenbot process is running"
            )
        self._seq, state = max(valid, key=lambda slot: slot[0])
        self._image = bytearray(raw)  # kept up to date in place by `save`
        return state

    def save(self) -> None:
        """Persist: overwrite the older of the two slots (see module docstring)."""
        if not self._held:
            raise RuntimeError("save() without holding the lock")
        self._seq += 1
        offset = (self._seq % 2) * SLOT_BYTES
        image, self._image = self._image, None  # unknown until the write has gone through
        if image is not None and len(image) == 2 * SLOT_BYTES:
            # Both slots exist: only the text is written (a few hundred bytes, not the
            # slot's 2 KB); what stays after it in the slot is never read.
            data = slot_text(self._seq, self.state)
        else:
            data = encode_slot(self._seq, self.state)
            image = bytearray(image or b"")
            if len(image) < offset:
                image.extend(bytes(offset - len(image)))  # what a read of the file's hole gives
        _write_at(self._data_fd(), data, offset)
        image[offset : offset + len(data)] = data  # the file's bytes, without a copy
        self._image = image

    def release(self) -> None:
        self._lingering = False
        if self._held and self._fd is not None:
            self._held = False
            _unlock(self._fd)

    def release_soon(self) -> None:
        """`release` at the event loop's next turn (the state must be saved already): after
        the caller that awaited this request has run, unless a request of ours takes the lock
        back first (`try_acquire`). Another process waits one loop turn longer at most."""
        if self._held and not self._lingering:
            self._lingering = True
            asyncio.get_running_loop().call_soon(self._linger_over)

    def _linger_over(self) -> None:
        if self._lingering:  # else taken back (and released again later) or released
            self.release()

    def close(self) -> None:
        self.release()
        for fd in (self._fd, self._state_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._state_fd = None
