"""Fixtures for the ledger tests: a migrated database in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from krakenbot.clock import ManualClock
from krakenbot.store import Database, LedgerRepository, open_ledger


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_ns=1_767_225_600_000_000_000)  # 2026-01-01T00:00:00Z


@pytest.fixture
async def db(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Database]:
    database = await open_ledger(tmp_path / "trading.db", clock)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def repo(db: Database, clock: ManualClock) -> LedgerRepository:
    return LedgerRepository(db, clock)
