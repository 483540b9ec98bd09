"""Capped exponential backoff with full jitter, driven by an injected random.Random.

Owns: the delay sequence for retries. Must not import: I/O, the clock, anything above
`errors`. Full jitter (uniform in [0, min(cap, base·2^n)]) spreads the retries of several
processes sharing a key instead of letting them collide in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    base_s: float = 0.25
    cap_s: float = 8.0
    max_attempts: int = 4  # retries after the first try
    floor_s: float = 0.0  # never wait less than this (e.g. to let a counter decay)

    def delays(self, rng: random.Random) -> Iterator[float]:
        """The waits before retry 1, 2, … (at most `max_attempts` of them)."""
        for attempt in range(self.max_attempts):
            ceiling = min(self.cap_s, self.base_s * (2**attempt))
            yield max(self.floor_s, rng.uniform(0.0, ceiling))
