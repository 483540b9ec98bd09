"""What the engine reports about itself: `EngineHealth`, `EngineCounts`, `ShutdownReport`.

Owns: frozen values for the daemon's health endpoint, status command and shutdown log.
Imports: domain, resilience. No behaviour here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from krakenbot.domain.enums import ConnectionState, TradingState
from krakenbot.domain.portfolio import PnlReport
from krakenbot.resilience.breaker import BreakerState


@dataclass(frozen=True, slots=True)
class EngineCounts:
    orders: int = 0  # orders submitted (persisted and handed to the venue)
    fills: int = 0  # fills recorded (new trade ids)
    denials: int = 0  # risk-gate denials (each written to `events`)
    reconnects: int = 0  # WebSocket reconnects seen (public + private)
    reconciles: int = 0  # reconciliation runs completed
    corrections: int = 0  # reconciliation differences written to `events`
    errors: int = 0  # events whose handling failed (logged, engine kept going)


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


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    cancels_sent: int  # our live orders we asked to cancel
    still_open: tuple[str, ...]  # cl_ord_ids still open (or unknown) when time ran out
    clean: bool  # every cancel confirmed and the ledger flushed
    detail: str = ""
    # Protective stops left resting on purpose: positions are kept, and so is their cover.
    kept: tuple[str, ...] = ()
