"""One side of a price-level order book and the public book of a pair (pure).

Owns: `SideBook` (sorted levels, with the part of each level that is the simulated account's
own resting orders tracked separately so the market feed never removes it) and the v2 book
CRC32 checksum. Imports: stdlib only.
Checksum rule: docs guides/spot-ws-book-v2 (API.md §7.7): top 10 asks ascending then top 10
bids descending, each price and qty as fixed-precision text with '.' and leading zeros removed.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

ZERO = Decimal(0)
# Entries of the number-text caches (here and sim/wire_ws.py): enough for the levels of every
# book being published, so they repeat from one update to the next; bounded so that a long run
# does not keep every price and quantity it ever printed (sim/history.py).
FORMAT_CACHE = 4_096


class SideBook:
    """Price levels of one side; `levels` is what the public sees (market + own)."""

    __slots__ = ("_keys", "bids", "levels", "own")

    def __init__(self, *, bids: bool) -> None:
        self.bids = bids
        self.levels: dict[Decimal, Decimal] = {}
        self.own: dict[Decimal, Decimal] = {}
        self._keys: list[Decimal] = []  # ascending

    def __len__(self) -> int:
        return len(self._keys)

    def set(self, price: Decimal, qty: Decimal) -> None:
        if qty <= 0:
            if price in self.levels:
                del self.levels[price]
                del self._keys[bisect_left(self._keys, price)]
            return
        if price not in self.levels:
            insort(self._keys, price)
        self.levels[price] = qty

    def market_qty(self, price: Decimal) -> Decimal:
        return self.levels.get(price, ZERO) - self.own.get(price, ZERO)

    def set_market(self, price: Decimal, qty: Decimal) -> None:
        """Set the market's part of a level, keeping the account's own part."""
        self.set(price, max(qty, ZERO) + self.own.get(price, ZERO))

    def add_own(self, price: Decimal, qty: Decimal) -> None:
        own = self.own.get(price, ZERO) + qty
        if own <= 0:
            self.own.pop(price, None)
        else:
            self.own[price] = own
        self.set(price, self.levels.get(price, ZERO) + qty)

    def best(self) -> Decimal | None:
        if not self._keys:
            return None
        return self._keys[-1] if self.bids else self._keys[0]

    def best_market(self) -> Decimal | None:
        own = self.own
        for price in self.iter_prices():
            if price not in own or self.market_qty(price) > 0:
                return price
        return None

    def iter_prices(self) -> Iterator[Decimal]:
        """Prices best first, without copying (do not modify the side while iterating)."""
        return reversed(self._keys) if self.bids else iter(self._keys)

    def prices(self) -> list[Decimal]:
        """All prices, best first."""
        return self._keys[::-1] if self.bids else list(self._keys)

    def top(self, n: int) -> list[tuple[Decimal, Decimal]]:
        keys = self._keys[: -n - 1 : -1] if self.bids else self._keys[:n]
        levels = self.levels
        return [(p, levels[p]) for p in keys]

    def worst(self) -> Decimal | None:
        if not self._keys:
            return None
        return self._keys[0] if self.bids else self._keys[-1]


@lru_cache(maxsize=FORMAT_CACHE)
def _level(price: str, qty: str) -> str:
    return price.replace(".", "").lstrip("0") + qty.replace(".", "").lstrip("0")


def checksum_text(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> str:
    """The string Kraken CRC32s: asks (best first) then bids (best first), 10 levels each."""
    parts = [_level(p, q) for p, q in asks[:10]]
    parts.extend(_level(p, q) for p, q in bids[:10])
    return "".join(parts)


def book_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    return zlib.crc32(checksum_text(asks, bids).encode()) & 0xFFFFFFFF
