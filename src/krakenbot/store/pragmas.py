"""How the ledger's connections are set up: the writer's pragmas and a reader's, and why.

Owns: `WRITER_PRAGMAS`, `READ_ONLY_PRAGMAS` (run by store/db.py on every connection it opens).
Imports: store.lock_wait only.
"""

from __future__ import annotations

from krakenbot.store.lock_wait import LOCK_WAIT_S

WRITER_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # NORMAL (sqlite.org/wal): a commit survives a crash of this process or of SQLite, but a
    # power cut or an OS crash may lose the last commits (never corrupt the file). FULL
    # would fsync every commit, ~0.4-4 ms on the order path (benchmarks/bench_engine.py);
    # what a power cut can lose is recovered from the exchange: reconciliation adopts an
    # order of ours it finds by its cl_ord_id, and a fill comes back from trade history
    # (tests/integration/engine/test_engine_recovery.py, the power-cut test; README).
    "PRAGMA synchronous=NORMAL",
    "PRAGMA wal_autocheckpoint=0",  # checkpoints off the writer's path: store/checkpoint.py
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}",
)
# A reader changes nothing: no journal mode (the writer's), no foreign keys to enforce.
READ_ONLY_PRAGMAS = ("PRAGMA query_only=ON", f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")


__all__ = ["READ_ONLY_PRAGMAS", "WRITER_PRAGMAS"]
