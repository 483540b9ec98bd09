"""Round trips through the whole stack against the simulator over loopback sockets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    cancel,
    engine_env,
    mean_reversion,
    move_mid,
    ours,
    resting,
    sell,
    warm_up,
)
from tests.eventually import eventually

from krakenbot.domain.enums import OrderStatus, OrderType
from krakenbot.domain.ledger import LearningRow, TradeStatus
from krakenbot.store.repository import LedgerRepository


async def test_scripted_entry_fill_and_exit_are_persisted_once(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        sim, repo, engine = env.sim, env.repo, env.engine
        await eventually(strategy.books, what="a verified book")
        strategy.later(lambda v: [buy("30", "0.289000")])
        sim.control.set_mid(XLM, Decimal("0.290001"))
        await eventually(lambda: ours(env), what="order on the exchange")
        sim.control.set_mid(XLM, Decimal("0.288000"))  # the market comes down to us
        await eventually(lambda: engine.portfolio.position(XLM) == Decimal("30"))
        stop = await resting(env, "protect")  # the engine covers the position at Kraken
        assert stop.order_type is OrderType.STOP_LOSS and stop.qty == Decimal("30")
        strategy.later(lambda v: [sell("30", "0.287500", tag="take_profit")])
        sim.control.set_mid(XLM, Decimal("0.288001"))
        await eventually(lambda: engine.portfolio.position(XLM) == 0)
        orders = {o.tag: o for o in await repo.orders_since(0)}
        assert {t: o.status for t, o in orders.items()} == {
            "entry": OrderStatus.FILLED,
            "protect": OrderStatus.CANCELED,  # cancelled first: its XLM was held at Kraken
            "take_profit": OrderStatus.FILLED,
        }
        assert orders["take_profit"].created_ns > orders["protect"].updated_ns
        fills = await repo.load_fills(0)
        assert sum(f.qty for f in fills if f.side == "buy") == Decimal("30")
        assert len({f.trade_id for f in fills}) == len(fills) == len(sim.control.trades())
        (trade,) = await repo.trades()
        assert trade.status is TradeStatus.CLOSED


@pytest.mark.parametrize("live", [True, False], ids=["sim", "paper"])
async def test_mean_reversion_round_trip_entry_fill_take_profit(tmp_path: Path, live: bool) -> None:
    async with engine_env(tmp_path, mean_reversion(), live=live) as env:
        engine, repo = env.engine, env.repo
        await warm_up(env)
        await move_mid(env, "0.288000")  # far below the average: entry at the bid
        entry = [await resting(env, "entry")]
        assert entry[0].post_only
        await move_mid(env, "0.286000")  # the market trades through the bid: filled
        await eventually(lambda: engine.portfolio.position(XLM) > 0, what="long")
        stop = await resting(env, "protect")
        assert stop.order_type is OrderType.STOP_LOSS and stop.trigger_price is not None
        avg = engine.portfolio.avg_entry(XLM)
        assert avg is not None and stop.trigger_price == engine.instruments[XLM].quantize_price(
            avg * Decimal("0.97")
        )  # PROTECTIVE_STOP_PCT 3 % below the average entry, down to the tick
        await move_mid(env, "0.293000")  # the bid above the target: an immediate take-profit
        await eventually(lambda: engine.portfolio.position(XLM) == 0, what="flat again")
        rows = await eventually(lambda: repo.learning_rows_for_order(entry[0].cl_ord_id))
        learned = await eventually(lambda: _outcome(repo, entry[0].cl_ord_id))
        assert learned.outcome == "win" and learned.profit_loss > 0
        assert dict(rows[0].features)["z"]
        assert await eventually(repo.latest_metrics)
        statuses = sorted(str(o["status"]) for o in ours(env))
        # Live: entry, stop, take-profit were on the exchange; paper: nothing private left.
        assert statuses == (["canceled", "closed", "closed"] if live else [])
        tags = {o.tag: o.status for o in engine.registry.all()}
        assert tags["protect"] is OrderStatus.CANCELED and tags["take_profit"] is OrderStatus.FILLED
        assert (env.stack.rest is None) is (not live)


async def _outcome(repo: LedgerRepository, cl_ord_id: str) -> LearningRow | None:
    rows = await repo.learning_rows_for_order(cl_ord_id)
    return rows[0] if rows and rows[0].outcome else None


async def test_mean_reversion_stop_loss_exits_with_ioc(tmp_path: Path) -> None:
    async with engine_env(tmp_path, mean_reversion(stop_loss_pct=Decimal("1"))) as env:
        engine = env.engine
        await warm_up(env)
        await move_mid(env, "0.288000")
        await resting(env, "entry")
        await move_mid(env, "0.287000")
        await eventually(lambda: engine.portfolio.position(XLM) > 0, what="long")
        await move_mid(env, "0.283000")  # more than 1 % under the entry
        await eventually(lambda: engine.portfolio.position(XLM) == 0, what="stopped out")
        tags = {o.tag: o.status for o in engine.registry.all()}
        assert tags["stop_loss"] is OrderStatus.FILLED
        assert tags.get("take_profit", OrderStatus.CANCELED) is OrderStatus.CANCELED
        assert engine.portfolio.realized_total < 0


async def test_unfilled_entry_times_out_and_is_cancelled(tmp_path: Path) -> None:
    strategy = mean_reversion(entry_timeout_s=0.3, cooldown_s=600.0)
    async with engine_env(tmp_path, strategy) as env:
        engine = env.engine
        await warm_up(env)
        await move_mid(env, "0.288000")
        cid = (await resting(env, "entry")).cl_ord_id
        done = await eventually(
            lambda: (o := engine.registry.get(cid)) is not None and o.is_terminal and o,
            what="entry cancelled",
        )
        assert done.status is OrderStatus.CANCELED and done.filled_qty == 0
        assert [o["status"] for o in ours(env)] == ["canceled"]
        row = await env.repo.order_by_cl_ord_id(cid)
        assert row is not None and row.status is OrderStatus.CANCELED
        learned = await eventually(lambda: _outcome(env.repo, cid))
        assert learned.outcome.startswith("unfilled")


async def test_partial_fill_then_cancel_keeps_the_filled_part(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        engine, sim = env.engine, env.sim
        await move_mid(env, "0.290000")
        book = engine.books[XLM]
        assert book.best_bid is not None and book.best_ask is not None
        inside = (book.best_bid + book.best_ask) / 2
        price = engine.instruments[XLM].quantize_price(inside)
        await engine.submit([buy("30", price)])
        order = (await eventually(engine.registry.live))[0]
        await eventually(lambda: ours(env), what="resting on the exchange")
        sim.control.market_trade(XLM, "sell", Decimal("10"))
        await eventually(lambda: engine.portfolio.position(XLM) == Decimal("10"))
        assert engine.registry.get(order.cl_ord_id).status is OrderStatus.PARTIALLY_FILLED  # type: ignore[union-attr]
        await engine.submit([cancel(order.cl_ord_id)])
        final = await eventually(
            lambda: (o := engine.registry.get(order.cl_ord_id)) and o.is_terminal and o
        )
        assert final.status is OrderStatus.CANCELED and final.filled_qty == Decimal("10")
        row = await env.repo.order_by_cl_ord_id(order.cl_ord_id)
        assert row is not None and row.filled_qty == Decimal("10")
        assert row.status is OrderStatus.CANCELED
