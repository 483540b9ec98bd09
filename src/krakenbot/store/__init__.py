"""The SQLite ledger (aiosqlite): connection, migrations, repository.

Owns: everything that touches the database file. May import domain, ports, errors and clock;
never engine, orders, net or the composition root. Typical use::

    db = await open_ledger(settings.store().db_path, clock)
    repo = LedgerRepository(db, clock)
    ...
    await db.close()
"""

from krakenbot.store.db import Database
from krakenbot.store.migrations import (
    LATEST_VERSION,
    MigrationResult,
    migrate,
    open_ledger,
    open_ledger_read_only,
)
from krakenbot.store.repository import LedgerRepository

__all__ = [
    "LATEST_VERSION",
    "Database",
    "LedgerRepository",
    "MigrationResult",
    "migrate",
    "open_ledger",
    "open_ledger_read_only",
]
