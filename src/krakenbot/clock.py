"""Injected time: every component that reads time gets a Clock.

Owns: the `Clock` protocol, the real `SystemClock` and the test/simulator `ManualClock`.
Imports: stdlib only. `sleep` lives here so a ManualClock can make waiting instant and
deterministic in tests while the real clock defers to asyncio.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Wall-clock UTC time in nanoseconds since the epoch."""
        ...

    def monotonic_ns(self) -> int:
        """Monotonic time in nanoseconds (for durations, never for timestamps)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock."""
        ...


class SystemClock:
    """The real clock."""

    def now_ns(self) -> int:
        return time.time_ns()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to; `sleep` advances it and yields once."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000, monotonic_ns: int = 0) -> None:
        self._now_ns = start_ns
        self._mono_ns = monotonic_ns

    def now_ns(self) -> int:
        return self._now_ns

    def monotonic_ns(self) -> int:
        return self._mono_ns

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a ManualClock never runs backwards; use set_wall_ns for steps")
        delta = round(seconds * 1_000_000_000)
        self._now_ns += delta
        self._mono_ns += delta

    def set_wall_ns(self, now_ns: int) -> None:
        """Step the wall clock (it may go back, as a real one can); monotonic time is kept."""
        self._now_ns = now_ns

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)
        await asyncio.sleep(0)
