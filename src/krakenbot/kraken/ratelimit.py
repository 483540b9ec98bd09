"""Kraken's two rate limiters as pure accounting (time is passed in, never read).

Owns: tier tables, REST call costs, the age-based cancel/amend/edit penalties, the
per-key shared state (nonce high-water mark + counters) and the decisions "how long must
this call wait" / "charge it" / "Kraken told us otherwise, correct the model".
Must not import: I/O, the clock, layers above `domain`.
Facts: docs guides/spot-rest-ratelimits (REST counter +1, +2 for ledger/trade history,
AddOrder/CancelOrder not counted; Starter 15/-0.33 s⁻¹, Intermediate 20/-0.5, Pro 20/-1)
and guides/spot-ratelimits (per-pair trading counter: thresholds 60/125/180, decay
1/2.34/3.75 s⁻¹, +1 per add, age-based cancel/amend/edit penalties).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

NS = 1_000_000_000
MIN_WAIT_S = 0.001


class Tier(StrEnum):
    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


@dataclass(frozen=True, slots=True)
class TierLimits:
    rest_max: float
    rest_decay_per_s: float
    trade_threshold: float
    trade_decay_per_s: float
    max_open_per_pair: int


TIER_LIMITS: dict[Tier, TierLimits] = {
    Tier.STARTER: TierLimits(15, 0.33, 60, 1.0, 60),
    Tier.INTERMEDIATE: TierLimits(20, 0.5, 125, 2.34, 80),
    Tier.PRO: TierLimits(20, 1.0, 180, 3.75, 225),
}

_REST_COST_2 = frozenset({"TradesHistory", "QueryTrades", "Ledgers", "QueryLedgers"})
# Charged to the matching-engine counter instead (docs: spot-rest-ratelimits).
_REST_EXEMPT = frozenset(
    {"AddOrder", "AddOrderBatch", "CancelOrder", "CancelOrderBatch", "EditOrder", "AmendOrder"}
)

# (age upper bound in seconds, exclusive; penalty). docs: guides/spot-ratelimits.
_CANCEL = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))
_AMEND = ((5, 3), (10, 2), (15, 1))
_EDIT = ((5, 6), (10, 5), (15, 4), (45, 2), (90, 1))
# An order whose age we do not know (placed by another program) is charged the worst case.
UNKNOWN_AGE_CANCEL_PENALTY = 8


def rest_cost(method: str) -> int:
    """Points a private call adds to the per-key REST counter (0 for trading calls)."""
    if method in _REST_EXEMPT:
        return 0
    return 2 if method in _REST_COST_2 else 1


def _penalty(table: tuple[tuple[int, int], ...], age_s: float | None) -> int:
    if age_s is None:
        return table[0][1]
    for bound, cost in table:
        if age_s < bound:
            return cost
    return 0


def cancel_cost(age_s: float | None) -> int:
    return _penalty(_CANCEL, age_s)


def amend_cost(age_s: float | None) -> int:
    return 1 + _penalty(_AMEND, age_s)


def edit_cost(age_s: float | None) -> int:
    return 1 + _penalty(_EDIT, age_s)


ADD_COST = 1


@dataclass(slots=True)
class Counter:
    """A counter decaying linearly to zero; `at_ns` is when `level` was last true."""

    level: float = 0.0
    at_ns: int = 0

    def decay_to(self, now_ns: int, per_s: float) -> float:
        # A wall clock that stepped back gives no decay (conservative), never negative decay.
        if now_ns > self.at_ns:
            self.level = max(0.0, self.level - (now_ns - self.at_ns) / NS * per_s)
        self.at_ns = now_ns
        return self.level

    def level_at(self, now_ns: int, per_s: float) -> float:
        """The level decayed to `now_ns`, without changing the counter."""
        return max(0.0, self.level - max(0, now_ns - self.at_ns) / NS * per_s)

    def wait_s(self, cost: float, limit: float, per_s: float) -> float:
        """Seconds until `level + cost <= limit` (after `decay_to` was applied)."""
        excess = self.level + cost - limit
        if excess <= 1e-9:
            return 0.0
        # At least 1 ms: float residue must never turn into a zero-length busy wait.
        return max(excess / per_s, MIN_WAIT_S)


@dataclass(slots=True)
class KeyState:
    """Everything shared by all processes using one API key (persisted under a file lock)."""

    nonce_high_water: int = 0
    rest: Counter = field(default_factory=Counter)
    trading: dict[str, Counter] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "nonce": self.nonce_high_water,
            "rest": [self.rest.level, self.rest.at_ns],
            # Fully decayed pairs are dropped: the state stays a few hundred bytes.
            "trading": {p: [c.level, c.at_ns] for p, c in self.trading.items() if c.level > 0},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyState:
        rest = data.get("rest") or [0.0, 0]
        trading = data.get("trading") or {}
        return cls(
            nonce_high_water=int(data.get("nonce", 0)),
            rest=Counter(float(rest[0]), int(rest[1])),
            trading={str(p): Counter(float(v[0]), int(v[1])) for p, v in trading.items()},
        )

    def pair(self, pair: str) -> Counter:
        counter = self.trading.get(pair)
        if counter is None:
            counter = self.trading[pair] = Counter()
        return counter


@dataclass(frozen=True, slots=True)
class RateModel:
    """Decisions over a KeyState for one tier. `margin` keeps us a little under Kraken's line."""

    limits: TierLimits
    rest_margin: float = 1.0
    trade_margin: float = 2.0
    # Queries leave this much REST headroom for order lookups and emergency calls.
    query_reserve: float = 2.0
    # New orders leave room for one worst-case cancel, so adds can never starve cancels.
    cancel_reserve: float = UNKNOWN_AGE_CANCEL_PENALTY

    def rest_wait_s(self, state: KeyState, method: str, now_ns: int, *, query: bool) -> float:
        cost = rest_cost(method)
        if cost == 0:
            return 0.0
        state.rest.decay_to(now_ns, self.limits.rest_decay_per_s)
        limit = self.limits.rest_max - self.rest_margin - (self.query_reserve if query else 0.0)
        return state.rest.wait_s(cost, limit, self.limits.rest_decay_per_s)

    def charge_rest(self, state: KeyState, method: str, now_ns: int) -> None:
        state.rest.decay_to(now_ns, self.limits.rest_decay_per_s)
        state.rest.level += rest_cost(method)

    def trade_wait_s(
        self, state: KeyState, pair: str, cost: float, now_ns: int, *, cancel: bool = False
    ) -> float:
        counter = state.pair(pair)
        counter.decay_to(now_ns, self.limits.trade_decay_per_s)
        limit = self.limits.trade_threshold - self.trade_margin
        if not cancel:
            limit -= self.cancel_reserve
        return counter.wait_s(cost, limit, self.limits.trade_decay_per_s)

    def reserve_trade(
        self, state: KeyState, pair: str, cost: float, now_ns: int, *, cancel: bool = False
    ) -> float:
        """`trade_wait_s`, and when that is 0 also `charge_trade`, in one pass (the counter is
        decayed once): 0.0 when charged, else the wait, nothing charged. Every WebSocket order
        takes this path, nearly always far from the limit."""
        counter = state.trading.get(pair)
        if counter is None:
            counter = state.trading[pair] = Counter()
        per_s = self.limits.trade_decay_per_s
        counter.decay_to(now_ns, per_s)
        limit = self.limits.trade_threshold - self.trade_margin
        if not cancel:
            limit -= self.cancel_reserve
        if counter.level + cost - limit <= 1e-9:  # Counter.wait_s's test for "no wait"
            counter.level += cost
            return 0.0
        return counter.wait_s(cost, limit, per_s)

    def charge_trade(self, state: KeyState, pair: str, cost: float, now_ns: int) -> None:
        counter = state.pair(pair)
        counter.decay_to(now_ns, self.limits.trade_decay_per_s)
        counter.level += cost

    def observe_trading_counter(
        self, state: KeyState, pair: str, value: float, now_ns: int
    ) -> None:
        """Kraken's live counter (WS executions `ratecounter`): never let the model lag it."""
        counter = state.pair(pair)
        counter.decay_to(now_ns, self.limits.trade_decay_per_s)
        counter.level = max(counter.level, value)

    def rest_level(self, state: KeyState | None, now_ns: int) -> float:
        """The REST counter at `now_ns` (decayed; read-only: nothing charged or stored)."""
        return 0.0 if state is None else _decayed(state.rest, now_ns, self.limits.rest_decay_per_s)

    def trade_level(
        self,
        state: KeyState | None,
        pair: str,
        now_ns: int,
        seen: tuple[float, int] | None = None,
    ) -> float:
        """The pair's trading counter at `now_ns` (decayed, read-only), or Kraken's live
        reading `seen` (value, at_ns) decayed likewise when that is higher."""
        per_s = self.limits.trade_decay_per_s
        counter = None if state is None else state.trading.get(pair)
        best = 0.0 if counter is None else _decayed(counter, now_ns, per_s)
        if seen is not None:
            best = max(best, _decayed(Counter(*seen), now_ns, per_s))
        return best

    def on_rest_limited(self, state: KeyState, now_ns: int) -> None:
        """Kraken said `EAPI:Rate limit exceeded`: our model was low; assume the counter is full."""
        state.rest.decay_to(now_ns, self.limits.rest_decay_per_s)
        state.rest.level = max(state.rest.level, self.limits.rest_max)

    def on_trade_limited(self, state: KeyState, pair: str, now_ns: int) -> None:
        counter = state.pair(pair)
        counter.decay_to(now_ns, self.limits.trade_decay_per_s)
        counter.level = max(counter.level, self.limits.trade_threshold)


@dataclass(slots=True)
class UnsharedCharges:
    """Trading-counter charges made on the in-memory KeyState without the key's file lock
    (WebSocket orders carry no nonce, so they do not queue behind a REST request in flight),
    not yet written to the shared state file. The next locked call writes them with its own
    save; if another process wrote the file in between, the freshly loaded state lacks them
    and `replay` adds what is left of them after decay."""

    pending: dict[str, Counter] = field(default_factory=dict)

    def add(self, pair: str, cost: float, now_ns: int, per_s: float) -> None:
        counter = self.pending.get(pair)
        if counter is None:
            counter = self.pending[pair] = Counter()
        counter.decay_to(now_ns, per_s)
        counter.level += cost

    def replay(self, model: RateModel, state: KeyState, now_ns: int) -> None:
        per_s = model.limits.trade_decay_per_s
        for pair, counter in self.pending.items():
            left = counter.level_at(now_ns, per_s)
            if left > 0:
                model.charge_trade(state, pair, left, now_ns)

    def clear(self) -> None:
        self.pending.clear()


def _decayed(counter: Counter, now_ns: int, per_s: float) -> float:
    """`counter`'s level at `now_ns` without touching it (a clock that stepped back: none)."""
    return max(0.0, counter.level - max(0, now_ns - counter.at_ns) / NS * per_s)
