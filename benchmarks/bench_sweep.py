"""Sweep scaling: a 24-combination grid over the bundled day across processes, against one
combination run alone (both in this process's terms: the interpreter's start excluded; the
sweep's worker processes are started inside the time). Ideal on 2 cores: 12x. Not a test.
    python benchmarks/bench_sweep.py [--jobs N]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

from krakenbot.app.backtest.inputs import instrument_for, load_bundled
from krakenbot.app.backtest.run import BacktestSpec
from krakenbot.app.backtest.sweep import Axis, default_jobs, grid, run_sweep
from krakenbot.backtest.tape import tape_span
from krakenbot.engine.config import EngineConfig
from krakenbot.risk.limits import RiskLimits

AXES = [
    Axis("entry_z", ("1", "1.25", "1.5", "1.75", "2", "2.5")),
    Axis("take_profit_pct", ("0.5", "0.75", "1", "1.5")),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=default_jobs())
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    limits = RiskLimits(
        allowed_symbols=frozenset({"XLM/USD"}),
        max_trade_usd=Decimal(10),
        min_order_usd=Decimal(1),
        max_total_exposure_usd=Decimal(10),
        max_positions=1,
        max_daily_loss_usd=Decimal(20),
    )
    engine = EngineConfig(require_private_ws=False, metrics_interval_s=3600)
    spec = BacktestSpec("mean_reversion", (("trade_usd", "10"),), ("XLM/USD",), limits, engine)
    tape = load_bundled([instrument_for("XLM/USD")])
    span = tape_span(tape)
    combos = grid(AXES)

    def timed(chosen: list[dict[str, str]], jobs: int) -> float:
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            run_sweep(spec, tape, span, chosen, jobs=jobs)
            best = min(best, time.perf_counter() - t)
        return best

    one = timed(combos[:1], 1)
    serial = timed(combos, 1)
    parallel = timed(combos, args.jobs)
    print(f"one combination alone: {one:.3f} s")
    print(f"{len(combos)} combinations, 1 process: {serial:.3f} s = {serial / one:.1f}x")
    print(
        f"{len(combos)} combinations, {args.jobs} processes: {parallel:.3f} s = "
        f"{parallel / one:.1f}x the one alone (ideal {len(combos) / args.jobs:.0f}x)"
    )


if __name__ == "__main__":
    main()
