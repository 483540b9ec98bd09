"""What the daemon needs of the trading stack (`app/trading_stack.py`, written by the engine side).

Owns: the structural types the daemon is written against (`StackLike`, `StackOpener`) so the
daemon's own code — and its tests' scripted stacks — depend on this contract, not on the
stack's class. Every member is typed with the value it really is (the engine's
`EngineHealth`, `ShutdownReport`, the REST client, the instruments), so a renamed field or
method is a type error here and not a silent `None` at run time. Imports: config, domain,
engine.health, engine.observe, engine.protect, net.rest_client, net.ws_config, ports,
resilience.breaker, risk.limits, store, clock, app.trading_stack (Endpoints).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from krakenbot.app.trading_stack import Endpoints
from krakenbot.clock import Clock
from krakenbot.config import Settings
from krakenbot.domain.enums import TradingState
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.sections import Credentials
from krakenbot.engine.health import EngineHealth, ShutdownReport
from krakenbot.engine.observe import EngineObserver
from krakenbot.engine.protect import SwitchNeed
from krakenbot.net.rest_client import RestClient
from krakenbot.net.ws_config import SessionStats
from krakenbot.ports import OrderTimings
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.limits import RiskLimits
from krakenbot.store import LedgerRepository

Service = tuple[str, Callable[[], Awaitable[None]]]


class StackLike(Protocol):
    """The running trading stack, as the daemon uses it."""

    @property
    def rest(self) -> RestClient | None: ...  # None in paper mode

    @property
    def instruments(self) -> Mapping[str, Instrument]: ...  # their decimals round the report

    def services(self) -> list[Service]: ...

    def request_stop(self, reason: str) -> None: ...

    async def shutdown(
        self, timeout_s: float, disarm: Callable[[], Awaitable[bool]] | None = None
    ) -> ShutdownReport: ...

    async def emergency_stop(self, reason: str) -> None: ...

    async def set_trading_state(self, state: TradingState, reason: str) -> None: ...

    async def flatten(self, reason: str) -> tuple[str, ...]: ...  # what was planned

    def ledger_write(
        self, operation: str, error: BaseException | None, started_ns: int | None = None
    ) -> None: ...

    def health(self) -> EngineHealth: ...

    def healthy(self) -> bool: ...

    def switch_need(self) -> SwitchNeed: ...  # what the dead man's switch must respect

    def watch_switch_need(self, callback: Callable[[], None]) -> None: ...

    # The operator's surface: metrics and notifications (app/observers.py).
    def observe(self, observer: EngineObserver, timings: OrderTimings) -> None: ...

    @property
    def limits(self) -> RiskLimits: ...

    @property
    def breaker(self) -> CircuitBreaker: ...

    def session_stats(self) -> dict[str, SessionStats]: ...

    def record_to(self, path: Path) -> Callable[[], None]: ...  # `run --record`; the closer


class StackOpener(Protocol):
    def __call__(
        self,
        settings: Settings,
        *,
        live: bool,
        endpoints: Endpoints,
        credentials: Credentials | None,
        repo: LedgerRepository,
        clock: Clock,
        rng: random.Random,
    ) -> AbstractAsyncContextManager[StackLike]: ...
