"""The one bounded wait of the test suite: poll a condition instead of sleeping.

`eventually(check, within_s, what)` calls `check` (plain or async) until it returns something
truthy and returns that value, or fails with an `AssertionError` naming `what` once
`within_s` seconds have passed. The clock is the event loop's (monotonic).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")
WAIT_S = 10.0


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    within_s: float = WAIT_S,
    what: str = "condition",
    *,
    interval_s: float = 0.01,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    within_s: float = WAIT_S,
    what: str = "condition",
    *,
    interval_s: float = 0.01,
) -> T: ...


async def eventually(
    check: Callable[[], object],
    within_s: float = WAIT_S,
    what: str = "condition",
    *,
    interval_s: float = 0.01,
) -> object:
    """Poll `check` until it returns something truthy (bounded); returns that value."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within_s
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= give_up:
            raise AssertionError(f"timed out after {within_s:g} s waiting for: {what}")
        await asyncio.sleep(interval_s)
