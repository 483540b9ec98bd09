"""The `fills` table: each Kraken execution once, and what an order's fills add up to.

Owns: the SQL that records a fill (UNIQUE trade id: a second insert changes nothing), the
recomputation of the owning order's filled volume, average price, cost and fees from its
fills, and the reads (`for_order`, `load` in recorded order). The writes are plain functions
of the raw connection: `LedgerRepository` runs them whole, as one transaction, on the
connection's thread (store/one_trip.py).
Imports: store.db/codec/rows, domain; never engine/orders/net.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal

from krakenbot.domain.events import Fill
from krakenbot.store.codec import dec_to_text, ns_to_iso, opt_dec_to_text, text_to_dec
from krakenbot.store.db import Database
from krakenbot.store.rows import fill_from_row
from krakenbot.store.trades import TradesProjection


def owner_of(conn: sqlite3.Connection, fill: Fill) -> str | None:
    """Our order the fill belongs to: by its cl_ord_id, else by its Kraken txid."""
    for column, key in (("order_id", fill.cl_ord_id), ("txid", fill.order_id)):
        if key:
            found = conn.execute(f"SELECT order_id FROM orders WHERE {column} = ?", (key,))
            row = found.fetchone()
            found.close()
            if row is not None:
                return str(row[0])
    return None


def insert(
    conn: sqlite3.Connection, fill: Fill, owner: str | None, exchange_ns: int, now: int
) -> bool:
    """Record `fill` (owned by our order `owner`, if any); False when its trade id is known."""
    cursor = conn.execute(
        """INSERT INTO fills (trade_id, order_id, txid, pair, side, price, volume, cost,
        fee, fee_asset, liquidity, timestamp, exchange_ns, recorded_ns)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (trade_id) DO NOTHING""",
        (
            fill.trade_id,
            owner,
            fill.order_id,
            fill.symbol,
            fill.side.value,
            dec_to_text(fill.price),
            dec_to_text(fill.qty),
            dec_to_text(fill.cost),
            dec_to_text(fill.fee),
            fill.fee_asset,
            None if fill.liquidity is None else fill.liquidity.value,
            ns_to_iso(exchange_ns),
            exchange_ns,
            now,
        ),
    )
    cursor.close()
    return cursor.rowcount != 0


def refresh_order_totals(conn: sqlite3.Connection, cl_ord_id: str, txid: str, now: int) -> None:
    """Set the order's filled volume, average price, cost and fees from its fills (and its
    Kraken txid, if it had none yet)."""
    found = conn.execute(
        "SELECT price, volume, cost, fee FROM fills WHERE order_id = ?", (cl_ord_id,)
    )
    rows = found.fetchall()
    found.close()
    qty = sum((text_to_dec(r["volume"]) for r in rows), Decimal(0))
    cost = sum((text_to_dec(r["cost"]) for r in rows), Decimal(0))
    fees = sum((text_to_dec(r["fee"]) for r in rows), Decimal(0))
    notional = sum((text_to_dec(r["price"]) * text_to_dec(r["volume"]) for r in rows), Decimal(0))
    avg = notional / qty if qty else None
    conn.execute(
        """UPDATE orders SET filled_volume = ?, avg_fill_price = ?, filled_cost = ?, fees = ?,
        txid = COALESCE(txid, ?), updated_at = ?, updated_ns = ? WHERE order_id = ?""",
        (
            dec_to_text(qty),
            opt_dec_to_text(avg),
            dec_to_text(cost),
            dec_to_text(fees),
            txid or None,
            ns_to_iso(now),
            now,
            cl_ord_id,
        ),
    ).close()


def record(
    conn: sqlite3.Connection, fill: Fill, now: int, exchange_ns: int, trades: TradesProjection
) -> bool:
    """The whole recording of one fill (inside a transaction: the caller's one trip): its
    row, its order's totals and its round trip's rows; False when its trade id is known."""
    owner = owner_of(conn, fill)
    if not insert(conn, fill, owner, exchange_ns, now):
        return False
    if owner is not None:
        refresh_order_totals(conn, owner, fill.order_id, now)
    trades.on_fill(conn, replace(fill, cl_ord_id=owner, exchange_ns=exchange_ns))
    return True


async def for_order(db: Database, cl_ord_id: str) -> list[Fill]:
    """The recorded executions of one of our orders, in exchange time order."""
    rows = await db.fetchall(
        "SELECT * FROM fills WHERE order_id = ? ORDER BY exchange_ns, id", (cl_ord_id,)
    )
    return [fill_from_row(r) for r in rows]


_LOAD = "SELECT * FROM fills WHERE exchange_ns >= ? ORDER BY id"


async def load(db: Database, since_ns: int) -> list[Fill]:
    """Every recorded fill executed at or after `since_ns`, in the order they were recorded."""
    return [fill_from_row(r) for r in await db.fetchall(_LOAD, (since_ns,))]


def load_all(conn: sqlite3.Connection) -> list[Fill]:
    """`load` of every fill, on the connection's thread (inside a one-trip transaction)."""
    found = conn.execute(_LOAD, (0,))
    rows = found.fetchall()
    found.close()
    return [fill_from_row(r) for r in rows]
