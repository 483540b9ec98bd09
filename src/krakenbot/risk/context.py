"""What the gate needs to know at decision time, as one frozen value.

Owns: `RiskContext`. Imports: domain. The engine builds a context from its books, portfolio,
orders and balances right before it calls `RiskGate.check`; the gate never looks anything
up itself, so a decision is a pure function of (limits, gate memory, context, item).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.domain.enums import SystemState, TradingState
from krakenbot.domain.events import BookTop
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.working import WorkingOrder


@dataclass(frozen=True, slots=True)
class RiskContext:
    now_ns: int  # the time of the event being handled (from the injected clock)
    trading_state: TradingState
    system_state: SystemState
    breaker_open: bool  # the breaker refuses new entries now (open, or its probe is out)
    instruments: Mapping[str, Instrument]
    books: Mapping[str, BookTop]  # latest top of book per symbol, with `recv_ns` and `verified`
    positions: Mapping[str, Decimal]  # signed base quantity per symbol, from fills
    working: Sequence[WorkingOrder]  # our live orders (the one being checked excluded)
    daily_pnl: Decimal | None  # realized today (UTC) + unrealized now; None = unknown
    balances: Mapping[str, Decimal] = field(default_factory=dict)  # total per asset
    # Symbols whose position has no protective stop because placing it failed → the reason
    # (no new entries there until it rests or the position is closed).
    unprotected: Mapping[str, str] = field(default_factory=dict)
