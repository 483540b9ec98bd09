"""The dashboard's read side of the ledger: a follower on its own read-only connection.

Owns: `LedgerFollower` — opens the daemon's ledger read-only (store/db.py: SQLite's
`mode=ro`, WAL: it never blocks the daemon's one writer, which keeps its own connection and
thread), and on each `read()` takes only what was added since the last (fills and events
after the last row id seen, store/tail.py) plus the open orders, keeping the newest rows in
bounded deques and the realized-PnL curve up to date. A failed read keeps the last view and
says why; the next read tries again (reopening the connection).
Imports: anything (composition root).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import replace
from pathlib import Path

from krakenbot.app.dashboard_snapshot import EquityCurve, LedgerView
from krakenbot.clock import Clock
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import LedgerEvent
from krakenbot.store import Database, LedgerRepository, open_ledger_read_only
from krakenbot.store.tail import events_after, fills_after, last_events

logger = logging.getLogger(__name__)

BATCH = 1000
KEEP_FILLS = 50
KEEP_EVENTS = 100
KEEP_DENIALS = 30


class LedgerFollower:
    def __init__(self, path: Path, clock: Clock) -> None:
        self._path = path
        self._clock = clock
        self._db: Database | None = None
        self._fill_id = 0
        self._event_id: int | None = None  # None: start from the newest events
        self._fills: deque[Fill] = deque(maxlen=KEEP_FILLS)
        self._events: deque[LedgerEvent] = deque(maxlen=KEEP_EVENTS)
        self._denials: deque[LedgerEvent] = deque(maxlen=KEEP_DENIALS)
        self._state_change: LedgerEvent | None = None
        self.curve = EquityCurve()
        self.view = LedgerView()

    async def read(self) -> bool:
        """Catch up with the ledger; True when the realized-PnL curve changed."""
        try:
            if self._db is None:
                self._db = await open_ledger_read_only(self._path)
            db = self._db
            changed = False
            while True:
                batch = await fills_after(db, self._fill_id, BATCH)
                if batch:
                    self._fill_id = batch[-1][0]
                    fills = [f for _, f in batch]
                    self._fills.extend(fills)
                    changed = self.curve.add(fills) or changed
                if len(batch) < BATCH:
                    break
            await self._read_events(db)
            orders = await LedgerRepository(db, self._clock).open_orders()
        except Exception as exc:  # the dashboard must not fail with the ledger: say why
            await self.close()
            self.view = replace(self.view, error=f"ledger unreadable: {exc}")
            return False
        self.view = LedgerView(
            open_orders=tuple(orders),
            fills=tuple(self._fills),
            events=tuple(self._events),
            denials=tuple(self._denials),
            state_change=self._state_change,
        )
        return changed

    async def _read_events(self, db: Database) -> None:
        if self._event_id is None:
            self._denials.extend(await last_events(db, KEEP_DENIALS, "risk_denied"))
            changes = await last_events(db, 1, "trading_state")
            self._state_change = changes[-1] if changes else None
            found = await last_events(db, KEEP_EVENTS)
        else:
            found = await events_after(db, self._event_id, BATCH)
            self._denials.extend(e for e in found if e.kind == "risk_denied")
            for event in found:
                if event.kind == "trading_state":
                    self._state_change = event
        self._events.extend(found)
        if found:
            self._event_id = found[-1].id
        elif self._event_id is None:
            self._event_id = 0

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                await db.close()
            except Exception as exc:
                logger.warning(
                    "dashboard: closing the ledger reader failed", extra={"error": str(exc)}
                )


__all__ = ["LedgerFollower"]
