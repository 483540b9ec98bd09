"""The `fills` table: each Kraken execution once, and what an order's fills add up to.

Owns: the SQL that records a fill (UNIQUE trade id: a second insert changes nothing), the
recomputation of the owning order's filled volume, average price, cost and fees from its
fills, and the reads (`for_order`, `load` in recorded order). `LedgerRepository` runs these
inside its transactions. Imports: store.db/codec/rows, domain; never engine/orders/net.
"""

from __future__ import annotations

from decimal import Decimal

from krakenbot.domain.events import Fill
from krakenbot.store.codec import dec_to_text, ns_to_iso, opt_dec_to_text, text_to_dec
from krakenbot.store.db import Database
from krakenbot.store.rows import fill_from_row


async def insert(db: Database, fill: Fill, owner: str | None, exchange_ns: int, now: int) -> bool:
    """Record `fill` (owned by our order `owner`, if any); False when its trade id is known."""
    inserted = await db.execute(
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
    return inserted != 0


async def refresh_order_totals(db: Database, cl_ord_id: str, txid: str, now: int) -> None:
    """Set the order's filled volume, average price, cost and fees from its fills (and its
    Kraken txid, if it had none yet)."""
    rows = await db.fetchall(
        "SELECT price, volume, cost, fee FROM fills WHERE order_id = ?", (cl_ord_id,)
    )
    qty = sum((text_to_dec(r["volume"]) for r in rows), Decimal(0))
    cost = sum((text_to_dec(r["cost"]) for r in rows), Decimal(0))
    fees = sum((text_to_dec(r["fee"]) for r in rows), Decimal(0))
    notional = sum((text_to_dec(r["price"]) * text_to_dec(r["volume"]) for r in rows), Decimal(0))
    avg = notional / qty if qty else None
    await db.execute(
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
    )


async def for_order(db: Database, cl_ord_id: str) -> list[Fill]:
    """The recorded executions of one of our orders, in exchange time order."""
    rows = await db.fetchall(
        "SELECT * FROM fills WHERE order_id = ? ORDER BY exchange_ns, id", (cl_ord_id,)
    )
    return [fill_from_row(r) for r in rows]


async def load(db: Database, since_ns: int) -> list[Fill]:
    """Every recorded fill executed at or after `since_ns`, in the order they were recorded."""
    rows = await db.fetchall("SELECT * FROM fills WHERE exchange_ns >= ? ORDER BY id", (since_ns,))
    return [fill_from_row(r) for r in rows]
