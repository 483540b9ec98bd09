"""What the daemon needs of the trading stack (`app/stack.py`, written by the engine side).

Owns: the structural types the daemon is written against (`StackLike`, `StackOpener`,
`Endpoints`-compatible arguments) so the daemon's own code — and its tests — depend only on
the contract in _notes/STACK_API.md, not on the engine's classes. Imports: stdlib, config
types, store, clock.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from krakenbot.clock import Clock
from krakenbot.config import Settings
from krakenbot.domain.sections import Credentials
from krakenbot.store import LedgerRepository

Service = tuple[str, Callable[[], Awaitable[None]]]


class StackLike(Protocol):
    """The running trading stack, as the daemon uses it."""

    @property
    def rest(self) -> Any: ...  # RestClient | None (None in paper mode)

    def services(self) -> list[Service]: ...

    def request_stop(self, reason: str) -> None: ...

    async def shutdown(self, timeout_s: float) -> object: ...

    def health(self) -> object: ...

    def healthy(self) -> bool: ...


class StackOpener(Protocol):
    def __call__(
        self,
        settings: Settings,
        *,
        live: bool,
        endpoints: Any,
        credentials: Credentials | None,
        repo: LedgerRepository,
        clock: Clock,
        rng: random.Random,
    ) -> AbstractAsyncContextManager[StackLike]: ...
