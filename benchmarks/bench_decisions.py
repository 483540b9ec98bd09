"""Cost of the pure decision path per market event: strategy → risk gate → order FSM.

Prints median and p99 in microseconds. Not a test; no network. Run:
    python benchmarks/bench_decisions.py
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from decimal import Decimal

from krakenbot.domain.commands import OrderIntent
from krakenbot.domain.enums import (
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    SystemState,
    TradingState,
)
from krakenbot.domain.events import BookTop, ExecutionReport, PriceLevel
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order
from krakenbot.domain.portfolio import Portfolio
from krakenbot.engine.view import LiveView
from krakenbot.orders.fsm import apply
from krakenbot.orders.registry import OrderRegistry
from krakenbot.risk.context import RiskContext
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import RiskLimits
from krakenbot.strategy.mean_reversion import MeanReversion, MeanReversionParams

S = 1_000_000_000
T0 = 1_763_776_800 * S
XLM = Instrument(
    "XLM/USD",
    "XXLMZUSD",
    "XLMUSD",
    "XLM/USD",
    "XLM",
    "USD",
    6,
    8,
    5,
    Decimal("0.000001"),
    Decimal("10"),
    Decimal("0.5"),
)
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=Decimal("10"),
    min_order_usd=Decimal("1"),
    max_total_exposure_usd=Decimal("30"),
    max_positions=1,
    max_daily_loss_usd=Decimal("5"),
    max_orders_per_window=1_000_000,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def book(k: int) -> BookTop:
    bid = Decimal("0.2500") + Decimal(k % 7) / 10000
    return BookTop(
        "XLM/USD",
        (PriceLevel(bid, Decimal("1000")),),
        (PriceLevel(bid + Decimal("0.0002"), Decimal("1000")),),
        True,
        T0 + k * S,
        T0 + k * S,
    )


def main() -> None:
    strategy = MeanReversion(replace(MeanReversionParams(), warmup_s=0, min_samples=1))
    gate = RiskGate(LIMITS)
    order = Order("kb1", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("40"), Decimal("0.25"), T0)
    n = 20_000
    strategy_us: list[float] = []
    gate_us: list[float] = []
    fsm_us: list[float] = []
    books: dict[str, BookTop] = {}
    view = LiveView(books, {"XLM/USD": XLM}, Portfolio(), OrderRegistry())  # the engine's view
    for k in range(n):
        b = book(k)
        books["XLM/USD"] = b
        t = time.perf_counter_ns()
        strategy.on_event(b, view)
        strategy_us.append((time.perf_counter_ns() - t) / 1000)
        ctx = RiskContext(
            now_ns=b.recv_ns,
            trading_state=TradingState.ACTIVE,
            system_state=SystemState.ONLINE,
            breaker_open=False,
            instruments={"XLM/USD": XLM},
            books={"XLM/USD": b},
            positions={},
            working=(),
            daily_pnl=Decimal(0),
            balances={"USD": Decimal("100")},
        )
        intent = OrderIntent(
            "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("36"), b.best_bid, post_only=True
        )
        t = time.perf_counter_ns()
        gate.check(intent, ctx)
        gate_us.append((time.perf_counter_ns() - t) / 1000)
        report = ExecutionReport(ExecType.NEW, "OA", "kb1", OrderStatus.OPEN, b.exchange_ns)
        t = time.perf_counter_ns()
        apply(order, report)
        fsm_us.append((time.perf_counter_ns() - t) / 1000)
    for name, values in (
        ("strategy.on_event", strategy_us),
        ("RiskGate.check", gate_us),
        ("fsm.apply", fsm_us),
    ):
        print(
            f"{name:18s} median {statistics.median(values):7.1f} us"
            f"   p99 {percentile(values, 0.99):7.1f} us   (n={len(values)})"
        )


if __name__ == "__main__":
    main()
