from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from ledgerkit import D
from ledgerkit import fill as _fill
from ledgerkit import order as _order

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.domain.ledger import MetricsSnapshot
from krakenbot.errors import InvariantError
from krakenbot.store import LedgerRepository


async def test_order_is_saved_before_sending_and_read_back_exactly(
    repo: LedgerRepository, clock: ManualClock
) -> None:
    cmd = PlaceOrder(
        cl_ord_id="c1",
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=D("12.34567890123456789"),
        limit_price=D("0.123456"),
        post_only=True,
    )
    saved = await repo.insert_order(cmd, tag="entry")
    assert saved.status is OrderStatus.PENDING_NEW
    assert saved.qty == D("12.34567890123456789")
    assert saved.limit_price == D("0.123456")
    assert saved.side is Side.SELL and saved.order_type is OrderType.LIMIT
    assert saved.post_only and saved.tag == "entry"
    assert saved.txid is None and saved.filled_qty == 0 and saved.avg_fill_price is None
    assert saved.created_ns == clock.now_ns()
    assert await repo.order_by_cl_ord_id("c1") == saved
    assert await repo.order_by_cl_ord_id("nope") is None


async def test_market_order_has_no_price(repo: LedgerRepository) -> None:
    cmd = PlaceOrder("m1", "XLM/USD", Side.BUY, OrderType.MARKET, D("5"), None)
    assert (await repo.insert_order(cmd)).limit_price is None


async def test_duplicate_client_order_id_is_a_bug(repo: LedgerRepository) -> None:
    await repo.insert_order(_order())
    with pytest.raises(InvariantError) as info:
        await repo.insert_order(_order())
    assert info.value.cl_ord_id == "c1"


async def test_update_order(repo: LedgerRepository, clock: ManualClock) -> None:
    await repo.insert_order(_order())
    clock.advance(1.5)
    updated = await repo.update_order("c1", status=OrderStatus.OPEN, txid="OTX-1")
    assert updated.status is OrderStatus.OPEN and updated.txid == "OTX-1"
    assert updated.updated_ns == clock.now_ns()
    assert await repo.order_by_txid("OTX-1") == updated
    done = await repo.update_order(
        "c1",
        status=OrderStatus.FILLED,
        filled_volume=D("100"),
        avg_fill_price=D("0.0999"),
        reason="done",
    )
    assert done.txid == "OTX-1"  # untouched
    assert (done.filled_qty, done.avg_fill_price, done.reason) == (D(100), D("0.0999"), "done")
    with pytest.raises(InvariantError):
        await repo.update_order("unknown", status=OrderStatus.OPEN)


async def test_open_orders_are_the_non_terminal_ones(
    repo: LedgerRepository, clock: ManualClock
) -> None:
    for i, status in enumerate(
        [
            None,
            OrderStatus.OPEN,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        ]
    ):
        clock.advance(1)
        await repo.insert_order(_order(f"c{i}"))
        if status is not None:
            await repo.update_order(f"c{i}", status=status)
    assert [o.cl_ord_id for o in await repo.open_orders()] == ["c0", "c1", "c2"]


async def test_fill_is_recorded_once_and_updates_the_order(repo: LedgerRepository) -> None:
    await repo.insert_order(_order(qty="100"))
    assert await repo.insert_fill(_fill("T1", price="0.1", qty="40"))
    assert not await repo.insert_fill(_fill("T1", price="0.1", qty="40"))
    assert await repo.insert_fill(_fill("T2", price="0.13", qty="60"))
    order = await repo.order_by_cl_ord_id("c1")
    assert order is not None
    assert order.filled_qty == D("100")
    assert order.avg_fill_price == D("0.118")  # (0.1*40 + 0.13*60) / 100
    assert order.txid == "OABCDE-12345-FGHIJK"  # learnt from the fill
    assert [f.trade_id for f in await repo.load_fills()] == ["T1", "T2"]
    assert await repo.fills_for_order("c1") == [
        _fill("T1", price="0.1", qty="40"),
        _fill("T2", price="0.13", qty="60"),
    ]
    (trade,) = await repo.trades()
    assert trade.volume == D("100") and trade.open_volume == D("100")
    assert trade.entry_price == D("0.118")


async def test_concurrent_duplicates_insert_once(repo: LedgerRepository) -> None:
    await repo.insert_order(_order())
    results = await asyncio.gather(*(repo.insert_fill(_fill("T1")) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    (trade,) = await repo.trades()
    assert trade.volume == D("100")


async def test_fill_found_by_txid_when_cl_ord_id_is_missing(repo: LedgerRepository) -> None:
    await repo.insert_order(_order())
    await repo.update_order("c1", txid="OTX-9")
    assert await repo.insert_fill(_fill("T1", cl_ord_id=None, order_id="OTX-9", qty="10"))
    order = await repo.order_by_cl_ord_id("c1")
    assert order is not None and order.filled_qty == D("10")


async def test_operator_query_shows_open_positions(repo: LedgerRepository, tmp_path: Path) -> None:
    await repo.insert_fill(_fill("T1"))

    def query() -> list[tuple[str, str, str]]:
        with sqlite3.connect(tmp_path / "trading.db") as conn:
            return conn.execute(
                "SELECT pair, side, volume FROM trades WHERE status='OPEN';"
            ).fetchall()

    assert await asyncio.to_thread(query) == [("XLM/USD", "buy", "100")]


async def test_events_are_an_ordered_audit_trail(
    repo: LedgerRepository, clock: ManualClock
) -> None:
    first = await repo.record_event("start", {"mode": "paper"})
    clock.advance(1)
    await repo.record_event(
        "risk_denied", {"reason": "max_trade", "amount": D("10.50"), "side": Side.BUY}
    )
    clock.advance(1)
    await repo.record_event("stop")
    events = await repo.events()
    assert [e.kind for e in events] == ["start", "risk_denied", "stop"]
    assert events[0].id == first and events[0].payload == {"mode": "paper"}
    assert events[1].payload == {"reason": "max_trade", "amount": "10.50", "side": "buy"}
    assert events[2].payload == {}
    assert [e.kind for e in await repo.events("stop")] == ["stop"]
    assert [e.kind for e in await repo.events(limit=2)] == ["risk_denied", "stop"]


async def test_state_is_a_key_value_store(repo: LedgerRepository) -> None:
    assert await repo.get_state("trading_state") is None
    await repo.set_state("trading_state", "ACTIVE")
    await repo.set_state("trading_state", "HALTED")
    assert await repo.get_state("trading_state") == "HALTED"


async def test_metrics(repo: LedgerRepository, clock: ManualClock) -> None:
    assert await repo.latest_metrics() is None
    first = {
        "balance_usd": "100.5",
        "total_trades": "3",
        "winning_trades": "2",
        "total_profit_loss": "1.25",
        "daily_profit_loss": "-0.5",
    }
    await repo.record_metrics(first, clock.now_ns())
    clock.advance(60)
    later = {**first, "balance_usd": "101", "total_trades": "4", "winning_trades": "3"}
    await repo.record_metrics(
        {**later, "total_profit_loss": "1.75", "daily_profit_loss": "0"}, clock.now_ns()
    )
    latest = await repo.latest_metrics()
    assert latest == MetricsSnapshot(D("101"), 4, 3, D("1.75"), D("0"), ts_ns=clock.now_ns())


async def test_caller_transaction_spans_several_calls(repo: LedgerRepository) -> None:
    with pytest.raises(RuntimeError):
        async with repo.db.transaction():
            await repo.insert_order(_order())
            await repo.record_event("sent", {"cl_ord_id": "c1"})
            raise RuntimeError("crash before commit")
    assert await repo.order_by_cl_ord_id("c1") is None
    assert await repo.events() == []


async def test_conflicting_txid_is_reported_as_a_bug(repo: LedgerRepository) -> None:
    await repo.insert_order(_order("a"))
    await repo.insert_order(_order("b"))
    await repo.insert_fill(_fill("T1", cl_ord_id="a", order_id="OSAME"))
    with pytest.raises(InvariantError):
        await repo.insert_fill(_fill("T2", cl_ord_id="b", order_id="OSAME"))
    assert [f.trade_id for f in await repo.load_fills()] == ["T1"]


async def test_adopting_an_exchange_order_and_txid_conflicts(repo: LedgerRepository) -> None:
    adopted = await repo.insert_order(_order("x1"), status=OrderStatus.OPEN, txid="OX1")
    assert adopted.status is OrderStatus.OPEN and adopted.txid == "OX1"
    with pytest.raises(InvariantError):
        await repo.insert_order(_order("x2"), txid="OX1")
    await repo.insert_order(_order("x3"))
    with pytest.raises(InvariantError):
        await repo.update_order("x3", txid="OX1")
    x3 = await repo.order_by_cl_ord_id("x3")
    assert x3 is not None and x3.txid is None


async def test_engine_order_fields_round_trip(repo: LedgerRepository, clock: ManualClock) -> None:
    saved = await repo.insert_order(
        _order("e1"), reduces_position=True, created_ns=1_767_225_000_000_000_000
    )
    assert saved.reduces_position and saved.created_ns == 1_767_225_000_000_000_000
    assert (saved.filled_cost, saved.fees, saved.venue_cum_qty) == (0, 0, 0)
    assert not saved.cancel_requested
    updated = await repo.update_order(
        "e1",
        status=OrderStatus.PARTIALLY_FILLED,
        filled_cost=D("4.00"),
        fees=D("0.0064"),
        venue_cum_qty=D("40"),
        cancel_requested=True,
        updated_ns=1_767_225_000_500_000_000,
    )
    assert (updated.filled_cost, updated.fees, updated.venue_cum_qty) == (
        D("4.00"),
        D("0.0064"),
        D("40"),
    )
    assert updated.cancel_requested and updated.updated_ns == 1_767_225_000_500_000_000


async def test_fills_update_the_orders_cost_and_fees(repo: LedgerRepository) -> None:
    await repo.insert_order(_order())
    await repo.insert_fill(_fill("T1", price="0.1", qty="40", fee="0.0064"))
    await repo.insert_fill(_fill("T2", price="0.11", qty="10", fee="0.0018"))
    order = await repo.order_by_cl_ord_id("c1")
    assert order is not None
    assert order.filled_cost == D("5.10") and order.fees == D("0.0082")


async def test_orders_since_is_open_orders_plus_recent_ones(
    repo: LedgerRepository, clock: ManualClock
) -> None:
    await repo.insert_order(_order("old-open"))
    await repo.insert_order(_order("old-done"))
    await repo.update_order("old-done", status=OrderStatus.FILLED)
    clock.advance(10)
    cutoff = clock.now_ns()
    await repo.insert_order(_order("new-done"))
    await repo.update_order("new-done", status=OrderStatus.CANCELED)
    assert [o.cl_ord_id for o in await repo.orders_since(cutoff)] == ["old-open", "new-done"]


async def test_load_fills_in_recorded_order(repo: LedgerRepository) -> None:
    # The engine applies fills as they are recorded (one found late by reconciliation comes
    # late): a portfolio rebuilt from the ledger must see them in that order too.
    await repo.insert_fill(_fill("T2", exchange_ns=20, cl_ord_id=None, order_id="O1"))
    await repo.insert_fill(_fill("T1", exchange_ns=10, cl_ord_id=None, order_id="O1"))
    await repo.insert_fill(_fill("T3", exchange_ns=30, cl_ord_id=None, order_id="O1"))
    assert [f.trade_id for f in await repo.load_fills()] == ["T2", "T1", "T3"]
    assert [f.trade_id for f in await repo.load_fills(since_ns=20)] == ["T2", "T3"]


async def test_event_at_a_given_time(repo: LedgerRepository) -> None:
    await repo.record_event("reconcile", {"diff": "none"}, 42)
    (event,) = await repo.events()
    assert event.ts_ns == 42


async def test_metrics_from_text_row(repo: LedgerRepository) -> None:
    row = {
        "balance_usd": "100.25",
        "total_trades": "3",
        "winning_trades": "2",
        "total_profit_loss": "1.5",
        "daily_profit_loss": "-0.25",
    }
    await repo.record_metrics(row, 99)
    assert await repo.latest_metrics() == MetricsSnapshot(
        D("100.25"), 3, 2, D("1.5"), D("-0.25"), ts_ns=99
    )
    with pytest.raises(InvariantError, match="daily_profit_loss"):
        await repo.record_metrics({k: v for k, v in row.items() if k != "daily_profit_loss"}, 1)
    with pytest.raises(InvariantError):
        await repo.record_metrics({**row, "total_trades": "three"}, 1)


async def test_learning_entry_opened_and_closed_by_order(repo: LedgerRepository) -> None:
    await repo.open_learning_entry("c1", "XLM/USD", [("zscore", "-2.1"), ("spread", "3")], 5)
    await repo.close_learning_entry("c1", "win", D("0.30"), 9)
    await repo.close_learning_entry("c1", "loss", D("-1"), 10)  # already closed: untouched
    await repo.close_learning_entry("unknown", "win", D("1"), 11)  # nothing to close
    (row,) = await repo.learning_rows_for_order("c1")
    assert row.features == {"zscore": "-2.1", "spread": "3"}
    assert (row.symbol, row.ts_ns, row.outcome, row.profit_loss, row.outcome_ns) == (
        "XLM/USD",
        5,
        "win",
        D("0.30"),
        9,
    )
