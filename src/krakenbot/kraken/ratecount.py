"""Which pair a streamed `ratecount` belongs to (pure).

Owns: `CounterPairs`, a bounded order_id -> pair memory fed by the reports and acks the
private stream delivers, and the rule that maps one `RateCounter` onto the pairs of the
trading-rate model. Imports: stdlib and domain only; no I/O, no clock.

Why: Kraken keeps one trading counter per (client, pair) (docs guides/spot-ratelimits), but the
executions page (docs.kraken.com/api/docs/websocket-v2/executions) does not say which rows carry
the counter, and real `new` / `canceled` reports name no `symbol`. A counter whose pair we
cannot tell is applied to every pair we trade: the model only ever raises its level to an
observed value (`RateLimitModel.observe_trading_counter` keeps the max), so this can make us
wait longer on another pair but never lets us overrun one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from krakenbot.domain.events import RateCounter

# Far more than the open orders one pair may hold (225 at Pro, docs guides/spot-ratelimits);
# old entries are forgotten first.
DEFAULT_CAPACITY = 4096


class CounterPairs:
    """Remembers each order's pair so a symbol-less `ratecount` can still be placed."""

    __slots__ = ("_capacity", "_pairs")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        self._pairs: OrderedDict[str, str] = OrderedDict()

    def learn(self, order_id: str, symbol: str) -> None:
        if not order_id or not symbol:
            return
        self._pairs[order_id] = symbol
        self._pairs.move_to_end(order_id)
        while len(self._pairs) > self._capacity:
            self._pairs.popitem(last=False)

    def pair_of(self, order_id: str) -> str | None:
        return self._pairs.get(order_id)

    def pairs_for(self, counter: RateCounter, traded: Iterable[str]) -> list[str]:
        """The pairs this counter reading applies to (never empty while we trade any pair)."""
        if counter.symbol:
            return [counter.symbol]
        if counter.order_id is not None:
            known = self._pairs.get(counter.order_id)
            if known is not None:
                return [known]
        return sorted(set(traded))
