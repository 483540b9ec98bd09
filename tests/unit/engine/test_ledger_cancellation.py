"""The engine stops services by cancelling them; a writer cancelled while its BEGIN waits
in aiosqlite's queue must not leave the shared connection inside a transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from krakenbot.clock import ManualClock
from krakenbot.store import LedgerRepository, open_ledger


async def test_writer_cancelled_at_begin_leaves_the_ledger_usable(tmp_path: Path) -> None:
    clock = ManualClock()
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    try:
        for _ in range(20):
            task = asyncio.ensure_future(repo.set_state("k", "v"))
            await asyncio.sleep(0)  # the task is now awaiting its BEGIN
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await repo.set_state("other", "x")  # must not hit an open transaction
        assert await repo.get_state("other") == "x"
    finally:
        await db.close()
