"""Pure paper matching: how much of an order the visible book fills, at what price and fee.

Owns: `take` (an incoming order against the opposite side, taker), `crossed` (which resting
quantity a new book view fills, maker), `would_cross` (post-only check), `stop_fires` (a
stop-loss against the last trade price) and `fee_of`.
Imports: domain only. No I/O, no clock. Kraken's rules followed (docs: rest-api/add-order,
exchange fee schedule): a post-only order that would take liquidity is cancelled instead; a
taker pays the taker fee on each execution, a resting order filled later pays the maker fee;
fees are charged in the quote currency.

Simplification, stated: a resting order is filled (as maker, at its own limit price) when
the opposite side of the public book reaches its price, up to the quantity shown at or
through that price — queue position is not modelled.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from krakenbot.domain.enums import Side
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.domain.instrument import Instrument

HUNDRED = Decimal(100)
ZERO = Decimal(0)


def _opposite(book: BookTop, side: Side) -> tuple[PriceLevel, ...]:
    return book.asks if side is Side.BUY else book.bids


def _reaches(side: Side, level_price: Decimal, limit: Decimal | None) -> bool:
    if limit is None:
        return True
    return level_price <= limit if side is Side.BUY else level_price >= limit


def would_cross(book: BookTop, side: Side, price: Decimal) -> bool:
    levels = _opposite(book, side)
    return bool(levels) and _reaches(side, levels[0].price, price)


def take(
    book: BookTop, side: Side, qty: Decimal, limit: Decimal | None
) -> list[tuple[Decimal, Decimal]]:
    """(price, qty) executions of a taker order walking the opposite side up to `limit`."""
    out: list[tuple[Decimal, Decimal]] = []
    left = qty
    for level in _opposite(book, side):
        if left <= 0 or not _reaches(side, level.price, limit):
            break
        used = min(left, level.qty)
        if used > 0:
            out.append((level.price, used))
            left -= used
    return out


def crossed(book: BookTop, side: Side, price: Decimal, remaining: Decimal) -> Decimal:
    """Quantity of a resting order at `price` that this book view fills (maker)."""
    available = sum(
        (lv.qty for lv in _opposite(book, side) if _reaches(side, lv.price, price)), ZERO
    )
    return min(remaining, available)


def stop_fires(side: Side, trigger: Decimal, last: Decimal) -> bool:
    """Has the last trade reached a stop-loss's trigger? A sell stop fires at or below it, a
    buy stop at or above it (Kraken `trigger=last`; the simulator's sim/prices.py agrees)."""
    return last <= trigger if side is Side.SELL else last >= trigger


def fee_of(instrument: Instrument, cost: Decimal, *, maker: bool) -> Decimal:
    pct = instrument.maker_fee_pct if maker else instrument.taker_fee_pct
    step = Decimal(1).scaleb(-max(instrument.cost_decimals, 8))
    return (cost * pct / HUNDRED).quantize(step, rounding=ROUND_HALF_UP)
