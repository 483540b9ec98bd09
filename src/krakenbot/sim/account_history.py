"""How much account history the simulator keeps: a bounded amount, so that a sim serving for
hours (at any `--speed`, with any number of pairs) stays flat in memory (the public market
history behind Trades/OHLC is sim/history.py).

Owns: the bounds — `MAX_CLOSED_ORDERS` closed orders and `MAX_FILLS` executions of the
account, `MAX_TOKENS` WebSocket tokens — and `ClosedOrderLog`, which forgets the oldest closed
order once more than `MAX_CLOSED_ORDERS` have closed. Open orders are never forgotten.
Kraken keeps an account's history for good and its ClosedOrders / TradesHistory page back
through it 50 at a time (`ofs`, with `count` the total); the sim pages back through what it
kept: the newest 2,000 closed orders and 2,000 fills (`count` says how many it kept), and
QueryOrders of a forgotten order answers as for any unknown txid. Public data is bounded
where it lives (sim/market.py: a window of public trades and one-minute candles per pair),
private events are handed to the WebSocket shell and dropped (sim/ws.py), and the
number formatting caches hold the current books, not their history (`FORMAT_CACHE` in
sim/book.py).
Imports: stdlib and sim.model only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import MutableMapping
from typing import TypeVar

from krakenbot.sim.model import SimOrder

MAX_CLOSED_ORDERS = 2_000
MAX_FILLS = 2_000
MAX_TOKENS = 1_000  # a token per private connection; the newest ones are the ones in use
V = TypeVar("V")


class ClosedOrderLog:
    """The txids of closed orders in the order they closed; past `limit`, the oldest one is
    removed from the exchange's `orders` too."""

    def __init__(self, limit: int = MAX_CLOSED_ORDERS) -> None:
        self.limit = limit
        self._txids: deque[str] = deque()

    def __len__(self) -> int:
        return len(self._txids)

    def closed(self, txid: str, orders: MutableMapping[str, SimOrder]) -> None:
        self._txids.append(txid)
        while len(self._txids) > self.limit:
            orders.pop(self._txids.popleft(), None)


def keep_newest(tokens: MutableMapping[str, V], limit: int = MAX_TOKENS) -> None:
    """Drop the oldest entries of an insertion-ordered mapping beyond `limit`."""
    while len(tokens) > limit:
        del tokens[next(iter(tokens))]
