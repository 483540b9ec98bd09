"""CPU of the engine core's order decision alone: one BookTop in → PersistOrder + SendOrder out.

The same shape as `bench_engine.py` without sockets or SQLite: three pairs, one `Pinger`
per pair (an IOC buy 1 % under the bid on every verified book), the real `EngineCore` with
the risk gate, order manager, protection and breaker policy. Each order then lives the life
the simulator gives it (accepted, then expired unfilled: an IOC that never fills), so the
registry and the gate see what they see in the daemon after thousands of orders. Prints the
median and p99 of `EngineCore.handle(book)` for the books that produced an order, in µs.
`--cold` evicts the CPU caches before each measured call (touches 16 MB and parses JSON), as
the daemon's socket reading, decoding and asyncio do between two decisions: there a decision
costs about 4x what it costs in a warm loop, and this figure is the one to compare.
Usage: python -m benchmarks.bench_core_order [--orders N] [--cold] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time
from dataclasses import replace
from decimal import Decimal

from benchmarks.bench_engine import PAIRS, Pinger
from krakenbot.domain.effects import PersistOrder
from krakenbot.domain.enums import ExecType, OrderStatus
from krakenbot.domain.events import BookTop, ExecutionReport, OrderAccepted, PriceLevel
from krakenbot.domain.instrument import Instrument
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.core import EngineCore
from krakenbot.engine.inputs import SendFinished
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits

S = 1_000_000_000
T0 = 1_763_776_800 * S


def _inst(symbol: str, base: str, decimals: int, ordermin: str) -> Instrument:
    return Instrument(
        symbol,
        f"X{base}ZUSD",
        f"{base}USD",
        symbol,
        base,
        "USD",
        decimals,
        8,
        5,
        Decimal(1).scaleb(-decimals),
        Decimal(ordermin),
        Decimal("0.5"),
    )


INSTRUMENTS = {
    "XLM/USD": _inst("XLM/USD", "XLM", 6, "10"),
    "BTC/USD": _inst("BTC/USD", "BTC", 1, "0.0001"),
    "ETH/USD": _inst("ETH/USD", "ETH", 2, "0.002"),
}
MIDS = {"XLM/USD": Decimal("0.25"), "BTC/USD": Decimal("90000"), "ETH/USD": Decimal("3000")}
LIMITS = RiskLimits(  # bench_engine.py's
    allowed_symbols=frozenset(PAIRS),
    max_trade_usd=Decimal("15"),
    min_order_usd=Decimal("1"),
    max_total_exposure_usd=Decimal("1000"),
    max_positions=10,
    max_daily_loss_usd=Decimal("20"),
    post_only=False,
    max_orders_per_window=1_000_000,
)


def book(symbol: str, k: int, now_ns: int) -> BookTop:
    inst, mid = INSTRUMENTS[symbol], MIDS[symbol]
    bid = inst.quantize_price(mid * (1 + Decimal(k % 7) / 1000))
    ask = bid + inst.tick_size * 3
    bids = tuple(PriceLevel(bid - inst.tick_size * i, Decimal("100")) for i in range(10))
    asks = tuple(PriceLevel(ask + inst.tick_size * i, Decimal("100")) for i in range(10))
    return BookTop(symbol, bids, asks, True, now_ns, now_ns)


def _evict() -> None:
    """Touch more memory than the CPU caches hold, and run unrelated Python code."""
    junk = _JUNK
    for i in range(0, len(junk), 64):
        junk[i] = (junk[i] + 1) & 255
    for text in _TEXTS:
        json.loads(text)


_JUNK = bytearray(16 * 1024 * 1024)
_TEXTS = [json.dumps({"a": i, "b": [str(i)] * 20}) for i in range(3000)]


def run(orders: int, profile: bool, cold: bool) -> None:
    pingers = [Pinger(symbol, 1e9, armed=True) for symbol in PAIRS]
    core = EngineCore(
        strategies=pingers,
        gate=RiskGate(LIMITS),
        policy=BreakerPolicy(BreakerLimits()),
        instruments=INSTRUMENTS,
        rng=random.Random(1),
        balances={"USD": Decimal("1000000")},
        config=replace(EngineConfig(), tick_interval_s=1.0),
        started_ns=T0,
    )
    micros: list[float] = []
    prof = cProfile.Profile() if profile else None
    now, k = T0, 0
    while len(micros) < orders:
        k += 1
        now += 100_000_000
        event = book(PAIRS[k % 3], k, now)
        if cold:
            _evict()
        if prof is not None:
            prof.enable()
        t = time.perf_counter_ns()
        effects = core.handle(event, now)
        elapsed = (time.perf_counter_ns() - t) / 1e3
        if prof is not None:
            prof.disable()
        placed = [e.command for e in effects if isinstance(e, PersistOrder)]
        if not placed:
            continue
        micros.append(elapsed)
        for command in placed:  # the order's life: accepted, then expired (an IOC)
            now += 1000
            txid = f"O{k:06d}"
            core.handle(SendFinished(command.cl_ord_id, now))
            core.handle(OrderAccepted(command.cl_ord_id, txid, now))
            report = ExecutionReport(
                ExecType.EXPIRED, txid, command.cl_ord_id, OrderStatus.EXPIRED, now
            )
            core.handle(replace(report, recv_ns=now))
    ordered = sorted(micros)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    label = "core.handle(book) -> order" + (" (cold caches)" if cold else "")
    print(f"{label}: n={len(micros)}", end="  ")
    print(f"p50 {statistics.median(micros):.1f} µs  p99 {p99:.1f} µs")
    if prof is not None:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5000, help="orders to measure (5000)")
    parser.add_argument("--cold", action="store_true", help="evict the caches before each call")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    args = parser.parse_args()
    run(args.orders, args.profile, args.cold)


if __name__ == "__main__":
    main()
