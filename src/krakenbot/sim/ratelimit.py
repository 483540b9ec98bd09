"""Kraken's two rate limiters as pure accounting (time is passed in, never read).

Owns: tier tables, the per-key REST call counter and the per-(account, pair) trading
counter with age-based cancel/amend penalties. Imports: stdlib only.
Facts: docs guides/spot-rest-ratelimits (REST counter: +1 per private call, +2 for ledger /
trade history, AddOrder/CancelOrder exempt, decay per tier) and guides/spot-ratelimits
(trading counter: fixed + age-decaying penalties, threshold, open orders per pair; the
"Incrementing the rate counter" table: Amend +1 fixed, +3/+2/+1 under 5/10/15 s; Edit +1
fixed, +6/+5/+4/+2/+1 under 5/10/15/45/90 s; Cancel +8/+6/+5/+4/+2/+1 under
5/10/15/45/90/300 s; the age counts from the order's creation or last amend).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    rest_max: Decimal
    rest_decay: Decimal  # per second
    trade_threshold: Decimal
    trade_decay: Decimal  # per second
    max_open_per_pair: int


TIERS: dict[str, Tier] = {
    "starter": Tier("starter", Decimal(15), Decimal("0.33"), Decimal(60), Decimal(1), 60),
    "intermediate": Tier(
        "intermediate", Decimal(20), Decimal("0.5"), Decimal(125), Decimal("2.34"), 80
    ),
    "pro": Tier("pro", Decimal(20), Decimal(1), Decimal(180), Decimal("3.75"), 225),
}

# Methods that cost 2 on the REST counter (ledger and trade history queries).
REST_COST_2 = frozenset({"TradesHistory", "QueryTrades", "Ledgers", "QueryLedgers"})
# Methods that do not touch the REST counter (they are charged to the trading counter).
REST_EXEMPT = frozenset(
    {"AddOrder", "AddOrderBatch", "CancelOrder", "CancelOrderBatch", "EditOrder", "AmendOrder"}
)

# Age buckets (upper bound in seconds, exclusive) and the penalty in each.
_CANCEL_PENALTY = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))
_AMEND_PENALTY = ((5, 3), (10, 2), (15, 1))
_EDIT_PENALTY = ((5, 6), (10, 5), (15, 4), (45, 2), (90, 1))


def _penalty(table: tuple[tuple[int, int], ...], age_s: float) -> Decimal:
    for bound, cost in table:
        if age_s < bound:
            return Decimal(cost)
    return Decimal(0)


def cancel_penalty(age_s: float) -> Decimal:
    return _penalty(_CANCEL_PENALTY, age_s)


def amend_penalty(age_s: float) -> Decimal:
    return _penalty(_AMEND_PENALTY, age_s)


def edit_penalty(age_s: float) -> Decimal:
    return _penalty(_EDIT_PENALTY, age_s)


class DecayingCounter:
    """A counter that decays linearly towards zero at `decay` per second."""

    __slots__ = ("_last_ns", "_value", "decay")

    def __init__(self, decay: Decimal) -> None:
        self.decay = decay
        self._value = Decimal(0)
        self._last_ns: int | None = None

    def value(self, now_ns: int) -> Decimal:
        if self._last_ns is not None and now_ns > self._last_ns and self._value > 0:
            elapsed = Decimal(now_ns - self._last_ns) / NS
            self._value = max(Decimal(0), self._value - elapsed * self.decay)
        if self._last_ns is None or now_ns > self._last_ns:
            self._last_ns = now_ns
        return self._value

    def add(self, amount: Decimal, now_ns: int) -> Decimal:
        self._value = self.value(now_ns) + amount
        return self._value


class RestCounter:
    """Per-key REST call counter: a call that would push it past the max is refused."""

    def __init__(self, tier: Tier) -> None:
        self.tier = tier
        self._counters: dict[str, DecayingCounter] = {}

    def _get(self, key: str) -> DecayingCounter:
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = DecayingCounter(self.tier.rest_decay)
        return counter

    def charge(self, key: str, method: str, now_ns: int) -> bool:
        """Account for one call; False means `EAPI:Rate limit exceeded`."""
        if method in REST_EXEMPT:
            return True
        cost = Decimal(2) if method in REST_COST_2 else Decimal(1)
        counter = self._get(key)
        if counter.value(now_ns) + cost > self.tier.rest_max:
            return False
        counter.add(cost, now_ns)
        return True

    def value(self, key: str, now_ns: int) -> Decimal:
        return self._get(key).value(now_ns)

    def spend(self, key: str, points: Decimal, now_ns: int) -> Decimal:
        """Points spent by calls made elsewhere (another process with the same key, an earlier
        run): the counter rises by `points`, never past the tier's maximum."""
        counter = self._get(key)
        room = max(Decimal(0), self.tier.rest_max - counter.value(now_ns))
        return counter.add(min(Decimal(points), room), now_ns)


class TradingCounter:
    """Per-pair matching-engine counter shared by REST and WebSocket trading."""

    def __init__(self, tier: Tier) -> None:
        self.tier = tier
        self._counters: dict[str, DecayingCounter] = {}

    def _get(self, symbol: str) -> DecayingCounter:
        counter = self._counters.get(symbol)
        if counter is None:
            counter = self._counters[symbol] = DecayingCounter(self.tier.trade_decay)
        return counter

    def value(self, symbol: str, now_ns: int) -> Decimal:
        return self._get(symbol).value(now_ns)

    def charge_add(self, symbol: str, now_ns: int, n_orders: int = 1) -> bool:
        """Charge an add (batch: n/2) on receipt; False means over the threshold."""
        cost = Decimal(1) if n_orders == 1 else Decimal(n_orders) / 2
        counter = self._get(symbol)
        if counter.value(now_ns) + cost > self.tier.trade_threshold:
            # The fixed cost is charged on receipt even when the order is refused.
            counter.add(cost, now_ns)
            return False
        counter.add(cost, now_ns)
        return True

    def charge_amend(self, symbol: str, age_s: float, now_ns: int) -> bool:
        """Charge an amend: +1 on receipt, plus the age penalty when it goes through; False
        (the +1 kept) means over the threshold (`EOrder:Rate limit exceeded`)."""
        return self._charge_modify(symbol, amend_penalty(age_s), now_ns)

    def charge_edit(self, symbol: str, age_s: float, now_ns: int) -> bool:
        """Charge an edit (cancel and replace) like an amend, with the edit penalties."""
        return self._charge_modify(symbol, edit_penalty(age_s), now_ns)

    def _charge_modify(self, symbol: str, penalty: Decimal, now_ns: int) -> bool:
        cost = Decimal(1) + penalty
        counter = self._get(symbol)
        if counter.value(now_ns) + cost > self.tier.trade_threshold:
            counter.add(Decimal(1), now_ns)
            return False
        counter.add(cost, now_ns)
        return True

    def charge_cancel(self, symbol: str, age_s: float, now_ns: int, *, force: bool) -> bool:
        """Charge the age-based cancel penalty. Batch cancels / cancel-all pass `force`."""
        penalty = cancel_penalty(age_s)
        counter = self._get(symbol)
        if not force and penalty and counter.value(now_ns) + penalty > self.tier.trade_threshold:
            return False
        counter.add(penalty, now_ns)
        return True


class PublicCounter:
    """Kraken's public market-history limit: per client IP and pair, shared by `Trades` and
    `OHLC` (support article "What are the API rate limits?": public calls are limited per IP,
    and per IP and currency pair for Trades and OHLC; 1 call per second stays within it).
    The budget is not published: here `burst` calls at once, refilled at `per_s` a second. A
    refused call is not counted."""

    def __init__(self, burst: Decimal = Decimal(2), per_s: Decimal = Decimal(1)) -> None:
        self.burst = burst
        self.per_s = per_s
        self._counters: dict[str, DecayingCounter] = {}
        self.refused = 0

    def charge(self, key: str, now_ns: int) -> bool:
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = DecayingCounter(self.per_s)
        if counter.value(now_ns) + 1 > self.burst:
            self.refused += 1
            return False
        counter.add(Decimal(1), now_ns)
        return True
