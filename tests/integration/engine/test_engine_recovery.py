"""Exactly-once under failure: an ambiguous AddOrder, fills missed while the engine was
away or disconnected, and orders of ours that the ledger does not know."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    engine_env,
    move_mid,
    ours,
    resting,
    sim_for_engine,
    sim_orders,
)
from tests.eventually import eventually

from krakenbot.domain.enums import OrderStatus, TradingState


async def test_ambiguous_submission_resolves_to_exactly_one_order(tmp_path: Path) -> None:
    async with engine_env(tmp_path, Scripted()) as env:
        engine, sim = env.engine, env.sim
        await move_mid(env, "0.290000")
        sim.control.faults.lose_response(count=1, method="AddOrder")
        await engine.submit([buy("30", "0.289000")])
        order = await resting(env, "entry")
        # The REST answer was lost; the client looked the id up after its deadline.
        await eventually(lambda: engine.registry.get(order.cl_ord_id).order_id)  # type: ignore[union-attr]
        await eventually(lambda: engine.manager.in_flight == 0, what="send resolved")
        assert len(ours(env)) == 1
        rows = await env.repo.orders_since(0)
        assert [r.cl_ord_id for r in rows] == [order.cl_ord_id]
        assert rows[0].txid == ours(env)[0]["txid"]


async def test_fills_while_the_engine_was_away_are_recovered_at_start_up(
    tmp_path: Path,
) -> None:
    async with sim_for_engine() as sim:
        async with engine_env(tmp_path, Scripted(), sim=sim) as env:
            await move_mid(env, "0.290000")
            await env.engine.submit([buy("30", "0.289000")])
            order = await resting(env, "entry")
        # The daemon is gone (no shutdown: a crash); the market fills the order meanwhile.
        sim.control.set_mid(XLM, Decimal("0.288000"))
        assert [o["status"] for o in sim_orders(sim)] == ["closed"]
        async with engine_env(tmp_path, Scripted(), sim=sim) as env:
            engine = env.engine
            assert engine.portfolio.position(XLM) == Decimal("30")  # before any WS event
            assert engine.registry.get(order.cl_ord_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
            kinds = [e.payload["kind"] for e in await env.repo.events("reconcile")]
            assert "missing_fill" in kinds and "status_correction" in kinds
            assert len(await env.repo.load_fills(0)) == 1


async def test_fill_during_a_private_websocket_outage_is_recorded_once(tmp_path: Path) -> None:
    async with engine_env(tmp_path, Scripted()) as env:
        engine, sim = env.engine, env.sim
        await move_mid(env, "0.290000")
        await engine.submit([buy("30", "0.289000")])
        await resting(env, "entry")
        runs = engine.health().counts.reconciles
        sim.control.faults.ws_drop("reset", channel="private")
        sim.control.set_mid(XLM, Decimal("0.288000"))
        await eventually(lambda: engine.portfolio.position(XLM) == Decimal("30"))
        await eventually(lambda: engine.health().counts.reconciles > runs, what="reconciled")
        await eventually(lambda: engine.health().counts.reconnects >= 1)
        fills = await env.repo.load_fills(0)
        assert len(fills) == 1 == len(sim.control.trades())


async def test_exchange_order_with_our_prefix_is_adopted(tmp_path: Path) -> None:
    async with sim_for_engine() as sim:
        async with engine_env(tmp_path / "a", Scripted(), sim=sim) as env:
            await move_mid(env, "0.290000")
            await env.engine.submit([buy("30", "0.289000")])
            order = await resting(env, "entry")
        # A second daemon with an empty ledger (e.g. the database was restored from backup).
        async with engine_env(tmp_path / "b", Scripted(), sim=sim) as env:
            adopted = env.engine.registry.get(order.cl_ord_id)
            assert adopted is not None and adopted.status is OrderStatus.OPEN
            row = await env.repo.order_by_cl_ord_id(order.cl_ord_id)
            assert row is not None and row.tag == "adopted"
            kinds = await eventually(lambda: env.repo.events("reconcile"))
            assert kinds[0].payload["kind"] == "adopt_order"


@pytest.mark.parametrize("live", [True, False], ids=["sim", "paper"])
async def test_shutdown_cancels_our_orders_through_the_gate_and_confirms(
    tmp_path: Path, live: bool
) -> None:
    async with engine_env(tmp_path, Scripted(), live=live) as env:
        engine = env.engine
        await move_mid(env, "0.290000")
        await eventually(env.stack.healthy, what="healthy")
        await engine.submit([buy("30", "0.289000")])
        order = await resting(env, "entry")
        report = await env.stack.shutdown(5.0)
        assert report.clean and report.cancels_sent == 1 and report.still_open == ()
        assert engine.registry.get(order.cl_ord_id).status is OrderStatus.CANCELED  # type: ignore[union-attr]
        assert engine.health().stop_requested
        if live:
            assert [o["status"] for o in ours(env)] == ["canceled"]
        await engine.submit([buy("30", "0.289000")])  # after stop: nothing new goes out
        assert len(engine.registry.all()) == 1


async def test_emergency_stop_halts_and_cancels_everything(tmp_path: Path) -> None:
    async with engine_env(tmp_path, Scripted()) as env:
        engine = env.engine
        await move_mid(env, "0.290000")
        await engine.submit([buy("30", "0.289000")])
        order = await resting(env, "entry")
        await env.stack.emergency_stop("operator")
        assert engine.trading_state is TradingState.HALTED
        assert await env.repo.get_state("trading_state") == "HALTED"
        await eventually(lambda: [o["status"] for o in ours(env)] == ["canceled"])
        await eventually(
            lambda: (
                engine.registry.get(order.cl_ord_id).status  # type: ignore[union-attr]
                is OrderStatus.CANCELED
            )
        )
