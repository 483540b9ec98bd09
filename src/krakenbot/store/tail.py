"""Following the ledger as it grows: what was added after a row id, cheaply.

Owns: the incremental reads of the dashboard (and any follower beside a running daemon, on
its own read-only connection): fills and events after a row id, oldest first, by the
primary key (no sort, no table scan however long the ledger), and the newest events to
start from. Imports: store.db/codec/rows, domain; never engine/orders/net.
"""

from __future__ import annotations

from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import LedgerEvent
from krakenbot.store.db import Database
from krakenbot.store.rows import event_from_row, fill_from_row


async def fills_after(db: Database, after_id: int, limit: int) -> list[tuple[int, Fill]]:
    """Up to `limit` fills recorded after row `after_id`, in recorded order, with their ids."""
    rows = await db.fetchall(
        "SELECT * FROM fills WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [(int(r["id"]), fill_from_row(r)) for r in rows]


async def events_after(db: Database, after_id: int, limit: int) -> list[LedgerEvent]:
    """Up to `limit` events recorded after row `after_id`, oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [event_from_row(r) for r in rows]


async def last_events(db: Database, limit: int, kind: str | None = None) -> list[LedgerEvent]:
    """The newest `limit` events (of `kind`), oldest first."""
    where, params = ("WHERE kind = ?", [kind]) if kind is not None else ("", [])
    rows = await db.fetchall(
        f"SELECT * FROM (SELECT * FROM events {where} ORDER BY id DESC LIMIT ?) ORDER BY id",
        [*params, limit],
    )
    return [event_from_row(r) for r in rows]


__all__ = ["events_after", "fills_after", "last_events"]
