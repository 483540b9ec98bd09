"""How long a ledger write waits for another connection's write lock.

Owns: `LockWait` — the busy timeout the next statement should run with. At most `LOCK_WAIT_S`
(the daemon lowers it to half its LEDGER_FAILURE_GRACE_S, so the first write that meets a lock
reports its failure well within the grace). Once a write has failed for such a lock (a
`sqlite3` shell or a backup tool holding a write transaction), only `LOCKED_OUT_WAIT_S` until a
write gets through again: writes queued behind each other, each waiting out the full timeout,
would hold the engine, and with it the safe stop, for many times the grace (~45 s with a
grace of 2 s before this existed). A lock released meanwhile is found by the next write (the
engine's ledger watch probes every LEDGER_CHECK_S). Also `is_lock_error`.
Pure: `Database` applies the value (`PRAGMA busy_timeout`) when it changes.
Imports: stdlib only.
"""

from __future__ import annotations

import sqlite3

LOCK_WAIT_S = 5.0
LOCKED_OUT_WAIT_S = 0.05
_LOCK_ERRORS = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def is_lock_error(exc: BaseException) -> bool:
    """SQLite gave up waiting for another connection's lock ("database is locked")."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _LOCK_ERRORS  # the primary result code


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class LockWait:
    """Write outcomes in, the busy timeout to apply out."""

    def __init__(self) -> None:
        self.limit_ms = _ms(LOCK_WAIT_S)  # a write's wait while no lock has defeated one
        self.applied_ms = _ms(LOCK_WAIT_S)  # what the connection has (its opening pragmas)
        self.locked_out = False  # the last write failed for another connection's lock

    def limit(self, seconds: float) -> None:
        """Wait at most `seconds` (never more than `LOCK_WAIT_S`) for a lock."""
        self.limit_ms = max(0, min(_ms(LOCK_WAIT_S), _ms(seconds)))

    def outcome(self, error: BaseException | None) -> None:
        """A write committed (None) or failed with `error`."""
        if error is None:
            self.locked_out = False
        elif is_lock_error(error):
            self.locked_out = True

    def change(self) -> int | None:
        """The busy timeout (ms) to set before the next statement; None: keep it."""
        wanted = min(self.limit_ms, _ms(LOCKED_OUT_WAIT_S)) if self.locked_out else self.limit_ms
        return None if wanted == self.applied_ms else wanted


__all__ = ["LOCKED_OUT_WAIT_S", "LOCK_WAIT_S", "LockWait", "is_lock_error"]
