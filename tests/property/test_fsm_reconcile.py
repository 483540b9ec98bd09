"""Reconciliation closes every gap: whatever part of the exchange's history we missed,
applying the corrections through the FSM yields the exchange's statuses and fills."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side
from krakenbot.domain.events import Fill, OrderAccepted
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.orders import fsm
from krakenbot.orders.reconcile import (
    AdoptOrder,
    ExchangeState,
    LocalState,
    MissingFill,
    StatusCorrection,
    reconcile,
)

S = 1_000_000_000
NOW = 1_763_776_800 * S
QTY = D(10)


@dataclass(frozen=True)
class Truth:
    fills: tuple[int, ...]
    final: OrderStatus  # for unfilled remainders: live or cancelled/expired
    known: str  # "absent" | "pending" | "acked"
    seen_fills: int


@st.composite
def truths(draw: st.DrawFn) -> Truth:
    fills: list[int] = []
    left = 10
    for _ in range(draw(st.integers(0, 4))):
        if left == 0:
            break
        q = draw(st.integers(1, left))
        fills.append(q)
        left -= q
    if left == 0:
        final = OrderStatus.FILLED
    else:
        live = OrderStatus.PARTIALLY_FILLED if fills else OrderStatus.OPEN
        final = draw(st.sampled_from([live, OrderStatus.CANCELED, OrderStatus.EXPIRED]))
    known = draw(st.sampled_from(["absent", "pending", "acked"]))
    seen = draw(st.integers(0, len(fills))) if known == "acked" else 0
    return Truth(tuple(fills), final, known, seen)


def _fill(i: int, j: int, q: int, cl: str | None) -> Fill:
    return Fill(
        f"T{i}-{j}",
        f"O{i}",
        cl,
        "XLM/USD",
        Side.BUY,
        D("0.25"),
        D(q),
        D(q) / 4,
        D("0.001"),
        "USD",
        Liquidity.MAKER,
        NOW - 100 * S,
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(truths(), min_size=1, max_size=6))
def test_corrections_converge_on_the_exchange(history: list[Truth]) -> None:
    open_, closed, trades = [], [], []
    local: dict[str, Order] = {}
    fill_ids: set[str] = set()
    for i, t in enumerate(history):
        cl = f"kb{i:016d}"
        filled = D(sum(t.fills))
        snap = OrderSnapshot(
            f"O{i}",
            cl,
            "XLM/USD",
            Side.BUY,
            OrderType.LIMIT,
            QTY,
            D("0.25"),
            t.final,
            filled,
            filled / 4,
            D(0),
            NOW - 500 * S,
        )
        (closed if t.final.is_terminal else open_).append(snap)
        trades += [_fill(i, j, q, None) for j, q in enumerate(t.fills)]
        if t.known == "absent":
            continue
        order = Order(cl, "XLM/USD", Side.BUY, OrderType.LIMIT, QTY, D("0.25"), NOW - 500 * S)
        if t.known == "acked":
            order = fsm.apply(order, OrderAccepted(cl, f"O{i}"))
            for j, q in enumerate(t.fills[: t.seen_fills]):
                order = fsm.apply(order, _fill(i, j, q, cl))
                fill_ids.add(f"T{i}-{j}")
        local[cl] = order
    corrections = reconcile(
        LocalState(tuple(local.values()), frozenset(fill_ids)),
        ExchangeState(open_, closed, trades, NOW - 3600 * S, NOW),
    )
    for c in corrections:
        if isinstance(c, AdoptOrder):
            local[c.order.cl_ord_id] = c.order
        else:
            assert isinstance(c, MissingFill | StatusCorrection), c
            local[c.cl_ord_id] = fsm.apply(local[c.cl_ord_id], c.event)
    for i, t in enumerate(history):
        order = local[f"kb{i:016d}"]
        assert order.status is t.final
        assert order.filled_qty == sum(t.fills)
        assert order.order_id == f"O{i}"
    # a second pass finds nothing left to correct
    again = reconcile(
        LocalState(tuple(local.values()), frozenset(f.trade_id for f in trades)),
        ExchangeState(open_, closed, trades, NOW - 3600 * S, NOW),
    )
    assert again == ()
