"""Ledger write throughput: orders saved before send and fills recorded once (synchronous=FULL).

Run: python benchmarks/ledger_fills.py [N]. Prints figures; not a test.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.store import LedgerRepository, open_ledger


async def main(n: int) -> None:
    clock = ManualClock()
    with tempfile.TemporaryDirectory() as tmp:
        db = await open_ledger(Path(tmp) / "bench.db", clock)
        repo = LedgerRepository(db, clock)
        try:
            start = time.perf_counter()
            for i in range(n):
                side = Side.BUY if i % 2 == 0 else Side.SELL
                await repo.insert_order(
                    PlaceOrder(
                        f"c{i}", "XLM/USD", side, OrderType.LIMIT, Decimal(100), Decimal("0.1")
                    )
                )
            orders_s = time.perf_counter() - start
            start = time.perf_counter()
            for i in range(n):
                side = Side.BUY if i % 2 == 0 else Side.SELL
                fill = Fill(
                    f"T{i}",
                    f"O{i}",
                    f"c{i}",
                    "XLM/USD",
                    side,
                    Decimal("0.1"),
                    Decimal(100),
                    Decimal(10),
                    Decimal("0.016"),
                    "USD",
                    Liquidity.MAKER,
                    clock.now_ns(),
                )
                await repo.insert_fill(fill)
                clock.advance(0.001)
            fills_s = time.perf_counter() - start
            start = time.perf_counter()
            dup = sum(
                [
                    not await repo.insert_fill(
                        Fill(
                            f"T{i}",
                            f"O{i}",
                            f"c{i}",
                            "XLM/USD",
                            Side.BUY,
                            Decimal("0.1"),
                            Decimal(100),
                            Decimal(10),
                            Decimal(0),
                            "USD",
                            None,
                            0,
                        )
                    )
                    for i in range(n)
                ]
            )
            dup_s = time.perf_counter() - start
        finally:
            await db.close()
    print(f"insert_order          : {n / orders_s:8.0f} /s  ({orders_s / n * 1e3:.2f} ms each)")
    print(f"insert_fill (new)     : {n / fills_s:8.0f} /s  ({fills_s / n * 1e3:.2f} ms each)")
    print(f"insert_fill (dup, {dup}) : {n / dup_s:8.0f} /s  ({dup_s / n * 1e3:.2f} ms each)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
