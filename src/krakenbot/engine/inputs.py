"""The engine's own events: what the runner tells the core besides market and account
events — operator commands, the outcome of effects it carried out, what it loaded or fetched.

Owns: frozen event values. Each carries the time it happened (`now_ns`, from the runner's
clock), so the core never reads a clock. Imports: domain, orders, risk. No behaviour here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from krakenbot.domain.commands import Intent
from krakenbot.domain.effects import AdoptOrder, LedgerEffect, RecordFill
from krakenbot.domain.enums import TradingState
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.orders.corrections import Correction
from krakenbot.risk.account import BalanceSnapshot


@dataclass(frozen=True, slots=True)
class Submit:
    """Intents from the operator (or a test), handled like a strategy's."""

    intents: tuple[Intent, ...]
    now_ns: int


@dataclass(frozen=True, slots=True)
class SendFinished:
    """The venue's AddOrder for this order returned (its outcome came as events)."""

    cl_ord_id: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class VenueFatal:
    """The venue refused us for good (bad key, permission): trading halts."""

    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class WriteDone:
    """An effect the core waits for was written; `inserted` False: the ledger had it."""

    effect: RecordFill | AdoptOrder
    inserted: bool
    now_ns: int


@dataclass(frozen=True, slots=True)
class WriteFailed:
    """A ledger write failed (`error` is the exception's repr); its dependants were skipped."""

    effect: LedgerEffect
    error: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the runner sees of the world outside the core, sent when it changes: whether
    ledger writes fail, and whether the circuit breaker admits new entries."""

    ledger_failing: bool
    breaker_admits: bool
    now_ns: int


@dataclass(frozen=True, slots=True)
class LedgerLoaded:
    """The start-up picture read from the ledger: every fill, recent and live orders,
    the persisted trading state and loss-halt day."""

    fills: tuple[Fill, ...]
    orders: tuple[Order, ...]
    trading_state: TradingState | None
    loss_halted_day: date | None
    now_ns: int


@dataclass(frozen=True, slots=True)
class Corrections:
    """Reconciliation's differences, to apply in order (one pass of a run)."""

    reason: str
    corrections: tuple[Correction, ...]
    now_ns: int


@dataclass(frozen=True, slots=True)
class Reconciled:
    """A reconciliation run finished; the balances it fetched, to hold against ours."""

    reason: str
    balances: BalanceSnapshot
    now_ns: int


@dataclass(frozen=True, slots=True)
class StopRequested:
    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class EmergencyStop:
    """HALTED, and every order of ours cancelled (first step: the ones we know)."""

    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class OpenOrdersListed:
    """The emergency's second step: the account's open orders (None: listing failed)."""

    reason: str
    listed: tuple[OrderSnapshot, ...] | None
    now_ns: int


@dataclass(frozen=True, slots=True)
class TradingStateRequested:
    """The operator sets the trading state (ACTIVE / REDUCING / HALTED)."""

    state: TradingState
    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class FlattenRequested:
    """The operator asks to close every position now (REDUCING, then exits: engine/flatten.py)."""

    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class CancelOurs:
    """Shutdown: cancel every live order of ours but the protective stops and `spare`."""

    reason: str
    now_ns: int
    spare: frozenset[str] = frozenset()  # cl_ord_ids left resting (for now)


@dataclass(frozen=True, slots=True)
class CoverPositions:
    """Shutdown: a protective stop for every position that keeps none (engine/cover.py
    `final`). `gone`: orders of ours the venue no longer lists; `journal`: record each stop
    in the order journal before sending it (the ledger cannot be written); `sold`: per
    symbol, what cancelled exits sold beyond what the core has recorded (looked up at the
    venue, their trades not known yet): each position is that much smaller."""

    reason: str
    now_ns: int
    gone: frozenset[str] = frozenset()
    journal: bool = False
    sold: tuple[tuple[str, Decimal], ...] = ()


EngineInput = (
    Submit
    | SendFinished
    | VenueFatal
    | WriteDone
    | WriteFailed
    | Conditions
    | LedgerLoaded
    | Corrections
    | Reconciled
    | StopRequested
    | EmergencyStop
    | OpenOrdersListed
    | CancelOurs
    | CoverPositions
    | TradingStateRequested
    | FlattenRequested
)
