"""A ledger outage shorter than the grace period, against the sim over real HTTP/WebSocket:
another program locks `trading.db`, a fill arrives meanwhile and cannot be recorded, the
engine turns unhealthy and refuses new orders; the lock goes away, the next write clears the
condition and the reconciliation it asks for records that fill, exactly once, in-process."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    engine_env,
    fast_tuning,
    move_mid,
    ours,
    settings_for,
)
from tests.eventually import eventually

from krakenbot.store.repository import LedgerRepository


async def _trade_ids(repo: LedgerRepository) -> list[str]:
    return [f.trade_id for f in await repo.load_fills(0)]


async def test_a_fill_during_a_short_ledger_outage_is_recorded_once_after_it(
    tmp_path: Path,
) -> None:
    strategy = Scripted()
    tuning = fast_tuning(ledger_check_s=0.05)
    # The reconciliation the failed fill asks for runs while the ledger is still locked and
    # fails at its write; the one after the recovery then waits for REST headroom. On the
    # starter tier (15 points, 1 back every 3 s) that wait, after the start-up run and the
    # failed one, could outlast the test's patience (1 run in ~16 failed, waiting for rate
    # headroom); this test is about the ledger, so the pro tier's budget.
    settings = settings_for(tmp_path, kraken_api_tier="pro")
    async with engine_env(tmp_path, strategy, tuning=tuning, settings=settings, tier="pro") as env:
        engine, sim = env.engine, env.sim
        await move_mid(env, "0.290000")
        book = engine.core.books[XLM]
        assert book.best_bid is not None and book.best_ask is not None
        price = engine.core.instruments[XLM].quantize_price((book.best_bid + book.best_ask) / 2)
        await engine.submit([buy("30", price)])
        order = (await eventually(engine.core.registry.live))[0]
        await eventually(lambda: ours(env), what="resting on the exchange")
        await eventually(engine.healthy, what="healthy before the outage")
        env.repo.db.lock_wait.limit(0.1)  # a write gives up on a lock after 0.1 s, not 5 s
        # Applied with the next statement; a read also waits for the engine's transaction to
        # end (the blocker below runs on this thread: it would block that transaction).
        assert await env.repo.db.pragma("busy_timeout") == 100

        blocker = sqlite3.connect(tmp_path / "trading.db", timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            sim.control.market_trade(XLM, "sell", Decimal("10"))  # a partial fill
            # The trade report's handling fails (its fill cannot be inserted): counted.
            await eventually(lambda: engine.health().counts.errors >= 1, what="insert failed")
            assert not engine.healthy() and engine.health().ledger_error
            assert len(sim.control.trades()) == 1
            async with engine.lock:  # no event half-handled while we look
                assert await _trade_ids(env.repo) == []  # not recorded...
                current = engine.core.registry.get(order.cl_ord_id)
                assert current is not None and current.filled_qty == 0  # ...so not trusted
                assert engine.core.portfolio.position(XLM) == 0
            placed = len(ours(env))
            await engine.submit([buy("20", price)])  # refused while failing
            assert engine.core.ledger_refusals == 1 and engine.executor.orders_sent == 1
            assert len(ours(env)) == placed
        finally:
            blocker.rollback()
            blocker.close()

        await eventually(lambda: engine.ledger.failing is None, what="the ledger recovers")
        trade_id = str(sim.control.trades()[0]["trade_id"])
        await eventually(lambda: _has(env.repo, trade_id))
        await eventually(lambda: engine.core.portfolio.position(XLM) == Decimal("10"))
        assert await _trade_ids(env.repo) == [trade_id]  # exactly once
        current = engine.core.registry.get(order.cl_ord_id)
        assert current is not None and current.filled_qty == Decimal("10")
        await eventually(engine.healthy, what="healthy again")


async def _has(repo: LedgerRepository, trade_id: str) -> bool:
    return trade_id in await _trade_ids(repo)
