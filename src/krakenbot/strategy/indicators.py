"""Time-weighted exponential mean and variance of a price series.

Owns: `EwmaStats`. Floats are allowed here (and only here): indicators are estimates, not
money; prices are converted at the boundary and never flow back into order prices. The
weight of each update depends on the time since the previous one (half-life in seconds),
so the statistics do not depend on how often the feed ticks.
"""

from __future__ import annotations

import math


class EwmaStats:
    def __init__(self, halflife_s: float) -> None:
        if halflife_s <= 0:
            raise ValueError("half-life must be > 0")
        self.halflife_s = halflife_s
        self.mean = 0.0
        self.var = 0.0
        self.samples = 0
        self.first_ns = 0
        self.last_ns = 0
        # The last (dt_s, half-life, weight): a regular feed repeats its step (same floats).
        self._alpha = (-1.0, halflife_s, 0.0)

    def update(self, value: float, t_ns: int) -> None:
        if self.samples == 0:
            self.mean, self.var = value, 0.0
            self.first_ns = self.last_ns = t_ns
            self.samples = 1
            return
        dt_s = max(0, t_ns - self.last_ns) / 1e9  # an out-of-order stamp weighs nothing
        last_dt, halflife, alpha = self._alpha
        if dt_s != last_dt or halflife != self.halflife_s:
            alpha = 1.0 - 0.5 ** (dt_s / self.halflife_s)
            self._alpha = (dt_s, self.halflife_s, alpha)
        delta = value - self.mean
        self.mean += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        self.last_ns = max(self.last_ns, t_ns)
        self.samples += 1

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    def zscore(self, value: float) -> float | None:
        """Standard deviations of `value` from the mean; None before any spread exists."""
        std = self.std
        if self.samples == 0 or std <= 0:
            return None
        return (value - self.mean) / std

    def age_s(self, now_ns: int) -> float:
        """Seconds of history behind the estimate."""
        return 0.0 if self.samples == 0 else max(0, now_ns - self.first_ns) / 1e9
