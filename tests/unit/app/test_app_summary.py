"""The `run --sim` summary shows the protective stop kept at exit with the position."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from krakenbot.app.summary import gather
from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.store import LedgerRepository, open_ledger


async def test_the_summary_names_the_protective_stop_left_resting(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    try:
        repo = LedgerRepository(db, clock)
        entry = PlaceOrder("kbentry", "XLM/USD", Side.BUY, OrderType.LIMIT, D("34"), D("0.29"))
        stop = PlaceOrder(
            "kbstop",
            "XLM/USD",
            Side.SELL,
            OrderType.STOP_LOSS,
            D("34"),
            None,
            trigger_price=D("0.281300"),
        )
        await repo.insert_order(entry, tag="entry", status=OrderStatus.FILLED)
        await repo.insert_order(stop, tag="protect", status=OrderStatus.OPEN, reduces_position=True)
        summary = await gather(
            db,
            seconds=60,
            speed=300,
            reconnects=0,
            open_on_exchange=1,
            database="trading.db",
            log="krakenbot.log",
            exit_status=0,
            reason="--duration 60 s elapsed",
        )
        text = summary.text()
        assert "protective stop   sell 34 stop @ 0.281300 (kept" in text
        assert "sell protect      34 stop @ 0.281300 -> open" in text
        assert "buy  entry        34 @ 0.29 -> filled" in text
    finally:
        await db.close()
