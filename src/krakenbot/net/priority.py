"""An asyncio lock granted by priority (lower first), FIFO within one priority.

Owns: in-process ordering of private REST calls (cancels > orders > queries). Must not
import: anything above `net`. Cancellation-safe: a waiter cancelled after being granted the
lock passes it on instead of leaking it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class PriorityLock:
    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def locked(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        """Take the lock if it is free and nobody waits for it (no trip through the loop)."""
        if self._held or self._waiters:
            return False
        self._held = True
        return True

    async def acquire(self, priority: int) -> None:
        if self.try_acquire():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # we were granted the lock just as we got cancelled
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)  # ownership passes directly; _held stays True
                return
        self._held = False
