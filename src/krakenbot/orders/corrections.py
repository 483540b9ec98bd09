"""The corrections reconciliation produces: one frozen value per kind of difference.

Owns: `AdoptOrder`, `MissingFill`, `StatusCorrection`, `LookupRequired`, `ProvablyAbsent`,
`Conflict`, `ForeignOrder`, `UnreadableForeignOrder`, `ForeignFill`, the
`Correction` union and each one's `describe()` row for the `events` table.
Imports: domain only. The diff that makes them is orders/reconcile.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.events import ExecutionReport, Fill, OrderRejected
from krakenbot.domain.order import Order, OrderSnapshot, UnreadableOrder


@dataclass(frozen=True, slots=True)
class AdoptOrder:
    """Ours by prefix, unknown locally: insert `order`, then apply the fills that follow."""

    kind: ClassVar[str] = "adopt_order"
    order: Order
    snapshot: OrderSnapshot

    def describe(self) -> dict[str, str]:
        s = self.snapshot
        return _d(self.kind, s.cl_ord_id, s.order_id, f"{s.status} {s.side} {s.qty} {s.symbol}")


@dataclass(frozen=True, slots=True)
class MissingFill:
    """A trade in the exchange's history that our ledger lacks: apply it to the order."""

    kind: ClassVar[str] = "missing_fill"
    cl_ord_id: str
    event: Fill

    def describe(self) -> dict[str, str]:
        f = self.event
        detail = f"{f.trade_id} {f.side} {f.qty} @ {f.price} fee {f.fee}"
        return _d(self.kind, self.cl_ord_id, f.order_id, detail)


@dataclass(frozen=True, slots=True)
class StatusCorrection:
    """The exchange's state differs from ours: apply `event` (a synthesized report)."""

    kind: ClassVar[str] = "status_correction"
    cl_ord_id: str
    local: OrderStatus
    venue: OrderStatus
    event: ExecutionReport

    def describe(self) -> dict[str, str]:
        detail = f"local {self.local} -> venue {self.venue}"
        return _d(self.kind, self.cl_ord_id, self.event.order_id, detail)


@dataclass(frozen=True, slots=True)
class LookupRequired:
    """Cannot be decided from these lists: query the order (by txid) or older history."""

    kind: ClassVar[str] = "lookup_required"
    cl_ord_id: str
    order_id: str | None
    reason: str

    def describe(self) -> dict[str, str]:
        return _d(self.kind, self.cl_ord_id, self.order_id, self.reason)


@dataclass(frozen=True, slots=True)
class ProvablyAbsent:
    """The order provably never reached the book: apply `event` (a rejection)."""

    kind: ClassVar[str] = "provably_absent"
    cl_ord_id: str
    event: OrderRejected

    def describe(self) -> dict[str, str]:
        return _d(self.kind, self.cl_ord_id, None, self.event.error)


@dataclass(frozen=True, slots=True)
class Conflict:
    """Our terminal record contradicts the exchange: a bug or tampering — halt and look."""

    kind: ClassVar[str] = "conflict"
    cl_ord_id: str
    order_id: str | None
    detail: str

    def describe(self) -> dict[str, str]:
        return _d(self.kind, self.cl_ord_id, self.order_id, self.detail)


@dataclass(frozen=True, slots=True)
class ForeignOrder:
    """An open order that is not ours (placed by hand or another program): reported, never
    adopted, never cancelled by us."""

    kind: ClassVar[str] = "foreign_order"
    snapshot: OrderSnapshot

    def describe(self) -> dict[str, str]:
        s = self.snapshot
        detail = s.description or f"{s.side} {s.qty} {s.symbol} @ {s.order_type}"
        return _d(self.kind, s.cl_ord_id, s.order_id, f"{s.status}: {detail}")


@dataclass(frozen=True, slots=True)
class UnreadableForeignOrder:
    """A foreign order the exchange listed but we could not read: reported, never touched.
    (One of ours that cannot be read is a `Conflict` instead.)"""

    kind: ClassVar[str] = "foreign_unreadable"
    order: UnreadableOrder

    def describe(self) -> dict[str, str]:
        o = self.order
        return _d(self.kind, o.cl_ord_id, o.order_id, f"{o.status or '?'}: {o.error}")


@dataclass(frozen=True, slots=True)
class ForeignFill:
    """A trade for an order that is not ours: reported, not booked."""

    kind: ClassVar[str] = "foreign_fill"
    event: Fill

    def describe(self) -> dict[str, str]:
        f = self.event
        return _d(self.kind, f.cl_ord_id, f.order_id, f"{f.trade_id} {f.side} {f.qty} {f.symbol}")


Correction = (
    AdoptOrder
    | MissingFill
    | StatusCorrection
    | LookupRequired
    | ProvablyAbsent
    | Conflict
    | ForeignOrder
    | UnreadableForeignOrder
    | ForeignFill
)
FOREIGN_KINDS = frozenset({"foreign_order", "foreign_unreadable", "foreign_fill"})


def _d(kind: str, cl_ord_id: str | None, order_id: str | None, detail: str) -> dict[str, str]:
    return {
        "kind": kind,
        "cl_ord_id": cl_ord_id or "",
        "order_id": order_id or "",
        "detail": detail,
    }
