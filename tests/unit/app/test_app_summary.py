"""The `run --sim` summary reads round trips, positions and PnL from the ledger's portfolio
and shows the position kept at exit with its unrealized PnL (issue 12's rough edge)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

from krakenbot.app.summary import gather
from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.store import LedgerRepository, open_ledger

T0 = 1_767_225_600_000_000_000  # 2026-01-01


def _fill(tid: str, side: Side, qty: str, price: str, fee: str, asset: str) -> Fill:
    q, p = D(qty), D(price)
    return Fill(tid, "O" + tid, None, "XLM/USD", side, p, q, q * p, D(fee), asset,
                Liquidity.TAKER, T0 + int(tid[1:]))  # fmt: skip


async def _summary(tmp_path: Path, marks: dict[str, D]) -> str:
    clock = ManualClock(T0)
    db = await open_ledger(tmp_path / "trading.db", clock)
    repo = LedgerRepository(db, clock)
    for fill in (
        _fill("T1", Side.BUY, "10", "0.25", "0.005", "USD"),
        _fill("T2", Side.SELL, "10", "0.30", "0.006", "USD"),  # closed: +0.489
        _fill("T3", Side.BUY, "30", "0.28", "0.2", "XLM"),  # kept at exit: 29.8 for 8.4
        _fill("T4", Side.BUY, "1", "0.28", "2", "KFEE"),  # 30.8 for 8.68
    ):
        await repo.insert_fill(fill)
    try:
        summary = await gather(
            repo,
            marks=marks,
            day=date(2026, 1, 1),
            seconds=60,
            speed=10,
            reconnects=0,
            open_on_exchange=0,
            database="trading.db",
            log="krakenbot.log",
            exit_status=0,
            reason="duration",
        )
    finally:
        await db.close()
    assert summary.closed_trades == 1 and summary.open_trades == 1
    assert summary.realized_pnl == D("0.489") and summary.positions == {"XLM/USD": D("30.8")}
    assert summary.fees == D("0.005") + D("0.006") + D("0.056")
    assert summary.other_fees == {"KFEE": D("2")}
    return summary.text()


async def test_summary_shows_the_position_kept_at_exit_and_its_unrealized_pnl(
    tmp_path: Path,
) -> None:
    text = await _summary(tmp_path, {"XLM/USD": D("0.29")})
    # 30.8 * 0.29 - 8.68 = 0.252
    assert "position at exit  XLM/USD 30.8 at 0.29 (unrealized +0.2520 USD)" in text
    assert "realized PnL      +0.4890 USD (fees 0.0670 USD; also 2 KFEE, not in PnL)" in text
    assert "round trips       1 closed, 1 open" in text


async def test_a_position_without_a_price_says_so(tmp_path: Path) -> None:
    text = await _summary(tmp_path, {})
    assert "position at exit  XLM/USD 30.8 (unrealized PnL unknown: no price)" in text


async def test_the_summary_names_the_protective_stop_left_resting(tmp_path: Path) -> None:
    clock = ManualClock(T0)
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
            repo,
            marks={},
            day=date(2026, 1, 1),
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
