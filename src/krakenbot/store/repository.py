"""The ledger repository: typed async reads and writes over the migrated SQLite schema.

Owns: `LedgerRepository` — orders (saved before they are sent), fills (each Kraken trade id
exactly once, SQL in store/fills.py; the order's filled volume and the `trades` projection
of the portfolio's round trips, store/trades.py, are updated in the same transaction), the
audit `events`, the `state` key/value store, `metrics` and `learning_data` (SQL in
store/journal.py).
Imports: store, domain, clock, errors; never engine/orders/net. Every write runs inside
`db.transaction()`, so a caller may wrap several calls in one outer transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Unpack

from krakenbot.clock import Clock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import (
    LearningRow,
    LedgerEvent,
    MetricsSnapshot,
    OrderRecord,
    TradeRecord,
)
from krakenbot.domain.portfolio import Portfolio
from krakenbot.errors import InvariantError
from krakenbot.store import fills, journal, ledger_sql
from krakenbot.store.db import Database
from krakenbot.store.rows import event_from_row, order_from_row, trade_from_row
from krakenbot.store.trades import TradesProjection, rewrite

_OPEN_STATUSES = tuple(s.value for s in OrderStatus if not s.is_terminal)


class LedgerRepository:
    """All ledger access for one process. Construct with an open, migrated `Database`."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._trades = TradesProjection(fills.load_all)

    @property
    def db(self) -> Database:
        return self._db

    # ---- orders ----------------------------------------------------------------------------

    async def insert_order(  # column `price`: Kraken's (a limit, or a stop-loss's trigger)
        self,
        order: PlaceOrder,
        *,
        tag: str = "",
        status: OrderStatus = OrderStatus.PENDING_NEW,
        txid: str | None = None,
        reduces_position: bool = False,
        created_ns: int | None = None,
    ) -> OrderRecord:
        """Persist an order *before* it is sent (PENDING_NEW); its cl_ord_id must be new.

        `status` / `txid` are for adopting an order found on the exchange during
        reconciliation, which is recorded as it is there. `created_ns` defaults to now.
        """
        await self._insert_order(
            order, tag=tag, status=status, txid=txid, reduces=reduces_position, at=created_ns
        )
        return await self._must_get(order.cl_ord_id)

    async def add_order(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        """`insert_order` for the persist-then-send path: the row committed in one trip to
        the database thread, nothing read back (see `Database.insert_committed`)."""
        await self._insert_order(
            order,
            tag=tag,
            status=OrderStatus.PENDING_NEW,
            txid=None,
            reduces=reduces_position,
            at=created_ns,
        )

    async def _insert_order(
        self,
        order: PlaceOrder,
        *,
        tag: str,
        status: OrderStatus,
        txid: str | None,
        reduces: bool,
        at: int | None,
    ) -> None:
        now = self._clock.now_ns() if at is None else at
        statement = ledger_sql.order_insert(
            order, now, tag=tag, status=status, txid=txid, reduces_position=reduces
        )
        try:
            await self._db.insert_committed(*statement)
        except sqlite3.IntegrityError:
            raise ledger_sql.duplicate_order(order.cl_ord_id) from None

    async def update_order(
        self,
        cl_ord_id: str,
        *,
        updated_ns: int | None = None,
        **changes: Unpack[ledger_sql.OrderChanges],
    ) -> OrderRecord:
        """Change the given columns of one order (None = leave as is); returns the new row."""
        now = self._clock.now_ns() if updated_ns is None else updated_ns
        sql, params = ledger_sql.order_update(cl_ord_id, now, **changes)
        try:
            # One statement, committed on its own and read back in the same trip.
            rows = await self._db.fetch_committed(f"{sql} RETURNING *", params)
        except sqlite3.IntegrityError:
            raise ledger_sql.txid_taken(changes.get("txid"), cl_ord_id) from None
        if len(rows) != 1:
            raise ledger_sql.unknown_order(cl_ord_id)
        return order_from_row(rows[0])

    async def order_by_cl_ord_id(self, cl_ord_id: str) -> OrderRecord | None:
        row = await self._db.fetchone("SELECT * FROM orders WHERE order_id = ?", (cl_ord_id,))
        return None if row is None else order_from_row(row)

    async def _must_get(self, cl_ord_id: str) -> OrderRecord:
        record = await self.order_by_cl_ord_id(cl_ord_id)
        if record is None:
            raise InvariantError("order vanished from the ledger", cl_ord_id=cl_ord_id)
        return record

    async def order_by_txid(self, txid: str) -> OrderRecord | None:
        row = await self._db.fetchone("SELECT * FROM orders WHERE txid = ?", (txid,))
        return None if row is None else order_from_row(row)

    async def open_orders(self) -> list[OrderRecord]:
        """Orders not in a terminal state (pending_new, open, partially_filled), oldest first."""
        return await self.orders_since(2**63 - 1)  # nothing is created that late

    async def orders_created_since(self, since_ns: int = 0) -> list[OrderRecord]:
        """Every order created at or after `since_ns` (0: all), oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE created_ns >= ? ORDER BY created_ns, id", (since_ns,)
        )
        return [order_from_row(r) for r in rows]

    async def orders_since(self, since_ns: int) -> list[OrderRecord]:
        """Every non-terminal order plus every order created at or after `since_ns`."""
        marks = ", ".join("?" for _ in _OPEN_STATUSES)
        rows = await self._db.fetchall(
            f"""SELECT * FROM orders WHERE status IN ({marks}) OR created_ns >= ?
            ORDER BY created_ns, id""",
            (*_OPEN_STATUSES, since_ns),
        )
        return [order_from_row(r) for r in rows]

    # ---- fills -----------------------------------------------------------------------------

    async def insert_fill(self, fill: Fill) -> bool:
        """Record one execution; False (and nothing changed) if its trade_id is already known.

        In the same transaction: the owning order's filled volume and average price are
        recomputed from its fills, and the pair's round trip in `trades` is opened, grown,
        reduced or closed.
        """
        try:
            return await self._insert_fill(fill)
        except sqlite3.IntegrityError as exc:
            raise ledger_sql.fill_contradicts(fill, exc) from None

    async def _insert_fill(self, fill: Fill) -> bool:
        now = self._clock.now_ns()
        exchange_ns = fill.exchange_ns or now
        nested = self._db.in_transaction()
        try:
            return await self._record_fill(fill, now, exchange_ns)
        except BaseException:
            self._trades.forget()
            raise
        finally:
            if nested:  # the caller's transaction may still roll back
                self._trades.forget()

    async def _record_fill(self, fill: Fill, now: int, exchange_ns: int) -> bool:
        # One transaction in one trip, whole on the connection's thread (store/one_trip.py):
        # it was ~15 trips (each read and write, each cursor's close), all holding the
        # writer's lock and the engine's while the core waited for the fill's row.
        return await self._db.run_atomic(
            lambda conn: fills.record(conn, fill, now, exchange_ns, self._trades)
        )

    async def fills_for_order(self, cl_ord_id: str) -> list[Fill]:
        """The recorded executions of one of our orders, in exchange time order."""
        return await fills.for_order(self._db, cl_ord_id)

    async def load_fills(self, since_ns: int = 0) -> list[Fill]:
        """Every recorded fill executed at or after `since_ns`, in the order they were
        recorded: the order the engine applied them, so a portfolio rebuilt from them is
        the one the engine had (a fill found late by reconciliation came late there too)."""
        return await fills.load(self._db, since_ns)

    async def load_portfolio(self) -> Portfolio:
        """Positions and PnL from every recorded fill (what a stopped daemon reports)."""
        return Portfolio(await self.load_fills())

    # ---- round trips: the `trades` projection ---------------------------------------------

    async def rebuild_trades(self) -> None:
        """Rewrite `trades` from every recorded fill (at start-up)."""
        self._trades.forget()
        await self._db.run_atomic(lambda conn: rewrite(conn, fills.load_all(conn)))

    async def trades(self) -> list[TradeRecord]:
        """The `trades` rows, oldest round trip first."""
        rows = await self._db.fetchall("SELECT * FROM trades ORDER BY id")
        return [trade_from_row(r) for r in rows]

    # ---- audit trail, state ----------------------------------------------------------------

    async def record_event(
        self, kind: str, payload: Mapping[str, object] | None = None, at_ns: int | None = None
    ) -> int:
        """Append to the audit trail (at `at_ns`, default now); returns the event id."""
        now = self._clock.now_ns() if at_ns is None else at_ns
        # one trip (store/one_trip.py)
        return await self._db.insert_committed(*ledger_sql.event_insert(kind, payload, now))

    async def events(self, kind: str | None = None, *, limit: int = 100) -> list[LedgerEvent]:
        """The most recent events (optionally of one kind), oldest first."""
        where, params = ("WHERE kind = ?", [kind]) if kind is not None else ("", [])
        rows = await self._db.fetchall(
            f"SELECT * FROM (SELECT * FROM events {where} ORDER BY ts_ns DESC, id DESC LIMIT ?)"
            " ORDER BY ts_ns, id",
            [*params, limit],
        )
        return [event_from_row(r) for r in rows]

    async def get_state(self, key: str) -> str | None:
        row = await self._db.fetchone("SELECT value FROM state WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def set_state(self, key: str, value: str) -> None:
        now = self._clock.now_ns()
        # one trip (store/one_trip.py)
        await self._db.execute_committed(*ledger_sql.state_upsert(key, value, now))

    # ---- metrics, learning data ------------------------------------------------------------

    async def record_metrics(self, row: Mapping[str, str], at_ns: int) -> None:
        """One `metrics` row from text values keyed by column name (balance_usd, …)."""
        await journal.insert_metrics(self._db, journal.metrics_from_mapping(row, at_ns), at_ns)

    async def latest_metrics(self) -> MetricsSnapshot | None:
        return await journal.latest_metrics(self._db)

    async def open_learning_entry(
        self, cl_ord_id: str, symbol: str, features: Sequence[tuple[str, str]], at_ns: int
    ) -> None:
        """A `learning_data` row for an entry order (features as name/value text pairs)."""
        await journal.insert_learning(self._db, features, cl_ord_id, symbol, at_ns)

    async def close_learning_entry(
        self, cl_ord_id: str, outcome: str, pnl: Decimal, at_ns: int
    ) -> None:
        """Set the outcome of the open learning rows of entry order `cl_ord_id` (if any)."""
        await journal.set_outcome(
            self._db,
            where=ledger_sql.OPEN_ENTRY_ROWS,
            key=cl_ord_id,
            outcome=outcome,
            profit_loss=pnl,
            ts_ns=at_ns,
        )

    async def learning_rows_for_order(self, cl_ord_id: str) -> list[LearningRow]:
        return await journal.learning_rows(self._db, "order_id = ?", cl_ord_id)
