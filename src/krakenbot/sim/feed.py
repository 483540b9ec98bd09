"""Market feeds that drive the simulated books: a seeded random walk and a replay of real data.

Owns: `RandomFeed` and `ReplayFeed`; each `tick(now_ns)` moves every pair's market (mid,
touch, level changes, market trades) through the exchange core so resting orders that the
market crosses are filled. Same seed ⇒ same market. Imports: stdlib and sim.* only.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Protocol

from krakenbot.sim.exchange import Exchange
from krakenbot.sim.market import Market


class Feed(Protocol):
    def tick(self, now_ns: int) -> None: ...


def _quantize_mid(market: Market, mid: Decimal) -> Decimal:
    return mid.quantize(market.spec.price_step)


class RandomFeed:
    """A mean-free random walk of about 2 bp per step, with level noise and trades."""

    def __init__(self, exchange: Exchange, rng: random.Random, trade_prob: float = 0.3) -> None:
        self.exchange = exchange
        self.rng = rng
        self.trade_prob = trade_prob

    def tick(self, now_ns: int) -> None:
        for symbol, market in self.exchange.markets.items():
            if self.rng.random() < 0.4:
                move = Decimal(str(round(self.rng.gauss(0.0, 0.0002), 6)))
                mid = _quantize_mid(market, market.mid * (1 + move))
                market.recenter(mid, now_ns)
            market.perturb()
            if self.rng.random() < self.trade_prob:
                self.exchange.feed_trade(symbol, now_ns)
            market.touch_candle(now_ns)
            self.exchange.cross(symbol, now_ns)
