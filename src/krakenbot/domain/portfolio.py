"""Portfolio and PnL, derived from fills only.

Owns: positions (signed base quantity per symbol), FIFO lots with fees in their cost,
realized PnL (FIFO, fees included) in total and by UTC day, unrealized PnL against a price
the caller verified, and exposure including working orders. Also `WorkingOrder`, the view of
a live order that exposure, the risk gate and strategies read. Imports: stdlib and domain.
Must not import: I/O, the clock (times come from fills), the orders package.

Money is in the symbol's quote currency (the risk gate only allows USD-quoted pairs).
Fees charged in the base asset are converted to quote at the fill price; the base quantity
itself is not reduced (Kraken charges spot fees in quote unless told otherwise with `fcib`,
which this daemon never sends; docs: rest-api/add-order `oflags`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order
from krakenbot.errors import InvariantError

ZERO = Decimal(0)


def utc_day(ns: int) -> date:
    """The UTC calendar day of an epoch-nanosecond time."""
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).date()


def split_symbol(symbol: str) -> tuple[str, str]:
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote:
        raise InvariantError(f"symbol {symbol!r} is not BASE/QUOTE")
    return base, quote


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """A live (non-terminal) order as decision code sees it."""

    cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    remaining_qty: Decimal
    limit_price: Decimal | None
    reduces_position: bool = False
    tag: str = ""
    created_ns: int = 0
    cancel_requested: bool = False
    post_only: bool = False
    trigger_price: Decimal | None = None
    filled_qty: Decimal = ZERO

    @classmethod
    def of(cls, order: Order) -> WorkingOrder:
        return cls(
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            remaining_qty=order.remaining_qty,
            limit_price=order.limit_price,
            reduces_position=order.reduces_position,
            tag=order.tag,
            created_ns=order.created_ns,
            cancel_requested=order.cancel_requested,
            post_only=order.post_only,
            trigger_price=order.trigger_price,
            filled_qty=order.filled_qty,
        )


@dataclass(slots=True)
class _Lot:
    qty: Decimal  # remaining, always > 0
    unit_cost: Decimal  # quote per unit, fee included (long: paid; short: received, net)
    opened_ns: int


@dataclass(slots=True)
class _Book:
    """FIFO lots of one symbol; all lots have the same direction (`long`)."""

    long: bool = True
    lots: deque[_Lot] = field(default_factory=deque)


class Portfolio:
    """Accumulates fills (each trade id once) into positions and PnL."""

    def __init__(self) -> None:
        self._books: dict[str, _Book] = {}
        self._seen: set[str] = set()
        self._realized_by_day: dict[date, Decimal] = {}
        self._fees = ZERO

    # ------------------------------------------------------------------ updates
    def apply_fill(self, fill: Fill) -> bool:
        """Add one fill; False (and no change) when its trade id was already applied."""
        if fill.trade_id in self._seen:
            return False
        if fill.qty <= 0 or fill.price <= 0 or fill.fee < 0:
            raise InvariantError(f"fill {fill.trade_id} has a non-positive quantity or price")
        fee = self._fee_in_quote(fill)
        self._seen.add(fill.trade_id)
        self._fees += fee
        realized = self._book_fill(fill, fee)
        if realized is not None:
            day = utc_day(fill.exchange_ns)
            self._realized_by_day[day] = self._realized_by_day.get(day, ZERO) + realized
        return True

    def _fee_in_quote(self, fill: Fill) -> Decimal:
        base, quote = split_symbol(fill.symbol)
        if fill.fee_asset == quote or fill.fee == 0:
            return fill.fee
        if fill.fee_asset == base:
            return fill.fee * fill.price
        raise InvariantError(f"fill {fill.trade_id} charges its fee in {fill.fee_asset!r}")

    def _book_fill(self, fill: Fill, fee: Decimal) -> Decimal | None:
        """FIFO: close opposite lots first, open a lot with any remainder. None = no close."""
        book = self._books.setdefault(fill.symbol, _Book())
        lots = book.lots
        buying = fill.side is Side.BUY
        fee_per_unit = fee / fill.qty
        remaining = fill.qty
        realized: Decimal | None = None
        while remaining > 0 and lots and book.long != buying:
            lot = lots[0]
            used = min(remaining, lot.qty)
            if book.long:  # selling out of a long lot
                gain = used * (fill.price - fee_per_unit) - used * lot.unit_cost
            else:  # buying back a short lot
                gain = used * lot.unit_cost - used * (fill.price + fee_per_unit)
            realized = (realized or ZERO) + gain
            lot.qty -= used
            remaining -= used
            if lot.qty == 0:
                lots.popleft()
        if remaining > 0:
            if not lots:
                book.long = buying
            unit = fill.price + fee_per_unit if buying else fill.price - fee_per_unit
            lots.append(_Lot(qty=remaining, unit_cost=unit, opened_ns=fill.exchange_ns))
        return realized

    # ------------------------------------------------------------------ queries
    def seen(self, trade_id: str) -> bool:
        return trade_id in self._seen

    def position(self, symbol: str) -> Decimal:
        """Signed base quantity: positive long, negative short, zero flat."""
        book = self._books.get(symbol)
        if book is None:
            return ZERO
        total = sum((lot.qty for lot in book.lots), ZERO)
        return total if book.long else -total

    def positions(self) -> dict[str, Decimal]:
        """Every non-flat symbol and its signed quantity."""
        found = {symbol: self.position(symbol) for symbol in self._books}
        return {symbol: qty for symbol, qty in found.items() if qty != 0}

    def cost_basis(self, symbol: str) -> Decimal:
        """Quote amount in the open lots (fees included), unsigned."""
        book = self._books.get(symbol)
        lots = book.lots if book is not None else ()
        return sum((lot.qty * lot.unit_cost for lot in lots), ZERO)

    def avg_entry(self, symbol: str) -> Decimal | None:
        """Average unit cost of the open lots, fees included; None when flat."""
        qty = abs(self.position(symbol))
        return self.cost_basis(symbol) / qty if qty else None

    def opened_ns(self, symbol: str) -> int | None:
        """When the oldest open lot was opened (the time stop counts from it)."""
        book = self._books.get(symbol)
        return book.lots[0].opened_ns if book is not None and book.lots else None

    def unrealized(self, symbol: str, mark: Decimal) -> Decimal:
        """PnL if the position were closed at `mark` (exit fees not included)."""
        qty = self.position(symbol)
        basis = self.cost_basis(symbol)
        if qty >= 0:
            return qty * mark - basis
        return basis - (-qty) * mark

    def unrealized_total(self, marks: Mapping[str, Decimal]) -> Decimal | None:
        """Unrealized PnL over all positions; None when one has no mark (unknown)."""
        total = ZERO
        for symbol in self.positions():
            mark = marks.get(symbol)
            if mark is None:
                return None
            total += self.unrealized(symbol, mark)
        return total

    @property
    def realized_total(self) -> Decimal:
        return sum(self._realized_by_day.values(), ZERO)

    @property
    def fees_total(self) -> Decimal:
        return self._fees

    def realized_on(self, day: date) -> Decimal:
        """Realized PnL of closes whose fill falls on this UTC day."""
        return self._realized_by_day.get(day, ZERO)

    def daily_pnl(self, day: date, marks: Mapping[str, Decimal]) -> Decimal | None:
        """Realized today plus all unrealized now (an open loss counts in full, on purpose:
        the daily-loss limit must not be dodged by holding a loser across midnight)."""
        unrealized = self.unrealized_total(marks)
        return None if unrealized is None else self.realized_on(day) + unrealized


def exposure(
    positions: Mapping[str, Decimal],
    marks: Mapping[str, Decimal],
    working: Iterable[WorkingOrder],
) -> Decimal | None:
    """Quote value at risk if every working entry order filled: |position| × mark plus the
    remaining notional of working orders that do not reduce a position. None when a
    position or a market order has no mark (unknown, so callers must refuse)."""
    total = ZERO
    for symbol, qty in positions.items():
        if qty == 0:
            continue
        mark = marks.get(symbol)
        if mark is None:
            return None
        total += abs(qty) * mark
    for order in working:
        if order.reduces_position:
            continue
        price = order.limit_price if order.limit_price is not None else marks.get(order.symbol)
        if price is None:
            return None
        total += order.remaining_qty * price
    return total
