from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from krakenbot.clock import ManualClock
from krakenbot.errors import ConfigError
from krakenbot.store import LATEST_VERSION, Database, migrate, open_ledger
from krakenbot.store.migrations import MIGRATIONS, Migration, current_version

SEED_COLUMNS = {
    "trades": {
        "pair",
        "side",
        "price",
        "volume",
        "timestamp",
        "status",
        "order_id",
        "txid",
        "profit_loss",
        "notes",
    },
    "orders": {
        "order_id",
        "txid",
        "pair",
        "type",
        "ordertype",
        "price",
        "volume",
        "status",
        "timestamp",
        "filled_volume",
        "avg_fill_price",
    },
    "metrics": {
        "timestamp",
        "balance_usd",
        "total_trades",
        "winning_trades",
        "total_profit_loss",
        "daily_profit_loss",
    },
    "learning_data": {"timestamp", "feature_data", "outcome", "profit_loss"},
    "fills": {"trade_id"},
    "events": {"kind", "payload", "timestamp"},
    "state": {"key", "value"},
}

V2 = Migration(2, "add_note_column", ("ALTER TABLE state ADD COLUMN note TEXT",))


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


async def test_new_database_gets_the_full_schema(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "trading.db"
    db = await Database.open(path)
    try:
        result = await migrate(db, clock)
        assert (result.from_version, result.to_version, result.backup_path) == (
            0,
            LATEST_VERSION,
            None,
        )
        assert result.applied == LATEST_VERSION
        assert await current_version(db) == LATEST_VERSION
    finally:
        await db.close()
    for table, columns in SEED_COLUMNS.items():
        found = await asyncio.to_thread(_columns, path, table)
        assert columns <= found, table
    assert await asyncio.to_thread(lambda: list(tmp_path.glob("*.bak"))) == []


async def test_migrating_again_does_nothing(tmp_path: Path, clock: ManualClock) -> None:
    db = await open_ledger(tmp_path / "trading.db", clock)
    try:
        result = await migrate(db, clock)
        assert result.applied == 0 and result.backup_path is None
    finally:
        await db.close()


async def test_existing_ledger_is_backed_up_before_migrating(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "trading.db"
    db = await open_ledger(path, clock)
    try:
        async with db.transaction():
            await db.execute(
                "INSERT INTO state (key, value, updated_at, updated_ns) VALUES ('k', 'v', 't', 0)"
            )
        result = await migrate(db, clock, (*MIGRATIONS, V2))
        assert (result.from_version, result.to_version) == (1, 2)
        assert result.backup_path is not None
        assert result.backup_path.parent == tmp_path
        assert result.backup_path.name == "trading.db.v1-20260101T000000Z.bak"
        assert await current_version(db) == 2
    finally:
        await db.close()
    backup = await Database.open(result.backup_path)
    try:
        assert await current_version(backup) == 1
        row = await backup.fetchone("SELECT value FROM state WHERE key = 'k'")
        assert row is not None and row[0] == "v"
    finally:
        await backup.close()
    assert "note" in await asyncio.to_thread(_columns, path, "state")


async def test_a_failing_migration_changes_nothing(tmp_path: Path, clock: ManualClock) -> None:
    db = await open_ledger(tmp_path / "trading.db", clock)
    broken = Migration(2, "broken", ("CREATE TABLE extra (x)", "THIS IS NOT SQL"))
    try:
        with pytest.raises(sqlite3.OperationalError):
            await migrate(db, clock, (*MIGRATIONS, broken))
        assert await current_version(db) == 1
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 'extra'") is None
        # A second attempt backs up again without overwriting the first copy.
        with pytest.raises(sqlite3.OperationalError):
            await migrate(db, clock, (*MIGRATIONS, broken))
    finally:
        await db.close()
    backups = await asyncio.to_thread(lambda: list(tmp_path.glob("trading.db.v1-*.bak")))
    assert len(backups) == 2


async def test_unversioned_database_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "old.db"

    def make_old() -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY, pair TEXT)")

    await asyncio.to_thread(make_old)
    with pytest.raises(ConfigError, match="not a krakenbot ledger"):
        await open_ledger(path, clock)


async def test_newer_database_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "trading.db"
    db = await open_ledger(path, clock)
    try:
        await migrate(db, clock, (*MIGRATIONS, V2))
        with pytest.raises(ConfigError, match="newer"):
            await migrate(db, clock)
    finally:
        await db.close()


async def test_migrations_must_be_numbered_in_order(db: Database, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="numbered"):
        await migrate(db, clock, (V2,))
