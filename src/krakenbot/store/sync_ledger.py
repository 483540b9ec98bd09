"""The backtest's ledger writer: the daemon's write SQL, run straight on a sqlite3 connection.

Owns: `SyncLedgerWriter` — the writes engine/ledger_writes.py carries out (orders, fills,
events, state, metrics, learning rows), each issuing the statements `LedgerRepository`
issues (built by store/ledger_sql.py and store/fills.py, the one source of that SQL) in the
same order with the same values, so the ledger holds the same rows. What it leaves out is
what only a daemon needs: the trip to aiosqlite's thread, the writer's lock and file
checks (store/db.py), reading back and parsing an updated order's row (`RETURNING *`)
that the backtest throws away (an update's answer is not something the core waits for;
an unknown order is still refused, by the row count).

One transaction for the whole run, committed by `commit` (before the ledger is saved or
closed): the rows are the same as when each statement commits on its own, because every
statement is still carried out before the effect after it (an order's row before its send
reaches the venue; a fill's row before the core is told it was written), a failed
statement is undone by SQLite on its own (the transaction stays), and a fill's statements
are all or nothing (a savepoint). Its methods are coroutines that never wait
(store/sync_db.py `run_now` runs them), so engine/ledger_writes.py drives it unchanged.
Imports: sqlite3, store, domain, clock; never engine/orders/net.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Unpack

from krakenbot.clock import Clock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.events import Fill
from krakenbot.store import fills, journal, ledger_sql
from krakenbot.store.ledger_sql import OrderChanges, OrderFacts
from krakenbot.store.one_trip import savepoint
from krakenbot.store.trades import TradesProjection


def _no_file_problems() -> list[str]:
    return []  # the throwaway ledger is in memory while it is written (store/sync_db.py)


class SyncLedgerWriter:
    """Writes on `conn` (migrated, no transaction open) inside one transaction."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock
        self._trades = TradesProjection(fills.load_all)
        conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit what was written (nothing else may be written after)."""
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    # ---- orders ----------------------------------------------------------------------------

    async def add_order(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        await self.insert_order(
            order, tag=tag, reduces_position=reduces_position, created_ns=created_ns
        )

    async def insert_order(
        self, order: PlaceOrder, *, created_ns: int | None = None, **facts: Unpack[OrderFacts]
    ) -> None:
        """`LedgerRepository.insert_order`'s statement, without reading the row back."""
        now = self._clock.now_ns() if created_ns is None else created_ns
        try:
            self._conn.execute(*ledger_sql.order_insert(order, now, **facts))
        except sqlite3.IntegrityError:
            raise ledger_sql.duplicate_order(order.cl_ord_id) from None

    async def update_order(
        self, cl_ord_id: str, *, updated_ns: int | None = None, **changes: Unpack[OrderChanges]
    ) -> None:
        """`LedgerRepository.update_order`'s statement (the same columns, by the same
        names: store/ledger_sql.py `order_update`), without reading the row back."""
        now = self._clock.now_ns() if updated_ns is None else updated_ns
        statement = ledger_sql.order_update(cl_ord_id, now, **changes)
        try:
            changed = self._conn.execute(*statement).rowcount
        except sqlite3.IntegrityError:
            raise ledger_sql.txid_taken(changes.get("txid"), cl_ord_id) from None
        if changed != 1:
            raise ledger_sql.unknown_order(cl_ord_id)

    # ---- fills -----------------------------------------------------------------------------

    async def insert_fill(self, fill: Fill) -> bool:
        now = self._clock.now_ns()
        exchange_ns = fill.exchange_ns or now
        trades = self._trades
        work = savepoint(
            lambda conn: fills.record(conn, fill, now, exchange_ns, trades), _no_file_problems
        )
        try:
            return work(self._conn)
        except sqlite3.IntegrityError as exc:
            trades.forget()
            raise ledger_sql.fill_contradicts(fill, exc) from None
        except BaseException:
            trades.forget()
            raise

    # ---- audit trail, state, metrics, learning data ----------------------------------------

    async def record_event(
        self, kind: str, payload: Mapping[str, object] | None = None, at_ns: int | None = None
    ) -> int | None:
        now = self._clock.now_ns() if at_ns is None else at_ns
        return self._conn.execute(*ledger_sql.event_insert(kind, payload, now)).lastrowid

    async def set_state(self, key: str, value: str) -> None:
        self._conn.execute(*ledger_sql.state_upsert(key, value, self._clock.now_ns()))

    async def record_metrics(self, row: Mapping[str, str], at_ns: int) -> None:
        snapshot = journal.metrics_from_mapping(row, at_ns)
        self._conn.execute(*ledger_sql.metrics_insert(snapshot, at_ns))

    async def open_learning_entry(
        self, cl_ord_id: str, symbol: str, features: Sequence[tuple[str, str]], at_ns: int
    ) -> None:
        self._conn.execute(*ledger_sql.learning_insert(features, cl_ord_id, symbol, at_ns))

    async def close_learning_entry(
        self, cl_ord_id: str, outcome: str, pnl: Decimal, at_ns: int
    ) -> None:
        statement = ledger_sql.outcome_update(
            where=ledger_sql.OPEN_ENTRY_ROWS,
            key=cl_ord_id,
            outcome=outcome,
            profit_loss=pnl,
            ts_ns=at_ns,
        )
        self._conn.execute(*statement)


__all__ = ["SyncLedgerWriter"]
