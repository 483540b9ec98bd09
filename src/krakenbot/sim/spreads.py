"""The recent top-of-book tape behind Kraken's public `Spread` method (pure, no I/O).

Owns: `SpreadTape`, the last `MAX_SPREADS` (time, best bid, best ask) of each pair, one row
each time the touch changes. Kraken's docs (get-recent-spreads): "Returns the last ~200
top-of-book spreads for a given pair"; `since` is "intended for incremental updates within
available dataset (does not contain all historical spreads)". Times are whole epoch seconds
(docs example rows `[1688671834, "30292.10000", "30297.50000"]`). Imports: stdlib, sim.*.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal

from krakenbot.sim.market import Market
from krakenbot.sim.ratelimit import NS

MAX_SPREADS = 200
Row = tuple[int, Decimal, Decimal]


class SpreadTape:
    def __init__(self) -> None:
        self._rows: dict[str, deque[Row]] = {}

    def observe(self, markets: Mapping[str, Market], now_ns: int) -> None:
        """Append a row for each market whose best bid or best ask moved since its last row
        (a one-sided or empty book has no spread and adds nothing)."""
        for symbol, market in markets.items():
            bid, ask = market.bids.best(), market.asks.best()
            if bid is None or ask is None:
                continue
            rows = self._rows.setdefault(symbol, deque(maxlen=MAX_SPREADS))
            if rows and rows[-1][1:] == (bid, ask):
                continue
            rows.append((now_ns // NS, bid, ask))

    def after(self, symbol: str, since_s: int | None) -> tuple[list[Row], int]:
        """The kept rows strictly after `since_s` (all of them without it), oldest first, and
        the `last` cursor: the newest kept row's time (or `since_s`/0 when none is kept)."""
        rows = list(self._rows.get(symbol, ()))
        listed = rows if since_s is None else [r for r in rows if r[0] > since_s]
        last = rows[-1][0] if rows else (since_s or 0)
        return listed, max(last, since_s or 0)
