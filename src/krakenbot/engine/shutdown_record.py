"""Where the shutdown records a protective stop before it is sent. Part of the shutdown's
cover (engine/shutdown_cover.py), split out for size.

Owns: `Record` and `recordable(runner)`: the ledger when it can be written (one more write is
tried when it is failing: a locked ledger may be free again), else the order journal when a
probe record can be written there (store/orderjournal.py), else nowhere.
Imports: engine. Must not import: net, store, app.
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from krakenbot.engine.services import LEDGER_PROBE_KEY

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

logger = logging.getLogger(__name__)
_PROBE_S = 1.0


class Record(StrEnum):
    """Where a new protective stop is recorded before it is sent."""

    LEDGER = "ledger"
    JOURNAL = "journal"


async def recordable(r: EngineRunner) -> Record | None:
    """Where a new stop can be recorded now: the ledger, else the order journal, else
    nowhere (each tried with one small write)."""
    if r.ledger.failing is None or await _ledger_back(r):
        return Record.LEDGER
    if r.journal is None:
        return None
    try:
        await r.journal.probe()
    except Exception as exc:
        logger.error("shutdown: the order journal cannot be written", extra={"error": repr(exc)})
        r.last_error = f"order journal: {exc!r}"
        return None
    return Record.JOURNAL


async def _ledger_back(r: EngineRunner) -> bool:
    """One more ledger write: a locked ledger may be free again (its success clears the
    watch's failure). Waited for `_PROBE_S` at most — a locked SQLite file holds a write for
    its 5 s busy timeout — and never cut: a late success only means the stops after it go
    to the ledger again."""
    probe: asyncio.Future[object] = asyncio.ensure_future(_probe(r))
    r.inflight.add(probe)  # the ledger is not closed under it (`quiesce`)
    probe.add_done_callback(r.inflight.discard)
    probe.add_done_callback(_settled)
    done, _ = await asyncio.wait({probe}, timeout=_PROBE_S)
    return probe in done and not probe.cancelled() and probe.exception() is None


async def _probe(r: EngineRunner) -> object:
    await r.repo.set_state(LEDGER_PROBE_KEY, str(r.clock.now_ns()))
    return None


def _settled(task: asyncio.Future[object]) -> None:
    """Its failure (the ledger watch has counted it) retrieved, and said."""
    if not task.cancelled() and task.exception() is not None:
        logger.warning("shutdown: the ledger still cannot be written")


__all__ = ["Record", "recordable"]
