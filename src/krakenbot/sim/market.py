"""Public market state of one pair: book, trade tape, candles and 24 h statistics (pure).

Owns: `Market` — the liquidity the market feed moves around, public trade prints, 1-minute
candles and the rolling ticker figures. It knows nothing about accounts: the exchange core
(exchange.py) asks it to consume liquidity for taker orders and tells it about own resting
orders. Imports: stdlib and sim.book / sim.pairs. Time arrives as arguments.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from krakenbot.sim.book import ZERO, SideBook
from krakenbot.sim.pairs import PairSpec

NS = 1_000_000_000
MINUTE_NS = 60 * NS
DEPTH_LEVELS = 120  # market levels kept per side (enough for depth 100 subscriptions)
MAX_CANDLES = 721


@dataclass(frozen=True, slots=True)
class PublicTrade:
    price: Decimal
    qty: Decimal
    side: str  # taker side: "buy" | "sell"
    ord_type: str  # taker's: "limit" | "market"
    trade_id: int
    time_ns: int


@dataclass(slots=True)
class Candle:
    begin_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = ZERO
    notional: Decimal = ZERO
    count: int = 0

    @property
    def vwap(self) -> Decimal:
        return self.notional / self.volume if self.volume else self.close


def aggregate_candles(candles: Iterable[Candle], interval_min: int) -> list[Candle]:
    """Candles of `interval_min` minutes (epoch-aligned) from 1-minute ones (new objects)."""
    if interval_min == 1:
        return list(candles)
    width = interval_min * MINUTE_NS
    out: list[Candle] = []
    for c in candles:
        begin = c.begin_ns - c.begin_ns % width
        if out and out[-1].begin_ns == begin:
            agg = out[-1]
            agg.high, agg.low = max(agg.high, c.high), min(agg.low, c.low)
            agg.close = c.close
            agg.volume += c.volume
            agg.notional += c.notional
            agg.count += c.count
        else:
            out.append(Candle(begin, c.open, c.high, c.low, c.close, c.volume, c.notional, c.count))
    return out


class Market:
    def __init__(self, spec: PairSpec, rng: random.Random, now_ns: int) -> None:
        self.spec = spec
        self.rng = rng
        self.asks = SideBook(bids=False)
        self.bids = SideBook(bids=True)
        self.trades: deque[PublicTrade] = deque(maxlen=1000)
        self.candles: deque[Candle] = deque(maxlen=MAX_CANDLES)
        self.next_trade_id = 1
        self.mid = spec.start_price
        self.open_price = spec.start_price
        self.low = spec.start_price
        self.high = spec.start_price
        self.volume = ZERO
        self.notional = ZERO
        self.trade_count = 0
        self.last_price = spec.start_price
        self.last_qty = ZERO
        self.last_change_ns = now_ns
        self.dirty = True
        # The pair's index price (trigger=index); None: the book's mid stands in for it.
        self.index_price: Decimal | None = None
        # Level spacing: about 0.5 bp of price, never below one tick.
        raw = spec.start_price * Decimal("0.00005")
        self.step = max(spec.tick_size, self._round_tick(raw, down=True))
        self.lot = spec.lot_step
        self.unit_qty = (Decimal(400) / spec.start_price).quantize(self.lot)
        self.recenter(spec.start_price, now_ns)
        self._candle_for(now_ns)

    # -- numbers -------------------------------------------------------------------------
    def _round_tick(self, price: Decimal, *, down: bool) -> Decimal:
        tick = self.spec.tick_size
        n = (price / tick).to_integral_value(rounding=ROUND_DOWN if down else ROUND_UP)
        return (n * tick).quantize(self.spec.price_step)

    def _rand_qty(self) -> Decimal:
        factor = Decimal(self.rng.randrange(500, 30000)) / 10000
        return max(self.lot, (self.unit_qty * factor).quantize(self.lot))

    # -- feed operations -----------------------------------------------------------------
    def recenter(self, mid: Decimal, now_ns: int) -> None:
        """Move the book so its touch sits around `mid` (pulls crossed market levels)."""
        mid = max(mid, self.spec.tick_size * 10)
        self.mid = mid
        half = max(self.step, self._round_tick(mid * Decimal("0.0001"), down=True))
        best_ask = self._round_tick(mid + half / 2, down=False)
        best_bid = self._round_tick(mid - half / 2, down=True)
        if best_bid >= best_ask:
            best_bid = best_ask - self.spec.tick_size
        self._reshape(self.asks, best_ask, up=True)
        self._reshape(self.bids, best_bid, up=False)
        self.last_change_ns = now_ns
        self.dirty = True

    def _reshape(self, side: SideBook, touch: Decimal, *, up: bool) -> None:
        # Remove market liquidity on the wrong side of the new touch.
        crossed = []
        for price in side.iter_prices():
            if not ((price < touch) if up else (price > touch)):
                break
            crossed.append(price)
        for price in crossed:
            side.set_market(price, ZERO)
        best = side.best_market()
        if best is not None and abs(best - touch) > self.step * 40:
            # A jump (set_mid, replay gap): the old levels are far away; rebuild the side.
            for price in side.prices():
                side.set_market(price, ZERO)
            best = None
        # Fill from the touch outwards up to the current best market level.
        price = touch
        added = 0
        while best is None or ((price < best) if up else (price > best)):
            if best is None and added >= DEPTH_LEVELS:
                break
            if side.market_qty(price) <= 0:
                side.set_market(price, self._rand_qty())
                added += 1
            price = self._next(price, up=up)
        count = len(side) - len(side.own)  # about right; own levels are few
        # Extend at the far end if the side is thin, trim it if too deep.
        far = side.worst() or touch
        while count < DEPTH_LEVELS:
            far = self._next(far, up=up)
            if far <= 0:
                break
            side.set_market(far, self._rand_qty())
            count += 1
        if len(side) > DEPTH_LEVELS + 40:
            for price in side.prices()[DEPTH_LEVELS + 40 :]:
                side.set_market(price, ZERO)

    def _next(self, price: Decimal, *, up: bool) -> Decimal:
        gap = self.step * self.rng.choice((1, 1, 2, 3))
        return price + gap if up else price - gap

    def perturb(self) -> None:
        """Small random changes near the touch (qty changes, pulled and new levels)."""
        for _ in range(self.rng.randint(1, 3)):
            side = self.asks if self.rng.random() < 0.5 else self.bids
            prices = [p for _, p in zip(range(15), side.iter_prices(), strict=False)]
            if not prices:
                continue
            price = self.rng.choice(prices)
            roll = self.rng.random()
            if roll < 0.15 and len(side) > 20:
                side.set_market(price, ZERO)
            else:
                side.set_market(price, self._rand_qty())
        self.dirty = True

    # -- trades --------------------------------------------------------------------------
    def take(self, side: str, qty: Decimal, limit: Decimal | None) -> list[tuple[Decimal, Decimal]]:
        """Consume market liquidity for a taker `side` order; returns (price, qty) fills."""
        book = self.asks if side == "buy" else self.bids
        fills: list[tuple[Decimal, Decimal]] = []
        remaining = qty
        for price in book.prices():
            if remaining <= 0:
                break
            if limit is not None and ((price > limit) if side == "buy" else (price < limit)):
                break
            avail = book.market_qty(price)
            if avail <= 0:
                continue
            got = min(avail, remaining)
            book.set_market(price, avail - got)
            fills.append((price, got))
            remaining -= got
        if fills:
            self.dirty = True
        return fills

    def take_quote(self, side: str, budget: Decimal, lot: Decimal) -> list[tuple[Decimal, Decimal]]:
        """Consume market liquidity worth at most `budget` in quote currency (a market buy
        whose volume is in quote: AddOrder `oflags=viqc`); returns (price, qty) fills."""
        book = self.asks if side == "buy" else self.bids
        fills: list[tuple[Decimal, Decimal]] = []
        left = budget
        for price in book.prices():
            avail = book.market_qty(price)
            if avail <= 0:
                continue
            got = min(avail, (left / price).quantize(lot, rounding=ROUND_DOWN))
            if got <= 0:
                break
            book.set_market(price, avail - got)
            fills.append((price, got))
            left -= got * price
        if fills:
            self.dirty = True
        return fills

    def quote_for(self, side: str, qty: Decimal) -> Decimal:
        """What `qty` would cost walking market liquidity now (for fund checks)."""
        book = self.asks if side == "buy" else self.bids
        total = ZERO
        remaining = qty
        for price in book.iter_prices():
            avail = book.market_qty(price)
            got = min(avail, remaining)
            total += got * price
            remaining -= got
            if remaining <= 0:
                return total
        worst = book.worst() or self.mid
        return total + remaining * worst

    def print_trade(
        self, price: Decimal, qty: Decimal, side: str, ord_type: str, now_ns: int
    ) -> PublicTrade:
        trade = PublicTrade(price, qty, side, ord_type, self.next_trade_id, now_ns)
        self.next_trade_id += 1
        self.trades.append(trade)
        self.last_price, self.last_qty = price, qty
        self.low, self.high = min(self.low, price), max(self.high, price)
        self.volume += qty
        self.notional += qty * price
        self.trade_count += 1
        candle = self._candle_for(now_ns)
        candle.high, candle.low = max(candle.high, price), min(candle.low, price)
        candle.close = price
        candle.volume += qty
        candle.notional += qty * price
        candle.count += 1
        return trade

    def feed_trade(
        self, side: str, now_ns: int, *, qty: Decimal | None = None
    ) -> tuple[Decimal, Decimal] | None:
        """A market participant takes some of the touch; returns (price, qty) or None."""
        book = self.asks if side == "buy" else self.bids
        best = book.best_market()
        if best is None:
            return None
        avail = book.market_qty(best)
        if qty is None:
            qty = (avail * Decimal("0.3")).quantize(self.spec.lot_step)
        qty = min(avail, max(self.spec.lot_step, qty))
        book.set_market(best, avail - qty)
        ord_type = "market" if self.rng.random() < 0.6 else "limit"
        self.print_trade(best, qty, side, ord_type, now_ns)
        self.dirty = True
        return best, qty

    # -- candles -------------------------------------------------------------------------
    def _candle_for(self, now_ns: int) -> Candle:
        begin = now_ns - now_ns % MINUTE_NS
        if self.candles and self.candles[-1].begin_ns == begin:
            return self.candles[-1]
        last = self.candles[-1].close if self.candles else self.last_price
        if self.candles and self.candles[-1].begin_ns > begin:
            return self.candles[-1]  # the clock stepped back: keep the newest candle
        candle = Candle(begin, last, last, last, last)
        self.candles.append(candle)
        return candle

    def backfill(self, history: list[Candle]) -> None:
        """Put older candles before the ones the sim has made itself."""
        first = self.candles[0].begin_ns if self.candles else None
        older = [c for c in history if first is None or c.begin_ns < first]
        self.candles.extendleft(reversed(older))

    def touch_candle(self, now_ns: int) -> None:
        self._candle_for(now_ns)

    def candles_for(self, interval_min: int, now_ns: int) -> list[Candle]:
        """Candles of `interval_min` minutes aggregated from 1-minute ones."""
        self._candle_for(now_ns)
        return aggregate_candles(self.candles, interval_min)

    @property
    def vwap(self) -> Decimal:
        return self.notional / self.volume if self.volume else self.mid
