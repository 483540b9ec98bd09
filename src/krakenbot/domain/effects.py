"""Effects: what the engine core asks its runner to carry out, as plain frozen values.

Owns: one dataclass per thing the outside world must do for a decision — ledger writes
(persist an order, update its row, record a fill / an event / a metric / a learning row,
save a state), venue calls (send an order, send a cancel), and control (ask for a
reconciliation, trip the circuit breaker, tell the dead man's switch what it must cover,
report an error, tell the operator). Imports:
domain only. No behaviour here. (In `domain` because both the core's order manager,
`orders/manager.py`, and the engine produce them.)

The contract between `EngineCore.handle` and `EngineRunner`:
* the runner carries out a batch's effects in list order; a ledger write is awaited before
  the next effect starts, a venue send (order, cancel, amend) is handed over and runs on
  its own;
* `PersistOrder` (and the order's `OpenLearningEntry`) always precede the `SendOrder` of the
  same order; when one of them fails, that `SendOrder` is never carried out (`blocks_send`);
* every failed ledger write comes back to the core as `WriteFailed`; an effect with
  `needs_ack` (a fill, an adopted order) also comes back as `WriteDone` when it succeeded,
  before any other event: the core waits for it before it trusts the write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.enums import NoticeKind, OrderStatus, TradingState
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order


@dataclass(frozen=True, slots=True)
class PersistOrder:
    """Commit a new order row (status pending_new) before anything is sent."""

    command: PlaceOrder
    tag: str
    reduces_position: bool
    created_ns: int
    blocks_send: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class OpenLearningEntry:
    """The `learning_data` row of an entry, written before the entry is sent."""

    cl_ord_id: str
    symbol: str
    features: tuple[tuple[str, str], ...]
    at_ns: int
    blocks_send: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SendOrder:
    """Hand a persisted order to the venue; its fate comes back as events. `tick_ns`: the
    receive time of the market data the order answers (0: it answers something else), for
    the tick-to-order metric."""

    command: PlaceOrder
    tick_ns: int = 0


@dataclass(frozen=True, slots=True)
class SendCancel:
    """Hand a cancel to the venue (a cancel only reduces risk: never held back)."""

    command: CancelOrder
    reason: str


@dataclass(frozen=True, slots=True)
class SendAmend:
    """Hand an amend of a resting order to the venue (never held back by the ledger)."""

    command: AmendOrder


@dataclass(frozen=True, slots=True)
class SwitchNeedChanged:
    """What the dead man's switch must cover changed: whether an entry of ours rests (the
    switch should be armed) and whether a position needs its protective stop (the switch,
    which would cancel it, must be off). app/deadman.py decides what to send."""

    entry: bool
    protection: bool


@dataclass(frozen=True, slots=True)
class UpdateOrder:
    """Write an order's changed columns; `ledger_has` is the version the ledger holds (a
    failed write is retried from it)."""

    cl_ord_id: str
    qty: Decimal | None
    price: Decimal | None  # the limit, or the trigger of a triggered order
    status: OrderStatus | None
    txid: str | None
    reason: str | None
    venue_cum_qty: Decimal
    updated_ns: int
    ledger_has: Order


@dataclass(frozen=True, slots=True)
class FlagCancel:
    """Record `cancel_requested` (best effort: the cancel has left already)."""

    cl_ord_id: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class RecordFill:
    """Insert a fill once (UNIQUE trade id); answered with WriteDone(inserted=...)."""

    fill: Fill
    needs_ack: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class AdoptOrder:
    """Record an exchange order of ours the ledger lacks (reconciliation)."""

    order: Order
    needs_ack: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Append to the audit log `events`."""

    kind: str
    payload: Mapping[str, str]
    at_ns: int


@dataclass(frozen=True, slots=True)
class RecordMetrics:
    row: Mapping[str, str]
    at_ns: int


@dataclass(frozen=True, slots=True)
class SaveState:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class SetTradingState:
    """Persist the trading state and audit the change."""

    state: TradingState
    previous: TradingState
    reason: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class CloseLearningEntry:
    cl_ord_id: str
    outcome: str
    pnl: Decimal
    at_ns: int


@dataclass(frozen=True, slots=True)
class RequestReconcile:
    reason: str


@dataclass(frozen=True, slots=True)
class TripBreaker:
    """Open the circuit breaker at once (entries refused until its cooldown ends)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ReportError:
    """Something went wrong while handling an event (counted; shown as `last_error`);
    `trace`: the traceback of an unexpected exception, for the log."""

    text: str
    trace: str = ""


@dataclass(frozen=True, slots=True)
class Notify:
    """A line for the operator's log (order placed, fill recorded, risk denied...); with a
    `notice`, also a notification of that kind to the operator's NOTIFY_URLS."""

    message: str
    fields: Mapping[str, str]
    warning: bool = False
    notice: NoticeKind | None = None


LedgerEffect = (
    PersistOrder
    | OpenLearningEntry
    | UpdateOrder
    | FlagCancel
    | RecordFill
    | AdoptOrder
    | RecordEvent
    | RecordMetrics
    | SaveState
    | SetTradingState
    | CloseLearningEntry
)
Effect = (
    LedgerEffect
    | SendOrder
    | SendCancel
    | SendAmend
    | SwitchNeedChanged
    | RequestReconcile
    | TripBreaker
    | ReportError
    | Notify
)

__all__ = [
    "AdoptOrder",
    "CloseLearningEntry",
    "Effect",
    "FlagCancel",
    "LedgerEffect",
    "Notify",
    "OpenLearningEntry",
    "PersistOrder",
    "RecordEvent",
    "RecordFill",
    "RecordMetrics",
    "ReportError",
    "RequestReconcile",
    "SaveState",
    "SendAmend",
    "SendCancel",
    "SendOrder",
    "SetTradingState",
    "SwitchNeedChanged",
    "TripBreaker",
    "UpdateOrder",
]
