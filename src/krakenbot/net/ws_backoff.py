"""Reconnect delays for the WebSocket session (pure).

Owns: capped exponential backoff with jitter drawn from an injected `random.Random`.
Imports: stdlib only. "Equal jitter": half the capped delay is fixed, half random, so retries
spread out (no thundering herd after a Kraken-wide disconnect) yet never fire immediately.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_s: float = 0.5
    cap_s: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before reconnect attempt number `attempt` (0 = first retry)."""
        base = min(self.cap_s, self.initial_s * self.factor ** min(attempt, 64))
        return base / 2 + rng.uniform(0, base / 2)
