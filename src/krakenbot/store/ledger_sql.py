"""The ledger's write statements: each one's SQL and its parameters, built in one place.

Owns: the statement builders for the rows the engine writes (an order's insert and update,
an audit event, a state key, a metrics row, a learning row and its outcome). Each returns
`(sql, params)` and runs nothing: `LedgerRepository` (store/repository.py, the daemon's,
through aiosqlite) and the backtest's synchronous writer (store/sync_ledger.py) both run
these, so the two ledgers are written by the same SQL with the same values.
Imports: store.codec/one_trip, domain, stdlib; never engine/orders/net.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TypedDict, Unpack

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import MetricsSnapshot
from krakenbot.errors import InvariantError
from krakenbot.store.codec import dec_to_text, ns_to_iso, opt_dec_to_text, to_json
from krakenbot.store.one_trip import Param, Statement

_ORDER_INSERT = """INSERT INTO orders (order_id, txid, pair, type, ordertype, price, volume,
                status, timestamp, filled_volume, avg_fill_price, time_in_force, post_only,
                reduces_position, tag, reason, created_ns, updated_at, updated_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '0', NULL, ?, ?, ?, ?, NULL, ?, ?, ?)"""


class OrderFacts(TypedDict, total=False):
    """How a new order row starts, besides the order itself (defaults: `order_insert`'s);
    `status` and `txid` only when adopting an order found on the exchange."""

    tag: str
    status: OrderStatus
    txid: str | None
    reduces_position: bool


def order_insert(
    order: PlaceOrder,
    now: int,
    *,
    tag: str = "",
    status: OrderStatus = OrderStatus.PENDING_NEW,
    txid: str | None = None,
    reduces_position: bool = False,
) -> Statement:
    """A new order row (column `price`: Kraken's, a limit or a stop-loss's trigger)."""
    stamp = ns_to_iso(now)  # once: `timestamp` and `updated_at` (strftime is not cheap)
    return _ORDER_INSERT, (
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
        int(reduces_position),
        tag,
        now,
        stamp,
        now,
    )


class OrderChanges(TypedDict, total=False):
    """The columns of an order an update may change (None = leave as is): `qty` and `price`
    (the limit, or a stop's trigger) after an amend, the rest as the order lives."""

    status: OrderStatus | None
    txid: str | None
    filled_volume: Decimal | None
    avg_fill_price: Decimal | None
    reason: str | None
    filled_cost: Decimal | None
    fees: Decimal | None
    venue_cum_qty: Decimal | None
    cancel_requested: bool | None
    qty: Decimal | None
    price: Decimal | None


def order_update(cl_ord_id: str, now: int, **changes: Unpack[OrderChanges]) -> Statement:
    """The UPDATE of the given columns of one order (None = leave as is), stamped `now`."""
    sets: list[str] = []
    params: list[Param] = []
    status, flag = changes.get("status"), changes.get("cancel_requested")
    for column, value in (
        ("volume", opt_dec_to_text(changes.get("qty"))),
        ("price", opt_dec_to_text(changes.get("price"))),
        ("status", None if status is None else status.value),
        ("txid", changes.get("txid")),
        ("filled_volume", opt_dec_to_text(changes.get("filled_volume"))),
        ("avg_fill_price", opt_dec_to_text(changes.get("avg_fill_price"))),
        ("reason", changes.get("reason")),
        ("filled_cost", opt_dec_to_text(changes.get("filled_cost"))),
        ("fees", opt_dec_to_text(changes.get("fees"))),
        ("venue_cum_qty", opt_dec_to_text(changes.get("venue_cum_qty"))),
        ("cancel_requested", None if flag is None else int(flag)),
    ):
        if value is not None:
            sets.append(f"{column} = ?")
            params.append(value)
    sets += ["updated_at = ?", "updated_ns = ?"]
    params += [ns_to_iso(now), now, cl_ord_id]
    return f"UPDATE orders SET {', '.join(sets)} WHERE order_id = ?", params


def event_insert(kind: str, payload: Mapping[str, object] | None, now: int) -> Statement:
    """An audit-trail row."""
    return (
        "INSERT INTO events (timestamp, ts_ns, kind, payload) VALUES (?, ?, ?, ?)",
        (ns_to_iso(now), now, kind, to_json(payload or {})),
    )


def state_upsert(key: str, value: str, now: int) -> Statement:
    return (
        """INSERT INTO state (key, value, updated_at, updated_ns) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value,
            updated_at = excluded.updated_at, updated_ns = excluded.updated_ns""",
        (key, value, ns_to_iso(now), now),
    )


def metrics_insert(snapshot: MetricsSnapshot, ts_ns: int) -> Statement:
    return (
        """INSERT INTO metrics (timestamp, balance_usd, total_trades, winning_trades,
        total_profit_loss, daily_profit_loss, timestamp_ns) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (
            ns_to_iso(ts_ns),
            dec_to_text(snapshot.balance_usd),
            snapshot.total_trades,
            snapshot.winning_trades,
            dec_to_text(snapshot.total_profit_loss),
            dec_to_text(snapshot.daily_profit_loss),
            ts_ns,
        ),
    )


def learning_insert(
    features: Mapping[str, object] | Sequence[tuple[str, str]],
    cl_ord_id: str | None,
    symbol: str | None,
    ts_ns: int,
) -> Statement:
    return (
        """INSERT INTO learning_data (timestamp, feature_data, outcome, profit_loss,
        order_id, pair, timestamp_ns) VALUES (?, ?, NULL, NULL, ?, ?, ?)""",
        (ns_to_iso(ts_ns), to_json(dict(features)), cl_ord_id, symbol, ts_ns),
    )


def duplicate_order(cl_ord_id: str) -> InvariantError:
    """What an order insert refused by the ledger's UNIQUE keys means."""
    return InvariantError("order id (or Kraken txid) already recorded", cl_ord_id=cl_ord_id)


def txid_taken(txid: str | None, cl_ord_id: str) -> InvariantError:
    """What an order update refused by the ledger's UNIQUE keys means."""
    return InvariantError(f"txid {txid} already belongs to another order", cl_ord_id=cl_ord_id)


def unknown_order(cl_ord_id: str) -> InvariantError:
    return InvariantError("update of an order the ledger does not know", cl_ord_id=cl_ord_id)


def fill_contradicts(fill: Fill, exc: sqlite3.IntegrityError) -> InvariantError:
    """A fill refused by the ledger's keys (e.g. it names a Kraken txid that another of our
    orders already has)."""
    return InvariantError(
        f"fill {fill.trade_id} contradicts the ledger: {exc}", cl_ord_id=fill.cl_ord_id
    )


# The learning rows an entry order opened that have no outcome yet.
OPEN_ENTRY_ROWS = "order_id = ? AND outcome IS NULL"


def outcome_update(
    *, where: str, key: int | str, outcome: str, profit_loss: Decimal | None, ts_ns: int
) -> Statement:
    """The outcome of the learning rows selected by `where` (a fixed clause)."""
    return (
        f"UPDATE learning_data SET outcome = ?, profit_loss = ?, outcome_ns = ? WHERE {where}",
        (outcome, opt_dec_to_text(profit_loss), ts_ns, key),
    )


__all__ = [
    "OPEN_ENTRY_ROWS",
    "OrderChanges",
    "OrderFacts",
    "duplicate_order",
    "event_insert",
    "fill_contradicts",
    "learning_insert",
    "metrics_insert",
    "order_insert",
    "order_update",
    "outcome_update",
    "state_upsert",
    "txid_taken",
    "unknown_order",
]
