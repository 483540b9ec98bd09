"""What the engine reports about itself: `EngineHealth`, `EngineCounts`, `ShutdownReport`,
and how a runner's health is read (`report`, `is_healthy`).

Owns: frozen values for the daemon's health endpoint, status command and shutdown log.
Imports: domain, resilience, engine. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.domain.enums import Channel, ConnectionState, TradingState
from krakenbot.domain.events import BookTop
from krakenbot.domain.portfolio import PnlReport, utc_day
from krakenbot.domain.working import exposure
from krakenbot.engine.core import EngineCounts
from krakenbot.resilience.breaker import BreakerState

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RateReading:
    """One of Kraken's rate counters as the rate model sees it: "rest" (the key's REST
    counter) or a pair (its trading counter), against the limit of the account's tier."""

    counter: str
    level: float
    limit: float


@dataclass(frozen=True, slots=True)
class EngineHealth:
    trading_state: TradingState
    breaker_state: BreakerState
    last_market_data_ns: int  # recv time of the newest book view, 0 = none yet
    book_verified: bool  # every traded symbol has a verified book
    ws_public: ConnectionState | None
    ws_private: ConnectionState | None  # None: the venue has no private stream (paper)
    open_orders: int
    pnl: PnlReport = field(default_factory=PnlReport)  # positions, PnL at the live marks
    last_error: str = ""
    counts: EngineCounts = field(default_factory=EngineCounts)
    stop_requested: bool = False
    ledger_error: str = ""  # set while ledger writes fail (new orders refused meanwhile)
    books: Mapping[str, BookTop] = field(default_factory=dict)  # each pair's top of book
    rates: tuple[RateReading, ...] = ()  # the venue's rate counters (the stack adds them)
    # Quote value at risk if every working entry filled (risk gate's `exposure`, at the
    # verified marks); None: a position has no price.
    exposure: Decimal | None = Decimal(0)
    denials_by_rule: Mapping[str, int] = field(default_factory=dict)  # counts.denials by rule
    reconnects_by_channel: Mapping[str, int] = field(default_factory=dict)  # counts.reconnects
    ledger_failures: int = 0  # failed ledger writes since start


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    cancels_sent: int  # our live orders we asked to cancel
    still_open: tuple[str, ...]  # cl_ord_ids still open (or unknown) when time ran out
    clean: bool  # every cancel confirmed and the ledger flushed
    detail: str = ""
    # Protective stops left resting on purpose: positions are kept, and so is their cover.
    kept: tuple[str, ...] = ()


def report(runner: EngineRunner) -> EngineHealth:
    """The engine's health as the daemon shows it (core state + the runner's watch)."""
    core = runner.core
    now = runner.clock.now_ns()
    failing = runner.ledger.failing
    books = core.books
    symbols = frozenset().union(*(s.symbols for s in core.strategies))
    verified = all(s in books and books[s].verified for s in symbols)
    reconnects = {str(c): n for c, n in core.reconnects.items()}
    counts = replace(
        core.counts,
        denials=core.manager.denials,
        errors=runner.errors,
        reconnects=sum(reconnects.values()),
    )
    marks = core.marks()
    return EngineHealth(
        trading_state=core.trading_state,
        breaker_state=runner.breaker.state,
        last_market_data_ns=core.last_market_ns,
        book_verified=verified,
        ws_public=core.connections.get(Channel.PUBLIC),
        ws_private=core.connections.get(Channel.PRIVATE),
        open_orders=len(core.registry.live()),
        pnl=core.portfolio.report(utc_day(now), marks),
        last_error=runner.last_error,
        counts=counts,
        stop_requested=runner.stop_requested,
        ledger_error=failing.describe() if failing is not None else "",
        books=dict(books),
        exposure=exposure(core.portfolio.positions(), marks, core.registry.working()),
        denials_by_rule={str(r): n for r, n in core.manager.denials_by_rule.items()},
        reconnects_by_channel=reconnects,
        ledger_failures=runner.ledger.failures,
    )


def is_healthy(runner: EngineRunner, quiet_ns: int) -> bool:
    """Ticking (not stuck), the private stream up when required, the ledger writable and
    the breaker closed."""
    cfg = runner.config
    responsive = quiet_ns <= int(5 * cfg.tick_interval_s * _NS) + 5 * _NS
    private_ok = (
        not cfg.require_private_ws
        or runner.core.connections.get(Channel.PRIVATE) is ConnectionState.CONNECTED
    )
    return (
        responsive
        and private_ok
        and runner.ledger.failing is None
        and runner.breaker.state is BreakerState.CLOSED
    )
