"""Load speed of the market-data store: 1-minute candles, N days x P pairs, end to end.

Writes synthetic 1-minute candles (a random walk; every minute traded) through the store's
own writer into a temporary `DATA_DIR/market/`, then times what a backtest does first: open
each pair's dataset (manifest check), read the day files of the range, concatenate, keep the
range, and turn open/high/low/close/volume into float64 columns. Prints bars per second for
30 days x 1 pair, 30 x 4, 180 x 1 and 180 x 4 (best of 3). Not a test; no network.
    python benchmarks/bench_market_load.py [--days 180] [--pairs 4]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from krakenbot.kraken.rest_market import OhlcRow
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.marketdata.store import Dataset, DayEntry

START = 1_735_689_600 * NS  # 2025-01-01
PAIRS = ("XLM/USD", "BTC/USD", "ETH/USD", "SOL/USD")


def write(root: Path, symbol: str, n_days: int, rng: random.Random) -> None:
    ds = Dataset(root, "ohlc-1m", symbol).open()
    price = 100.0
    for d in range(n_days):
        day = START + d * DAY_NS
        rows = []
        for m in range(1440):
            o = price
            price = max(1.0, price * (1 + rng.gauss(0, 0.0005)))
            hi, lo = max(o, price) * 1.0002, min(o, price) * 0.9998
            q = Decimal("0.0001")
            rows.append(
                OhlcRow(
                    day // NS + 60 * m,
                    Decimal(o).quantize(q),
                    Decimal(hi).quantize(q),
                    Decimal(lo).quantize(q),
                    Decimal(price).quantize(q),
                    Decimal(price).quantize(q),
                    Decimal("12.5"),
                    7,
                )
            )
        name = time.strftime("%Y-%m-%d", time.gmtime(day // NS))
        ds.write_day(name, rows, DayEntry([(day, day + DAY_NS)], len(rows)))


def load(root: Path, symbols: tuple[str, ...], n_days: int) -> int:
    bars = 0
    for symbol in symbols:
        ds = Dataset(root, "ohlc-1m", symbol).open()
        table, gaps = ds.load_range(START, START + n_days * DAY_NS)
        assert not gaps
        cols = {
            k: pc.cast(table.column(k), pa.float64())
            for k in ("open", "high", "low", "close", "volume")
        }
        bars += len(cols["close"])
    return bars


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the store here")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = (args.keep or Path(tmp)) / "market"
        t = time.perf_counter()
        if not (root / "ohlc-1m").is_dir():
            for symbol in PAIRS[: args.pairs]:
                write(root, symbol, args.days, rng)
        print(f"wrote {args.days} days x {args.pairs} pairs in {time.perf_counter() - t:.1f} s")
        for days, pairs in ((30, 1), (30, args.pairs), (args.days, 1), (args.days, args.pairs)):
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                bars = load(root, PAIRS[:pairs], days)
                best = min(best, time.perf_counter() - t)
            rate = bars / best
            print(
                f"{days:4d} days x {pairs} pairs: {bars:9,d} bars in {best:.3f} s = {rate:,.0f}/s"
            )


if __name__ == "__main__":
    main()
