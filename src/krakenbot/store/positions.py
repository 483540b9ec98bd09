"""Round trips in `trades`, derived from fills: open, grow, reduce, close, flip.

Owns: the pure arithmetic of a position's round trip (`apply_fill`) and the thin async step
that reads the pair's open row and writes the result inside the caller's transaction
(`apply_fill_to_trades`). Imports: store.db/codec, domain, errors; never engine/orders/net.

Rules: a fill on the side of the open round trip adds to it (entry price is volume-weighted);
an opposite fill reduces it and realizes P&L = (exit - entry) * qty for a long (sign flipped
for a short); when it reaches zero the row is CLOSED, and any rest of the fill opens a new
round trip on the other side. Fees charged in the quote currency are subtracted from P&L,
split pro rata when one fill both closes and opens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from krakenbot.domain.enums import Side
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import OrderRecord, TradeStatus
from krakenbot.store.codec import (
    dec_to_text,
    ns_to_iso,
    opt_dec_to_text,
    opt_text_to_dec,
    text_to_dec,
)
from krakenbot.store.db import Database, Row

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    id: int | None  # None: not yet written
    symbol: str
    side: Side
    entry_price: Decimal
    volume: Decimal
    open_volume: Decimal
    exit_price: Decimal | None
    profit_loss: Decimal
    fees: Decimal
    cl_ord_id: str | None
    txid: str | None
    opened_ns: int
    closed_ns: int | None = None

    @property
    def status(self) -> TradeStatus:
        return TradeStatus.OPEN if self.closed_ns is None else TradeStatus.CLOSED


def quote_fee(fill: Fill) -> Decimal:
    """The fill's fee if charged in the pair's quote currency (USD or Kraken's ZUSD), else 0."""
    quote = fill.symbol.partition("/")[2].upper()
    asset = fill.fee_asset.upper()
    return fill.fee if asset in (quote, f"Z{quote}") else _ZERO


def apply_fill(
    current: RoundTrip | None, fill: Fill, cl_ord_id: str | None, at_ns: int
) -> tuple[RoundTrip | None, RoundTrip | None]:
    """(updated current round trip or None, newly opened round trip or None)."""
    fee = quote_fee(fill)
    if current is None:
        return None, _opened(fill, fill.qty, fee, cl_ord_id, at_ns)
    if fill.side is current.side:
        grown = current.open_volume + fill.qty
        entry = (current.entry_price * current.open_volume + fill.price * fill.qty) / grown
        return (
            replace(
                current,
                entry_price=entry,
                volume=current.volume + fill.qty,
                open_volume=grown,
                fees=current.fees + fee,
                profit_loss=current.profit_loss - fee,
            ),
            None,
        )
    closing = min(fill.qty, current.open_volume)
    rest = fill.qty - closing
    closing_fee = fee if rest == 0 else fee * closing / fill.qty
    direction = 1 if current.side is Side.BUY else -1
    gained = (fill.price - current.entry_price) * closing * direction
    exited = current.volume - current.open_volume
    exit_price = (
        fill.price
        if current.exit_price is None or exited == 0
        else (current.exit_price * exited + fill.price * closing) / (exited + closing)
    )
    remaining = current.open_volume - closing
    updated = replace(
        current,
        open_volume=remaining,
        exit_price=exit_price,
        fees=current.fees + closing_fee,
        profit_loss=current.profit_loss + gained - closing_fee,
        closed_ns=at_ns if remaining == 0 else None,
    )
    opened = _opened(fill, rest, fee - closing_fee, cl_ord_id, at_ns) if rest > 0 else None
    return updated, opened


def _opened(fill: Fill, qty: Decimal, fee: Decimal, cl_ord_id: str | None, at_ns: int) -> RoundTrip:
    return RoundTrip(
        id=None,
        symbol=fill.symbol,
        side=fill.side,
        entry_price=fill.price,
        volume=qty,
        open_volume=qty,
        exit_price=None,
        profit_loss=-fee,
        fees=fee,
        cl_ord_id=cl_ord_id,
        txid=fill.order_id or None,
        opened_ns=at_ns,
    )


async def apply_fill_to_trades(
    db: Database, fill: Fill, order: OrderRecord | None, at_ns: int
) -> None:
    """Apply one new fill to the pair's round trip; must run inside `db.transaction()`."""
    row = await db.fetchone(
        "SELECT * FROM trades WHERE pair = ? AND status = 'OPEN'", (fill.symbol,)
    )
    current = None if row is None else _from_row(row)
    cl_ord_id = None if order is None else order.cl_ord_id
    updated, opened = apply_fill(current, fill, cl_ord_id, at_ns)
    if updated is not None:
        await db.execute(
            """UPDATE trades SET price = ?, volume = ?, open_volume = ?, exit_price = ?,
            profit_loss = ?, fees = ?, status = ?, closed_at = ?, closed_ns = ? WHERE id = ?""",
            (
                dec_to_text(updated.entry_price),
                dec_to_text(updated.volume),
                dec_to_text(updated.open_volume),
                opt_dec_to_text(updated.exit_price),
                dec_to_text(updated.profit_loss),
                dec_to_text(updated.fees),
                updated.status.value,
                None if updated.closed_ns is None else ns_to_iso(updated.closed_ns),
                updated.closed_ns,
                updated.id,
            ),
        )
    if opened is not None:
        notes = "" if order is not None else "opened by a fill of an order krakenbot did not place"
        await db.insert(
            """INSERT INTO trades (pair, side, price, volume, timestamp, status, order_id, txid,
            profit_loss, notes, open_volume, exit_price, fees, opened_ns)
            VALUES (?, ?, ?, ?, ?, 'OPEN', ?, ?, ?, ?, ?, NULL, ?, ?)""",
            (
                opened.symbol,
                opened.side.value,
                dec_to_text(opened.entry_price),
                dec_to_text(opened.volume),
                ns_to_iso(opened.opened_ns),
                opened.cl_ord_id,
                opened.txid,
                dec_to_text(opened.profit_loss),
                notes,
                dec_to_text(opened.open_volume),
                dec_to_text(opened.fees),
                opened.opened_ns,
            ),
        )


def _from_row(r: Row) -> RoundTrip:
    closed = r["closed_ns"]
    return RoundTrip(
        id=int(r["id"]),
        symbol=r["pair"],
        side=Side(r["side"]),
        entry_price=text_to_dec(r["price"]),
        volume=text_to_dec(r["volume"]),
        open_volume=text_to_dec(r["open_volume"]),
        exit_price=opt_text_to_dec(r["exit_price"]),
        profit_loss=text_to_dec(r["profit_loss"]),
        fees=text_to_dec(r["fees"]),
        cl_ord_id=r["order_id"],
        txid=r["txid"],
        opened_ns=int(r["opened_ns"]),
        closed_ns=None if closed is None else int(closed),
    )
