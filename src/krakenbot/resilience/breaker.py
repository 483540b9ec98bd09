"""Circuit breaker on an injected clock: closed → open → half-open → closed.

Owns: the breaker state machine and its transition callbacks (for logs and the audit
trail). Must not import: I/O, anything above `clock`/`errors`.
Rules: `threshold` consecutive failures open it; after `cooldown_s` it is half-open and lets
one probe through; a successful probe closes it, a failed one re-opens it. While open, new
orders that add risk are refused; exits and cancels always go (the caller decides which
calls are gated).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from krakenbot.clock import Clock
from krakenbot.errors import TransientError

logger = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    name: str
    old: BreakerState
    new: BreakerState
    reason: str
    at_ns: int
    failures: int


class CircuitOpenError(TransientError):
    """The breaker is open: the request was not sent."""


TransitionCallback = Callable[[BreakerTransition], None]


class CircuitBreaker:
    def __init__(
        self,
        clock: Clock,
        *,
        threshold: int = 5,
        cooldown_s: float = 30.0,
        name: str = "kraken-rest",
        on_transition: TransitionCallback | None = None,
    ) -> None:
        if threshold < 1 or cooldown_s < 0:
            raise ValueError("threshold must be ≥ 1 and cooldown ≥ 0")
        self._clock = clock
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.name = name
        self._callbacks: list[TransitionCallback] = [on_transition] if on_transition else []
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_mono = 0
        self._probe_out = False
        # Recent transitions for status displays; the audit trail subscribes via callbacks.
        self.transitions: deque[BreakerTransition] = deque(maxlen=256)

    def subscribe(self, callback: TransitionCallback) -> None:
        self._callbacks.append(callback)

    @property
    def failures(self) -> int:
        return self._failures

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN:
            elapsed = (self._clock.monotonic_ns() - self._opened_mono) / 1e9
            if elapsed >= self.cooldown_s:
                self._move(BreakerState.HALF_OPEN, "cooldown elapsed")
        return self._state

    def retry_in_s(self) -> float:
        if self.state is not BreakerState.OPEN:
            return 0.0
        elapsed = (self._clock.monotonic_ns() - self._opened_mono) / 1e9
        return max(0.0, self.cooldown_s - elapsed)

    def admits(self) -> bool:
        """Would `allow()` say yes now? (A look that takes no probe: the risk gate refuses
        an entry the sender would refuse, so the refusal is an audit event, not an order
        row persisted only to be rejected.)"""
        state = self.state
        return state is BreakerState.CLOSED or (
            state is BreakerState.HALF_OPEN and not self._probe_out
        )

    def allow(self) -> bool:
        """May a gated call (a new order) go now? In half-open, exactly one probe may."""
        if self._state is BreakerState.CLOSED:  # the usual answer, on every order's path
            return True
        if not self.admits():
            return False
        if self._state is BreakerState.HALF_OPEN:
            self._probe_out = True
        return True

    def record_success(self) -> None:
        self._failures = 0
        if self._state is BreakerState.CLOSED:  # nothing to move (every order's ack)
            return
        if self.state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED, "probe succeeded")

    def record_failure(self, reason: str) -> None:
        self._failures += 1
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._open(f"probe failed: {reason}")
        elif state is BreakerState.CLOSED and self._failures >= self.threshold:
            self._open(f"{self._failures} consecutive failures, last: {reason}")

    def trip(self, reason: str) -> None:
        """Open at once (e.g. a second invalid nonce), whatever the count."""
        self._failures = max(self._failures, self.threshold)
        if self._state is not BreakerState.OPEN:
            self._open(reason)
        else:
            self._opened_mono = self._clock.monotonic_ns()

    def _open(self, reason: str) -> None:
        self._opened_mono = self._clock.monotonic_ns()
        self._move(BreakerState.OPEN, reason)

    def _move(self, new: BreakerState, reason: str) -> None:
        old, self._state = self._state, new
        self._probe_out = False
        event = BreakerTransition(self.name, old, new, reason, self._clock.now_ns(), self._failures)
        self.transitions.append(event)
        log = logger.warning if new is BreakerState.OPEN else logger.info
        log(
            "circuit breaker %s: %s -> %s (%s)",
            self.name,
            old.value,
            new.value,
            reason,
            extra={"breaker": self.name, "old": old.value, "new": new.value, "reason": reason},
        )
        for callback in self._callbacks:
            callback(event)
