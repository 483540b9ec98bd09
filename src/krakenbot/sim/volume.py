"""The account's 30-day USD trade volume and the fee tier it implies (pure).

Owns: `VolumeTally` (the USD value of the account's fills in one-minute buckets over the last
`WINDOW_NS`; at most 43,200 buckets, so memory stays flat at any `--speed`), `usd_value` (a
fill's cost in USD: a USD-quoted pair's cost as is, another quote at the last price of its
`<quote>/USD` pair) and `tier_of` / `fee_pct` (the tier of a fee schedule — `[volume,
percent]` rows, lowest volume first, as AssetPairs prints them and domain/fees.py defines
them — that a volume reaches). Imports: stdlib and sim.* only.
Kraken: "Returns 30 day USD trading volume and resulting fee schedule" (docs get-trade-volume)
and fee-schedule: the fee is set by the last 30 days' volume. Not documented, chosen here:
the window slides by whole minutes (a fill counts until its minute is 30 days old); a fill
whose quote has no `<quote>/USD` pair in the sim counts nothing; the fill's own volume counts
for the fills after it, not for its own fee.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from krakenbot.sim.model import ZERO

NS = 1_000_000_000
MINUTE_NS = 60 * NS
WINDOW_NS = 30 * 24 * 60 * MINUTE_NS
FeeTable = Sequence[tuple[int, Decimal]]


class _Priced(Protocol):
    last_price: Decimal


class VolumeTally:
    def __init__(self) -> None:
        self._buckets: deque[tuple[int, Decimal]] = deque()  # (minute, USD), oldest first

    def add(self, now_ns: int, usd: Decimal) -> None:
        minute = now_ns // MINUTE_NS
        if self._buckets and self._buckets[-1][0] == minute:
            self._buckets[-1] = (minute, self._buckets[-1][1] + usd)
        else:
            self._buckets.append((minute, usd))

    def total(self, now_ns: int) -> Decimal:
        """The USD volume of the fills of the last 30 days (older minutes are dropped)."""
        oldest = (now_ns - WINDOW_NS) // MINUTE_NS
        while self._buckets and self._buckets[0][0] <= oldest:
            self._buckets.popleft()
        return sum((usd for _, usd in self._buckets), ZERO)


def usd_value(quote: str, cost: Decimal, markets: Mapping[str, _Priced]) -> Decimal:
    """`cost` in `quote` as USD, through the last price of the `<quote>/USD` market."""
    if quote == "USD":
        return cost
    market = markets.get(f"{quote}/USD")
    return ZERO if market is None else cost * market.last_price


def tier_of(table: FeeTable, volume: Decimal) -> int:
    """The index of the highest tier whose volume threshold `volume` reaches."""
    reached = [i for i, (threshold, _) in enumerate(table) if volume >= threshold]
    return reached[-1] if reached else 0


def fee_pct(table: FeeTable, volume: Decimal) -> Decimal:
    return table[tier_of(table, volume)][1]


__all__ = ["WINDOW_NS", "VolumeTally", "fee_pct", "tier_of", "usd_value"]
