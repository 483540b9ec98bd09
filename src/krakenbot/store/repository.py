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
from dataclasses import replace
from decimal import Decimal

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
from krakenbot.store import fills, journal
from krakenbot.store.codec import (
    dec_to_text,
    ns_to_iso,
    opt_dec_to_text,
    to_json,
)
from krakenbot.store.db import Database, Param
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
        stamp = ns_to_iso(now)  # once: `timestamp` and `updated_at` (strftime is not cheap)
        try:
            await self._db.insert_committed(
                """INSERT INTO orders (order_id, txid, pair, type, ordertype, price, volume,
                status, timestamp, filled_volume, avg_fill_price, time_in_force, post_only,
                reduces_position, tag, reason, created_ns, updated_at, updated_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '0', NULL, ?, ?, ?, ?, NULL, ?, ?, ?)""",
                (
                    order.cl_ord_id,
                    txid,
                    order.symbol,
                    order.side.value,
                    order.order_type.value,
                    opt_dec_to_text(order.limit_price or order.trigger_price),
                    dec_to_text(order.qty),
                    status.value,
                    stamp,
                    order.time_in_force.value,
                    int(order.post_only),
                    int(reduces),
                    tag,
                    now,
                    stamp,
                    now,
                ),
            )
        except sqlite3.IntegrityError:
            raise InvariantError(
                "order id (or Kraken txid) already recorded", cl_ord_id=order.cl_ord_id
            ) from None

    async def update_order(
        self,
        cl_ord_id: str,
        *,
        status: OrderStatus | None = None,
        txid: str | None = None,
        filled_volume: Decimal | None = None,
        avg_fill_price: Decimal | None = None,
        reason: str | None = None,
        filled_cost: Decimal | None = None,
        fees: Decimal | None = None,
        venue_cum_qty: Decimal | None = None,
        cancel_requested: bool | None = None,
        updated_ns: int | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> OrderRecord:
        """Change the given columns of one order (None = leave as is); returns the new row."""
        sets: list[str] = []
        params: list[Param] = []
        for column, value in (
            ("volume", opt_dec_to_text(qty)),
            ("price", opt_dec_to_text(price)),
            ("status", None if status is None else status.value),
            ("txid", txid),
            ("filled_volume", opt_dec_to_text(filled_volume)),
            ("avg_fill_price", opt_dec_to_text(avg_fill_price)),
            ("reason", reason),
            ("filled_cost", opt_dec_to_text(filled_cost)),
            ("fees", opt_dec_to_text(fees)),
            ("venue_cum_qty", opt_dec_to_text(venue_cum_qty)),
            ("cancel_requested", None if cancel_requested is None else int(cancel_requested)),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        now = self._clock.now_ns() if updated_ns is None else updated_ns
        sets += ["updated_at = ?", "updated_ns = ?"]
        params += [ns_to_iso(now), now, cl_ord_id]
        try:
            # One statement, committed on its own and read back in the same trip.
            rows = await self._db.fetch_committed(
                f"UPDATE orders SET {', '.join(sets)} WHERE order_id = ? RETURNING *", params
            )
        except sqlite3.IntegrityError:
            raise InvariantError(
                f"txid {txid} already belongs to another order", cl_ord_id=cl_ord_id
            ) from None
        if len(rows) != 1:
            raise InvariantError("update of an order the ledger does not know", cl_ord_id=cl_ord_id)
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
            # e.g. the fill names a Kraken txid that another of our orders already has.
            raise InvariantError(
                f"fill {fill.trade_id} contradicts the ledger: {exc}", cl_ord_id=fill.cl_ord_id
            ) from None

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
        def record(conn: sqlite3.Connection) -> bool:
            owner = fills.owner_of(conn, fill)
            if not fills.insert(conn, fill, owner, exchange_ns, now):
                return False
            if owner is not None:
                fills.refresh_order_totals(conn, owner, fill.order_id, now)
            trip = replace(fill, cl_ord_id=owner, exchange_ns=exchange_ns)
            self._trades.on_fill(conn, trip)
            return True

        # One transaction in one trip, whole on the connection's thread (store/one_trip.py):
        # it was ~15 trips (each read and write, each cursor's close), all holding the
        # writer's lock and the engine's while the core waited for the fill's row.
        return await self._db.run_atomic(record)

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
        return await self._db.insert_committed(  # one trip (store/one_trip.py)
            "INSERT INTO events (timestamp, ts_ns, kind, payload) VALUES (?, ?, ?, ?)",
            (ns_to_iso(now), now, kind, to_json(payload or {})),
        )

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
        await self._db.execute_committed(  # one trip (store/one_trip.py)
            """INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value,
            updated_at = excluded.updated_at, updated_ns = excluded.updated_ns""",
            (key, value, ns_to_iso(now), now),
        )

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
            where="order_id = ? AND outcome IS NULL",
            key=cl_ord_id,
            outcome=outcome,
            profit_loss=pnl,
            ts_ns=at_ns,
        )

    async def learning_rows_for_order(self, cl_ord_id: str) -> list[LearningRow]:
        return await journal.learning_rows(self._db, "order_id = ?", cl_ord_id)
