"""`trades` / `orders` / `profit` processes reading a ledger while the store writes to it.

The writer is the daemon's own store code (`open_ledger` + `LedgerRepository`) with no
patience at all (`busy_timeout=0`): if a reader ever held a lock the writer needs, a write
would fail at once with SQLITE_BUSY instead of waiting it out. The readers are real
`python -m krakenbot` processes. Neither side may see an error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal as D
from pathlib import Path

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import Fill
from krakenbot.store import LedgerRepository, open_ledger

T0 = 1_767_225_600_000_000_000


async def _write(repo: LedgerRepository, clock: ManualClock, stop: asyncio.Event) -> int:
    n = 0
    while not stop.is_set():
        n += 1
        side = Side.BUY if n % 2 else Side.SELL
        cl = f"kb{n}"
        order = PlaceOrder(cl, "XLM/USD", side, OrderType.LIMIT, D("10"), D("0.25"),
                           TimeInForce.GTC, post_only=True)  # fmt: skip
        await repo.insert_order(order, txid=f"O{n}", status=OrderStatus.OPEN)
        price = D("0.25") + D(n % 7) / 1000
        fill = Fill(f"T{n}", f"O{n}", cl, "XLM/USD", side, price, D("10"), D("10") * price,
                    D("0.004"), "USD", Liquidity.MAKER, clock.now_ns())  # fmt: skip
        await repo.insert_fill(fill)
        await repo.update_order(cl, status=OrderStatus.FILLED)
        await repo.record_event("test_write", {"n": n})
        clock.advance(1)
        await asyncio.sleep(0.001)
    return n


async def _read(path: Path, *args: str) -> dict[str, object]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "krakenbot", *args, "--db", str(path), "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


async def test_readers_never_block_the_writer_nor_fail(tmp_path: Path) -> None:
    path = tmp_path / "trading.db"
    clock = ManualClock(T0)
    db = await open_ledger(path, clock)
    await db.pragma("busy_timeout=0")  # any lock a reader held would fail a write now
    repo = LedgerRepository(db, clock)
    stop = asyncio.Event()
    writer = asyncio.create_task(_write(repo, clock, stop))
    try:
        seen: list[int] = []
        for _ in range(4):
            docs = await asyncio.gather(
                _read(path, "trades"),
                _read(path, "trades", "--fills"),
                _read(path, "orders"),
                _read(path, "profit", "--by", "pair"),
            )
            fills = docs[1]["fills"]
            assert isinstance(fills, list)
            seen.append(len(fills))
            assert not writer.done(), "the writer failed while readers read"
        stop.set()
        written = await writer  # raises the writer's error, if it had one
    finally:
        stop.set()
        await asyncio.gather(writer, return_exceptions=True)
        await db.close()
    assert seen == sorted(seen) and seen[-1] > 0  # each reader saw a committed state
    assert written > seen[-1]
    final = await _read(path, "trades", "--fills")
    assert len(final["fills"]) == written  # type: ignore[arg-type]
