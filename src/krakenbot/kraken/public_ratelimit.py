"""Kraken's public (market data) REST limit as pure accounting (time is passed in).

Owns: which public calls the limit buckets (`history_bucket`) and `PublicRateModel`, the
"how long must this call wait / charge it / Kraken said we were too fast" decisions.
Must not import: I/O, the clock, layers above `domain`.
Facts (Kraken support "What are the API rate limits?", public section; API.md §3): the public
endpoints are limited per IP address, and per IP address *and currency pair* for `Trades` and
`OHLC`; "calling the public endpoints at a frequency of 1 per second (or less) would remain
within the rate limits"; past the limit Kraken answers `EGeneral:Too many requests` and keeps
refusing for a few seconds. The exact budget is not published, so the model keeps to the
documented safe rate: one market-history call per second per pair, Trades and OHLC sharing
the pair's budget (the stricter reading). Other public calls (Time, AssetPairs, Ticker, …) are
few and are not paced (a daemon's start-up makes a handful).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from krakenbot.kraken.ratelimit import Counter

HISTORY_METHODS = frozenset({"Trades", "OHLC"})


def history_bucket(method: str, params: Mapping[str, object]) -> str | None:
    """The bucket a public call is paced in, or None when it is not paced."""
    if method not in HISTORY_METHODS:
        return None
    return f"history:{str(params.get('pair', '')).upper()}"


@dataclass(slots=True)
class PublicRateModel:
    """One decaying counter per bucket: a call costs 1, the counter decays `per_s` a second
    and may not exceed `burst`; `burst=1, per_s=1` spaces calls one second apart."""

    per_s: float = 1.0
    burst: float = 1.0
    _counters: dict[str, Counter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.per_s > 0 or not self.burst >= 1:
            raise ValueError("per_s must be > 0 and burst >= 1")

    def _counter(self, bucket: str, now_ns: int) -> Counter:
        counter = self._counters.get(bucket)
        if counter is None:
            counter = self._counters[bucket] = Counter(0.0, now_ns)
        counter.decay_to(now_ns, self.per_s)
        return counter

    def wait_s(self, bucket: str, now_ns: int) -> float:
        return self._counter(bucket, now_ns).wait_s(1.0, self.burst, self.per_s)

    def charge(self, bucket: str, now_ns: int) -> None:
        self._counter(bucket, now_ns).level += 1.0

    def on_limited(self, bucket: str, now_ns: int) -> None:
        """Kraken refused the call: the budget is spent; wait a full `burst` before the next."""
        counter = self._counter(bucket, now_ns)
        counter.level = max(counter.level, self.burst + 1.0)

    def level(self, bucket: str, now_ns: int) -> float:
        return self._counter(bucket, now_ns).level
