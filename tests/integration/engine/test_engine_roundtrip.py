"""Round trips through the whole stack against the simulator over loopback sockets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    engine_env,
    eventually,
    eventually_async,
    sell,
    sim_orders,
)

from krakenbot.domain.enums import OrderStatus


async def test_scripted_entry_fill_and_exit_are_persisted_once(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        sim, repo, engine = env.sim, env.repo, env.engine
        if True:
            await eventually(strategy.books, what="a verified book")
            strategy.later(lambda v: [buy("30", "0.289000")])
            sim.control.set_mid(XLM, Decimal("0.290001"))
            await eventually(lambda: sim_orders(sim), what="order on the exchange")
            sim.control.set_mid(XLM, Decimal("0.288000"))  # the market comes down to us
            await eventually(lambda: engine.portfolio.position(XLM) == Decimal("30"))
            strategy.later(lambda v: [sell("30", "0.287500", tag="take_profit")])
            sim.control.set_mid(XLM, Decimal("0.288001"))
            await eventually(lambda: engine.portfolio.position(XLM) == 0)
            orders = await repo.orders_since(0)
            assert sorted(o.status for o in orders) == [OrderStatus.FILLED] * 2
            fills = await repo.load_fills(0)
            assert sum(f.qty for f in fills if f.side == "buy") == Decimal("30")
            assert len({f.trade_id for f in fills}) == len(fills)
            trades = await eventually_async(repo.closed_trades)
            assert len(trades) == 1
