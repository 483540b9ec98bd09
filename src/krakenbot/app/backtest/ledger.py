"""The backtest's throwaway ledger: the live schema, written by the live code, synchronously.

Owns: `ThrowawayLedger` — a new SQLite ledger (store/sync_db.py: the daemon's schema and
migrations over a plain sqlite3 connection, no event loop), written effect by effect
through engine/ledger_writes.py (what the live executor runs) by store/sync_ledger.py's
writer (the repository's SQL, run straight on the connection, in one transaction), each
write finished before the loop carries out the next effect: an order's row is in the
ledger before its send reaches the backtest venue, a fill's before the core hears it
was written. The database lives in memory while the run writes it and is
saved to `path` when it closes (store/sync_db.py says why that is safe for a throwaway
ledger: the same writes in the same order; the per-statement file checks and page writes
were most of a write's cost). Its clock is the backtest's virtual one, so every row carries
market time. `trades`, `orders` and `profit --db FILE` read the saved file like the daemon's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from krakenbot.clock import ManualClock
from krakenbot.domain.effects import LedgerEffect
from krakenbot.engine.ledger_writes import write_effect
from krakenbot.store.sync_db import (
    close_sync_ledger,
    open_sync_writer,
    run_now,
    save_sync_ledger,
)


class ThrowawayLedger:
    def __init__(self, path: Path, start_ns: int) -> None:
        self.path = path
        self.clock = ManualClock(start_ns)
        self.db, self.writer = open_sync_writer(path, self.clock, in_memory=str(path) != ":memory:")
        self.writes = 0

    def write(self, effect: LedgerEffect, now_ns: int) -> object:
        self.clock.set_wall_ns(now_ns)
        self.writes += 1
        return run_now(write_effect(self.writer, effect))

    def record(self, kind: str, payload: Mapping[str, str], at_ns: int) -> None:
        """An audit row of the backtest's own (what ran, on what data)."""
        self.clock.set_wall_ns(at_ns)
        run_now(self.writer.record_event(kind, payload, at_ns))

    def close(self) -> None:
        """Save the ledger to its file (unless it is an in-memory one) and close it."""
        try:
            self.writer.commit()
            if self.db.path != self.path:
                save_sync_ledger(self.db, self.path)
        finally:
            close_sync_ledger(self.db)


class MemoryLedger:
    """No file: what a sweep's combinations write to (their ledgers are not kept). Same
    writes, same code, in an in-memory SQLite database."""

    def __init__(self, start_ns: int) -> None:
        self._inner = ThrowawayLedger(Path(":memory:"), start_ns)

    def write(self, effect: LedgerEffect, now_ns: int) -> object:
        return self._inner.write(effect, now_ns)

    def close(self) -> None:
        self._inner.close()


__all__ = ["MemoryLedger", "ThrowawayLedger"]
