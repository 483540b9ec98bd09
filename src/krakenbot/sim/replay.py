"""Replay feed: real Kraken XBT/USDT candles and trades, rescaled to every simulated pair.

Owns: `ReplayFeed` and the loader of the bundled data (sim/data/, see PROVENANCE.md). Each
1-minute candle lasts 60/speed seconds of sim time; inside it the mid follows
open → low/high → high/low → close (the extreme nearer the close last), trades arrive at the
candle's real rate with sizes drawn from the real trade tape, scaled by notional. The path
repeats at the end, continuing from the current price. Imports: stdlib and sim.* only; the
data files are read once with importlib.resources (package data, no network).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from krakenbot.sim.exchange import Exchange
from krakenbot.sim.market import MINUTE_NS, Candle
from krakenbot.sim.pairs import PairSpec

NS = 1_000_000_000
OHLC_FILE = "ohlc_1m_XBTUSDT_2025-11-10_nautilus.json"
TRADES_FILE = "trades_XBTUSDT_2025-11-10_nautilus.json"


@dataclass(frozen=True, slots=True)
class Bar:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    count: int
    volume: Decimal = Decimal(0)
    vwap: Decimal = Decimal(0)


def _load(name: str) -> dict[str, object]:
    text = resources.files("krakenbot.sim").joinpath("data", name).read_text(encoding="utf-8")
    parsed = json.loads(text)
    result = parsed["result"]
    assert isinstance(result, dict)
    return result


def replay_scale(spec: PairSpec, bars: list[Bar]) -> Decimal:
    """The factor the replay multiplies the bundled XBT/USDT prices by for `spec`: its path
    starts at the pair's start price. The market history (sim/history.py) uses the same one,
    so the history endpoints and the replay show one price path."""
    return spec.start_price / bars[0].open


def load_bars() -> list[Bar]:
    rows = _load(OHLC_FILE)["XBTUSDT"]
    assert isinstance(rows, list)
    return [
        Bar(
            Decimal(r[1]),
            Decimal(r[2]),
            Decimal(r[3]),
            Decimal(r[4]),
            int(r[7]),
            Decimal(r[6]),
            Decimal(r[5]),
        )
        for r in rows
    ]


def backfill_history(exchange: Exchange, now_ns: int, minutes: int = 240) -> None:
    """Give every market `minutes` of 1-minute candles before `now_ns` from the real data.

    The last bars of the bundled day are rescaled so that their final close is the pair's
    start price, which is also where the live feed begins: the history joins up with it.
    """
    bars = load_bars()[-minutes:]
    begin = now_ns - now_ns % MINUTE_NS - len(bars) * MINUTE_NS
    for market in exchange.markets.values():
        spec = market.spec
        scale = spec.start_price / bars[-1].close
        history = []
        for i, bar in enumerate(bars):
            o, h, lo, c = (
                (v * scale).quantize(spec.price_step)
                for v in (bar.open, bar.high, bar.low, bar.close)
            )
            # Keep each bar's quote value: base volume scales inversely with the price.
            volume = (bar.volume / scale).quantize(spec.lot_step)
            vwap = (bar.vwap * scale).quantize(spec.price_step)
            history.append(
                Candle(begin + i * MINUTE_NS, o, h, lo, c, volume, volume * vwap, bar.count)
            )
        market.backfill(history)


def load_trade_notionals() -> list[tuple[str, Decimal]]:
    """(taker side, notional in quote) of each real trade."""
    rows = _load(TRADES_FILE)["XBTUSDT"]
    assert isinstance(rows, list)
    return [("buy" if r[3] == "b" else "sell", Decimal(r[0]) * Decimal(r[1])) for r in rows]


def intra_candle(bar: Bar, frac: float) -> Decimal:
    """Price at `frac` ∈ [0, 1] through the candle: o → first extreme → second → c."""
    up = bar.close >= bar.open
    points = [bar.open, bar.low if up else bar.high, bar.high if up else bar.low, bar.close]
    pos = min(max(frac, 0.0), 1.0) * 3
    i = min(int(pos), 2)
    t = Decimal(str(round(pos - i, 6)))
    return points[i] + (points[i + 1] - points[i]) * t


class ReplayFeed:
    def __init__(
        self, exchange: Exchange, rng: random.Random, start_ns: int, *, speed: float = 1.0
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.exchange = exchange
        self.rng = rng
        self.speed = speed
        self.bars = load_bars()
        self.tape = load_trade_notionals()
        self.start_ns = start_ns
        self.last_ns = start_ns
        self.loop = 0
        self.scale = {sym: replay_scale(m.spec, self.bars) for sym, m in exchange.markets.items()}
        self._pending = dict.fromkeys(exchange.markets, 0.0)
        self._tape_pos = 0

    def _position(self, now_ns: int) -> tuple[int, float]:
        minutes = max(0, now_ns - self.start_ns) * self.speed / (60 * NS)
        index = int(minutes)
        return index, minutes - index

    def tick(self, now_ns: int) -> None:
        index, frac = self._position(now_ns)
        loop, index = divmod(index, len(self.bars))
        if loop != self.loop:
            self.loop = loop  # start the path again from wherever the price is now
            for sym, m in self.exchange.markets.items():
                self.scale[sym] = m.mid / self.bars[0].open
        bar = self.bars[index]
        elapsed_min = max(0, now_ns - self.last_ns) * self.speed / (60 * NS)
        self.last_ns = now_ns
        base = intra_candle(bar, frac)
        for symbol, market in self.exchange.markets.items():
            mid = (base * self.scale[symbol]).quantize(market.spec.price_step)
            if mid != market.mid:
                market.recenter(mid, now_ns)
            market.perturb()
            self._pending[symbol] += bar.count * elapsed_min
            while self._pending[symbol] >= 1.0:
                self._pending[symbol] -= 1.0
                self._trade(symbol, now_ns)
            market.touch_candle(now_ns)
            self.exchange.cross(symbol, now_ns)

    def _trade(self, symbol: str, now_ns: int) -> None:
        side, notional = self.tape[self._tape_pos % len(self.tape)]
        self._tape_pos += 1
        market = self.exchange.markets[symbol]
        # The real trade's quote value is kept; its size follows this pair's price level.
        qty = (notional / market.mid).quantize(market.spec.lot_step)
        self.exchange.feed_trade(symbol, now_ns, side=side, qty=max(qty, market.spec.lot_step))
