"""What the backtest venue knows of one pair's market at its current time (pure).

Owns: `Market` — the candle being played (its `BarPath`), the last trade, the one-tick book
it implies or the recorded book, and the exact conversions between prices (Decimal) and the
integer units of the pair's price precision the candle arithmetic uses; `Live` (a resting
order with the time it reached the venue and the quantity queued ahead of it, known only
against a recorded book), `Out` (events with the venue's time in them) and `amended` (an
order as an amendment leaves it).
Imports: domain, engine (input events), paper (the order record), backtest.fills.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from krakenbot.backtest.fills import BarPath, quote_units
from krakenbot.domain.commands import AmendOrder, PlaceOrder
from krakenbot.domain.enums import Side
from krakenbot.domain.events import BookTop, Event
from krakenbot.domain.instrument import Instrument
from krakenbot.engine.inputs import EngineInput
from krakenbot.paper.record import PaperOrder

ZERO = Decimal(0)
Out = list[Event | EngineInput]


class PriceError(ValueError):
    """A price finer than the pair's precision: the data is not this pair's."""


@dataclass(slots=True)
class Live:
    o: PaperOrder
    active_ns: int  # when it reached the venue: nothing before fills it
    queue: Decimal | None  # quantity ahead of it at its price; None: unknown (no book)


class Market:
    __slots__ = ("_prices", "_units", "ask", "bid", "book", "inst", "last", "path", "scale", "tick")

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.scale = inst.price_decimals
        self._prices: dict[int, Decimal] = {}
        self._units: dict[Decimal, int] = {}
        self.tick = self.units(inst.tick_size)
        self.path: BarPath | None = None  # the candle being played, if any
        self.last: int | None = None  # the last trade (or close), units
        self.bid = 0  # the one-tick book around the last trade (units)
        self.ask = 0
        self.book: BookTop | None = None  # a recorded (verified) book, when there is one

    def price(self, units: int) -> Decimal:
        """The exact price of `units` (cached: candles repeat their prices)."""
        found = self._prices.get(units)
        if found is None:
            found = self._prices[units] = Decimal(units).scaleb(-self.scale)
        return found

    def close_at(self, close: int) -> tuple[Decimal, Decimal]:
        """A candle closed at `close` (units): none is played until the next, the last trade
        is its close, the book the one-tick book around it; returns that book's (bid, ask)
        as prices."""
        self.path = None
        self.last = close
        self.bid, self.ask = bid, ask = quote_units(close, self.tick)
        return self.price(bid), self.price(ask)

    def units(self, price: Decimal) -> int:
        scaled = price.scaleb(self.scale)
        whole = int(scaled)
        if whole != scaled:
            raise PriceError(
                f"{self.inst.symbol}: price {price} has more than {self.scale} decimals"
            )
        return whole

    def cached_units(self, price: Decimal) -> int:
        """`units(price)`, remembered (a resting order's price is asked every candle)."""
        found = self._units.get(price)
        if found is None:
            found = self._units[price] = self.units(price)
        return found

    def quote(self, t_ns: int) -> tuple[int, int]:
        """The one-tick book (bid, ask, units) at `t_ns`: on the candle's path while one is
        played, else around the last trade."""
        path = self.path
        if path is not None and path.covers(t_ns):
            return quote_units(path.price_at(t_ns), self.tick)
        return self.bid, self.ask

    def touch(self, t_ns: int) -> tuple[Decimal, Decimal] | None:
        """(best bid, best ask) at `t_ns`: the recorded book's, or the one-tick book's."""
        book = self.book
        if book is not None:
            bid, ask = book.best_bid, book.best_ask
            return None if bid is None or ask is None else (bid, ask)
        if self.last is None and self.path is None:
            return None
        bid_units, ask_units = self.quote(t_ns)
        return self.price(bid_units), self.price(ask_units)

    def level_qty(self, c: PlaceOrder) -> Decimal:
        """What the recorded book shows at `c`'s price on its side (0: a new level)."""
        book = self.book
        if book is None or c.limit_price is None:
            return ZERO
        levels = book.bids if c.side is Side.BUY else book.asks
        return next((lv.qty for lv in levels if lv.price == c.limit_price), ZERO)


def amended(c: PlaceOrder, a: AmendOrder) -> PlaceOrder:
    """The order `c` as amendment `a` leaves it (None keeps a field)."""
    return replace(
        c,
        qty=a.qty if a.qty is not None else c.qty,
        limit_price=a.limit_price if a.limit_price is not None else c.limit_price,
        trigger_price=a.trigger_price if a.trigger_price is not None else c.trigger_price,
    )


__all__ = ["Live", "Market", "Out", "PriceError", "amended"]
