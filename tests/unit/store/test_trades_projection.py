"""The `trades` table is a projection of the portfolio's round trips: written in the
transaction that records each fill, equal to a rebuild from the ledger, and self-healing
after a failed write or a caller's rolled-back transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest
from ledgerkit import D, fill, order

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import Side
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import TradeRecord, TradeStatus
from krakenbot.domain.portfolio import Portfolio, RoundTrip, utc_day
from krakenbot.store import LedgerRepository, open_ledger, trades

T0 = 1_767_225_601_000_000_000


def _as_rows(trips: list[RoundTrip]) -> list[tuple[object, ...]]:
    return [
        (t.seq, t.symbol, t.side, t.volume, t.open_volume, t.entry_price, t.exit_price,
         t.realized, t.fees, t.opened_ns, t.closed_ns)
        for t in trips
    ]  # fmt: skip


def _rows(records: list[TradeRecord]) -> list[tuple[object, ...]]:
    return [
        (r.id, r.symbol, r.side, r.volume, r.open_volume, r.entry_price, r.exit_price,
         r.profit_loss, r.fees, r.opened_ns, r.closed_ns)
        for r in records
    ]  # fmt: skip


async def _the_same(repo: LedgerRepository) -> None:
    """The table holds exactly the round trips of the ledger's portfolio."""
    portfolio = await repo.load_portfolio()
    assert _rows(await repo.trades()) == _as_rows(portfolio.round_trips())


def sell(trade_id: str, qty: str, price: str, fee: str, at: int, fee_asset: str = "USD") -> Fill:
    return fill(
        trade_id, side=Side.SELL, qty=qty, price=price, fee=fee, fee_asset=fee_asset,
        exchange_ns=at, cl_ord_id="sell1", order_id="OSELL",
    )  # fmt: skip


async def test_fill_of_a_foreign_order_still_moves_the_position(repo: LedgerRepository) -> None:
    assert await repo.insert_fill(fill("T1", cl_ord_id="not-ours", order_id="OMANUAL"))
    (trade,) = await repo.trades()
    assert trade.cl_ord_id is None and trade.txid == "OMANUAL"
    assert "did not place" in trade.notes


async def test_round_trip_opens_and_closes_with_realized_pnl(repo: LedgerRepository) -> None:
    await repo.insert_order(order("buy1"))
    await repo.insert_order(order("sell1", side=Side.SELL))
    await repo.insert_fill(fill("T1", cl_ord_id="buy1", price="0.10", qty="100", fee="0.016"))
    (opened,) = await repo.trades()
    assert opened.status is TradeStatus.OPEN and opened.cl_ord_id == "buy1"
    # the entry fee is part of the cost: nothing is realized before a close
    assert opened.profit_loss == 0 and opened.fees == D("0.016")
    await repo.insert_fill(sell("T2", "60", "0.12", "0.01", 1_767_225_700_000_000_000))
    (partial,) = await repo.trades()
    assert partial.open_volume == D("40") and partial.exit_price == D("0.12")
    # 7.2 - 0.01 for 60 of the 100 that cost 10.016
    assert partial.profit_loss == D("7.19") - D("6.0096")
    at = 1_767_225_800_000_000_000
    await repo.insert_fill(sell("T3", "40", "0.13", "0.005", at, fee_asset="ZUSD"))
    (closed,) = await repo.trades()
    assert closed.status is TradeStatus.CLOSED and closed.open_volume == 0
    # gross: 60 * 0.02 + 40 * 0.03 = 2.4; fees 0.016 + 0.01 + 0.005
    assert closed.profit_loss == D("2.369")
    assert closed.fees == D("0.031")
    assert closed.exit_price == D("0.124")
    assert closed.closed_ns == at
    portfolio = await repo.load_portfolio()
    assert portfolio.realized_on(utc_day(at)) == D("2.369") == portfolio.realized_total
    await _the_same(repo)


async def test_fee_in_base_asset_reduces_the_position(repo: LedgerRepository) -> None:
    await repo.insert_fill(fill("T1", fee="0.5", fee_asset="XLM"))  # fcib: 100 - 0.5 credited
    (trade,) = await repo.trades()
    assert trade.volume == trade.open_volume == D("99.5")
    assert trade.profit_loss == 0 and trade.fees == D("0.05")  # valued at the fill price


async def test_several_round_trips_and_a_rebuild_agree(repo: LedgerRepository) -> None:
    await repo.insert_fill(fill("A", qty="10", price="1.0", fee="0.01", exchange_ns=T0))
    await repo.insert_fill(sell("B", "4", "1.2", "0.1", T0 + 1, fee_asset="XLM"))
    await repo.insert_fill(sell("C", "5.9", "0.9", "0.0053", T0 + 2))
    await repo.insert_fill(fill("D", qty="3", price="0.8", fee="0.0024", exchange_ns=T0 + 3))
    first, second = await repo.trades()
    assert (first.id, first.status, second.id, second.status) == (
        1, TradeStatus.CLOSED, 2, TradeStatus.OPEN,
    )  # fmt: skip
    await _the_same(repo)
    before = await repo.trades()
    await repo.rebuild_trades()
    assert await repo.trades() == before


async def test_a_failed_write_leaves_no_trace_and_the_next_fill_heals(
    repo: LedgerRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    await repo.insert_fill(fill("A", qty="10", price="1.0", fee="0", exchange_ns=T0))
    real = trades.write  # runs on the connection's thread, in the fill's transaction
    calls = {"n": 0}

    def failing(conn: sqlite3.Connection, trips: Iterable[RoundTrip]) -> None:
        calls["n"] += 1
        raise OSError("disk full")

    monkeypatch.setattr(trades, "write", failing)
    with pytest.raises(OSError):
        await repo.insert_fill(sell("B", "4", "1.2", "0", T0 + 1))
    monkeypatch.setattr(trades, "write", real)
    assert calls["n"] == 1
    assert [f.trade_id for f in await repo.load_fills()] == ["A"]  # rolled back, all of it
    await repo.insert_fill(sell("B", "4", "1.2", "0", T0 + 1))
    (trade,) = await repo.trades()
    assert trade.open_volume == D("6") and trade.profit_loss == D("0.8")
    await _the_same(repo)


async def test_a_callers_rolled_back_transaction_is_not_remembered(
    repo: LedgerRepository,
) -> None:
    await repo.insert_fill(fill("A", qty="10", price="1.0", fee="0", exchange_ns=T0))
    with pytest.raises(RuntimeError):
        async with repo.db.transaction():
            await repo.insert_fill(sell("B", "10", "1.2", "0", T0 + 1))
            raise RuntimeError("the caller gives up")
    await repo.insert_fill(sell("C", "4", "1.1", "0", T0 + 2))
    (trade,) = await repo.trades()
    assert trade.open_volume == D("6") and trade.profit_loss == D("0.4")
    await _the_same(repo)


async def test_start_up_rewrites_rows_an_older_krakenbot_wrote(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = await open_ledger(tmp_path / "old.db", clock)
    repo = LedgerRepository(db, clock)
    await repo.insert_fill(fill("A", qty="10", price="1.0", fee="0.01", exchange_ns=T0))
    # the old average-cost code charged the entry fee to profit_loss at once
    async with db.transaction():
        await db.execute("UPDATE trades SET profit_loss = '-0.01', id = 7")
    await repo.rebuild_trades()
    await _the_same(repo)
    await db.close()


async def test_engine_arrival_order_is_the_ledgers_order(repo: LedgerRepository) -> None:
    # A sell found late by reconciliation carries an earlier execution time than a buy
    # recorded before it: the portfolio the engine built live (recorded order) and the one
    # rebuilt from the ledger must be the same.
    live = Portfolio()
    fills = [
        fill("A", qty="10", price="1.0", exchange_ns=T0 + 10),
        sell("B", "10", "1.5", "0", T0 + 20),
        fill("C", qty="10", price="2.0", exchange_ns=T0 + 30),
        sell("D", "5", "1.0", "0", T0 + 15),  # late, and earlier than B and C
    ]
    for f in fills:
        assert await repo.insert_fill(f)
        live.record(f)
    rebuilt = await repo.load_portfolio()
    assert rebuilt.realized_total == live.realized_total
    assert rebuilt.positions() == live.positions() == {"XLM/USD": D("5")}
    assert _as_rows(rebuilt.round_trips()) == _as_rows(live.round_trips())
    await _the_same(repo)


async def test_concurrent_inserts_project_each_fill_once(repo: LedgerRepository) -> None:
    fills = [fill(f"T{i}", qty="1", price="1", exchange_ns=T0 + i) for i in range(5)]
    assert all(await asyncio.gather(*(repo.insert_fill(f) for f in fills)))
    (trade,) = await repo.trades()
    assert trade.volume == D("5")
    await _the_same(repo)
