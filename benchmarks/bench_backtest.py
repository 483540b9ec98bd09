"""Backtest speed: candles per second through the daemon's full engine, and market events per
second on the event path (strategy declining, and with orders flowing).

Candles: writes synthetic 1-minute candles (a random walk around each pair's price, every
minute traded) through the store's own writer into a temporary `DATA_DIR/market/`, then times
the backtest itself as the command runs it — load the range (app/backtest/inputs.py), the
engine on the virtual clock with the built-in mean_reversion strategy at its defaults and the
throwaway ledger (app/backtest/run.py), and result.json's document (backtest/result.py) — for
30 days x 1 pair, 30 x P, D x 1 (best of --repeat: wall, and CPU the least of the repeats).
The interpreter's start (importing the command) is timed apart. Events: book tops of a random
walk fed through the same loop (`EventTape`), once with a strategy that never trades and once
with mean_reversion placing and cancelling orders. Not a test; no network.

    python benchmarks/bench_backtest.py [--days 180] [--pairs 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from krakenbot.app.backtest.inputs import instrument_for, load_store
from krakenbot.app.backtest.ledger import ThrowawayLedger
from krakenbot.app.backtest.run import BacktestSpec, run_spec
from krakenbot.backtest.result import document
from krakenbot.backtest.tape import EventTape, tape_span
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.engine.config import EngineConfig
from krakenbot.kraken.rest_market import OhlcRow
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.marketdata.store import Dataset, DayEntry
from krakenbot.risk.limits import RiskLimits
from krakenbot.sim.pairs import DEFAULT_PAIRS

START = 1_735_689_600 * NS  # 2025-01-01
PAIRS = ("XLM/USD", "BTC/USD", "ETH/USD", "SOL/USD")


def write(root: Path, symbol: str, n_days: int, rng: random.Random) -> None:
    spec = DEFAULT_PAIRS[symbol]
    step = spec.price_step
    ds = Dataset(root, "ohlc-1m", symbol).open()
    price = float(spec.start_price)
    for d in range(n_days):
        day = START + d * DAY_NS
        rows = []
        for m in range(1440):
            o = price
            price = max(float(step) * 100, price * (1 + rng.gauss(0, 0.0008)))
            hi, lo = max(o, price) * 1.0003, min(o, price) * 0.9997
            q = [Decimal(v).quantize(step) for v in (o, hi, lo, price)]
            rows.append(OhlcRow(day // NS + 60 * m, *q, q[3], Decimal("12.5"), 7))
        name = time.strftime("%Y-%m-%d", time.gmtime(day // NS))
        ds.write_day(name, rows, DayEntry([(day, day + DAY_NS)], len(rows)))


def spec_for(pairs: Sequence[str], strategy: str = "mean_reversion") -> BacktestSpec:
    limits = RiskLimits(
        allowed_symbols=frozenset(pairs),
        max_trade_usd=Decimal(10),
        min_order_usd=Decimal(1),
        max_total_exposure_usd=Decimal(10) * len(pairs),
        max_positions=len(pairs),
        max_daily_loss_usd=Decimal(20),
    )
    engine = EngineConfig(require_private_ws=False, metrics_interval_s=3600)
    return BacktestSpec(strategy, (("trade_usd", "10"),), tuple(pairs), limits, engine)


def candles(
    root: Path, pairs: Sequence[str], days: int, work: Path
) -> tuple[float, float, int, int]:
    """One backtest as the command runs it: (wall seconds, CPU seconds, candles, trips)."""
    ledger_path = work / f"ledger-{time.perf_counter_ns()}.db"
    t, cpu = time.perf_counter(), time.process_time()
    instruments = [instrument_for(p) for p in pairs]
    tape = load_store(root, instruments, START, START + days * DAY_NS)
    spec = spec_for(pairs)
    ledger = ThrowawayLedger(ledger_path, START)
    outcome = run_spec(spec, tape, (START, START + days * DAY_NS), ledger)
    doc = document(outcome, {}, spec.limits.max_trade_usd)
    ledger.close()
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    return elapsed, cpu, outcome.loop.counts.market_items, doc["summary"]["trades"]


def book_tape(n: int, rng: random.Random) -> EventTape:
    inst = instrument_for("XLM/USD")
    step = Decimal(1).scaleb(-inst.price_decimals)
    price = 0.29
    events = []
    qty = Decimal(1000)
    for i in range(n):
        price *= 1 + rng.gauss(0, 0.0004)
        bid = Decimal(price).quantize(step)
        t = START + i * 200_000_000  # five book tops a second
        events.append(
            BookTop("XLM/USD", (PriceLevel(bid, qty),), (PriceLevel(bid + step, qty),), True, t, t)
        )
    return EventTape(events, symbols=("XLM/USD",))


class Quiet:
    name = "quiet"
    symbols = frozenset({"XLM/USD"})

    @classmethod
    def from_params(cls, params: object) -> Quiet:
        return cls()

    def on_event(self, event: object, view: object) -> list[object]:
        return []


def events(tape: EventTape, strategy: str, params: dict[str, str], work: Path) -> tuple[float, int]:
    spec = spec_for(["XLM/USD"], strategy)
    spec = replace(spec, params=tuple(sorted(params.items())))
    span = tape_span(tape)
    ledger = ThrowawayLedger(work / f"ev-{time.perf_counter_ns()}.db", span[0])
    t = time.perf_counter()
    outcome = run_spec(spec, tape, span, ledger)
    elapsed = time.perf_counter() - t
    ledger.close()
    return elapsed, outcome.loop.counts.orders_sent


def interpreter_start() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import krakenbot.commands.backtest"], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the store here")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = (args.keep or Path(tmp)) / "market"
        work = Path(tmp)
        t = time.perf_counter()
        if not (root / "ohlc-1m").is_dir():
            for symbol in PAIRS[: args.pairs]:
                write(root, symbol, args.days, rng)
        print(f"wrote {args.days} days x {args.pairs} pairs in {time.perf_counter() - t:.1f} s")
        print(f"interpreter start + import of the command: {interpreter_start():.2f} s")
        base = None
        for days, pairs in ((30, 1), (30, args.pairs), (args.days, 1), (args.days, args.pairs)):
            runs = [candles(root, PAIRS[:pairs], days, work) for _ in range(args.repeat)]
            best, _, bars, trips = min(runs)
            cpu = min(r[1] for r in runs)
            base = base or best
            print(
                f"{days:4d} days x {pairs} pairs: {bars:9,d} candles in {best:.3f} s "
                f"(CPU {cpu:.3f} s) = {bars / best:,.0f} candles/s ({best / base:.2f}x the "
                f"30 x 1 time, {trips} round trips)"
            )
        sys.modules.setdefault("bench_backtest", sys.modules[__name__])
        tape = book_tape(args.events, random.Random(2))
        quiet, _ = events(tape, "bench_backtest:Quiet", {}, work)
        print(f"events, strategy declining: {len(tape) / quiet:,.0f} book tops/s")
        busy, orders = events(tape, "mean_reversion", {"entry_z": "0.5", "trade_usd": "10"}, work)
        print(
            f"events, orders flowing: {len(tape) / busy:,.0f} book tops/s, {orders} orders "
            f"({busy / len(tape) * 1e6:.1f} µs an event)"
        )


if __name__ == "__main__":
    main()
