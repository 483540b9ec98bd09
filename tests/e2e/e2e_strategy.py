"""A deterministic strategy for the end-to-end tests (STRATEGY=e2e_strategy:Ladder).

Flat and no working order → a post-only buy worth E2E_TRADE_USD (default 5) at the best bid
minus E2E_OFFSET_PCT percent; long → a post-only sell of the whole position at the ask plus
the same offset. The tests move the simulated market with SimControl.set_mid to fill them.
At most one new order per E2E_COOLDOWN_S (default 0.5 s), so a denial never floods.
E2E_MAX_WORKING (default 1): while flat, keep up to that many entries resting, the k-th
(from 1) k times the offset below the bid, so a market move can fill one and leave another.
E2E_HOLD=1: never exit (a long position stays, covered only by the engine's protective stop).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal

from krakenbot.domain.commands import Intent, OrderIntent
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event, TimerTick
from krakenbot.strategy.base import StrategyView

NS = 1_000_000_000


class Ladder:
    name = "e2e_ladder"

    def __init__(self) -> None:
        self.symbol = os.environ.get("E2E_SYMBOL", "XLM/USD")
        self.trade_usd = Decimal(os.environ.get("E2E_TRADE_USD", "5"))
        self.offset = Decimal(os.environ.get("E2E_OFFSET_PCT", "0")) / 100
        self.cooldown_ns = int(float(os.environ.get("E2E_COOLDOWN_S", "0.5")) * NS)
        self.max_working = int(os.environ.get("E2E_MAX_WORKING", "1"))
        self.hold = os.environ.get("E2E_HOLD", "0") == "1"
        self._last_ns = 0

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Ladder:
        return cls()

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset({self.symbol})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if isinstance(event, BookTop):
            now = event.recv_ns
        elif isinstance(event, TimerTick):
            now = event.now_ns
        else:
            return []
        book, inst = view.book(self.symbol), view.instrument(self.symbol)
        if book is None or inst is None or not book.verified:
            return []
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None or now - self._last_ns < self.cooldown_ns:
            return []
        working = len(view.working_orders(self.symbol))
        if working >= self.max_working:
            return []
        held = inst.quantize_qty(max(view.position(self.symbol), Decimal(0)))
        if held >= inst.ordermin:
            if working or self.hold:
                return []
            price = inst.quantize_price(ask * (1 + self.offset), up=True)
            self._last_ns = now
            return [self._order(Side.SELL, held, price, reduces=True)]
        price = inst.quantize_price(bid * (1 - self.offset * (working + 1)))
        qty = inst.quantize_qty(self.trade_usd / price)
        if qty < inst.ordermin or qty * price < inst.costmin:
            return []
        self._last_ns = now
        return [self._order(Side.BUY, qty, price, reduces=False)]

    def _order(self, side: Side, qty: Decimal, price: Decimal, *, reduces: bool) -> OrderIntent:
        return OrderIntent(
            symbol=self.symbol,
            side=side,
            order_type=OrderType.LIMIT,
            qty=qty,
            limit_price=price,
            time_in_force=TimeInForce.GTC,
            post_only=True,
            reduces_position=reduces,
            tag="exit" if reduces else "entry",
        )
