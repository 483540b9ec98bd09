"""Every risk limit denies through the whole stack (each denial lands in `events`, no order
reaches the exchange), and the daily loss halt."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from enginetest_helpers import (
    XLM,
    Env,
    Scripted,
    buy,
    engine_env,
    fast_tuning,
    move_mid,
    ours,
    resting,
    sell,
    settings_for,
)
from tests.eventually import eventually

from krakenbot.domain.commands import CancelIntent, OrderIntent
from krakenbot.domain.enums import (
    OrderStatus,
    OrderType,
    SystemState,
    TimeInForce,
    TradingState,
)
from krakenbot.domain.events import BookStatus
from krakenbot.risk.limits import RiskLimits

BTC, ETH = "BTC/USD", "ETH/USD"


def _xlm_qty(env: Env, notional: str) -> Decimal:
    bid = env.engine.books[XLM].best_bid
    assert bid is not None
    return env.engine.instruments[XLM].quantize_qty(Decimal(notional) / bid)


def _xlm_buy(env: Env, notional: str, **kw: object) -> OrderIntent:
    bid = env.engine.books[XLM].best_bid
    assert bid is not None
    return buy(str(_xlm_qty(env, notional)), bid, **kw)


async def _denied(env: Env, intent: OrderIntent, rule: str) -> None:
    before = len(await env.repo.events("risk_denied", limit=1000))
    await env.engine.submit([intent])
    rows = await env.repo.events("risk_denied", limit=1000)
    assert len(rows) == before + 1, f"{rule}: not denied"
    assert rows[-1].payload["rule"] == rule, rows[-1].payload


async def test_each_risk_limit_denies_and_is_audited(tmp_path: Path) -> None:
    limits = RiskLimits(
        allowed_symbols=frozenset({XLM, BTC}),
        max_trade_usd=Decimal("12"),
        min_order_usd=Decimal("3"),
        max_total_exposure_usd=Decimal("20"),
        max_positions=1,
        max_daily_loss_usd=Decimal("20"),
        post_only=True,
        max_orders_per_window=1,
    )
    tuning = replace(fast_tuning(), risk=limits)
    strategy = Scripted(also=(BTC, ETH))
    settings = settings_for(tmp_path, allowed_pairs=(XLM, BTC))
    async with engine_env(
        tmp_path,
        strategy,
        tuning=tuning,
        settings=settings,
        pairs=(XLM, BTC, ETH),
        balances={"USD": Decimal("12"), "XLM": Decimal("0")},
    ) as env:
        engine, sim = env.engine, env.sim
        await move_mid(env, "0.290000")
        await eventually(lambda: engine.books.get(BTC) and engine.books[BTC].verified)
        await _denied(env, _xlm_buy(env, "14"), "max_trade_size")
        await _denied(env, _xlm_buy(env, "2.9"), "min_order_size")
        await _denied(env, buy("5", engine.books[XLM].best_bid or 0), "exchange_constraint")
        await _denied(env, _xlm_buy(env, "8.7", post_only=False), "post_only_required")
        await _denied(env, buy("30", "0.250000"), "price_band")
        eth = engine.instruments[ETH]
        await _denied(env, buy(str(eth.ordermin), "3000.00", symbol=ETH), "symbol_not_allowed")
        await engine.submit([_xlm_buy(env, "8.7")])  # approved: rests on the book
        first = await resting(env, "entry")
        await _denied(env, _xlm_buy(env, "11.5"), "exposure")
        btc_bid = engine.books[BTC].best_bid
        assert btc_bid is not None
        await _denied(env, buy("0.0001", btc_bid, symbol=BTC), "max_positions")
        await _denied(env, _xlm_buy(env, "5"), "balance")
        await _denied(env, _xlm_buy(env, "3.1"), "order_rate")
        market = replace(_xlm_buy(env, "3.1"), order_type=OrderType.MARKET, limit_price=None)
        await _denied(env, market, "order_type")
        await _denied(env, sell("30", engine.books[XLM].best_ask or 0), "not_reducing")
        await engine.set_trading_state(TradingState.REDUCING, "test")
        await _denied(env, _xlm_buy(env, "3.1"), "reducing_only")
        await engine.set_trading_state(TradingState.ACTIVE, "test")
        await engine.post(BookStatus(XLM, False, "checksum mismatch", 0))
        await _denied(env, _xlm_buy(env, "3.1"), "market_data")
        await move_mid(env, "0.290100")  # a fresh verified book
        sim.control.set_system_status("cancel_only")
        await eventually(lambda: engine.system_state is SystemState.CANCEL_ONLY)
        await _denied(env, _xlm_buy(env, "3.1"), "system_status")
        sim.control.set_system_status("online")
        await eventually(lambda: engine.system_state is SystemState.ONLINE)
        engine.breaker.trip("test")
        await _denied(env, _xlm_buy(env, "3.1"), "breaker_open")
        await engine.set_trading_state(TradingState.HALTED, "test")
        await _denied(env, _xlm_buy(env, "3.1"), "trading_halted")
        assert await env.repo.get_state("trading_state") == "HALTED"
        # Cancels always pass, even HALTED with the breaker open.
        await engine.submit([CancelIntent(first.cl_ord_id, "test")])
        await eventually(lambda: [o["status"] for o in ours(env)] == ["canceled"])
        assert len(ours(env)) == 1  # nothing denied ever reached the exchange


async def test_daily_loss_halts_entries_until_utc_midnight_but_exits_pass(
    tmp_path: Path,
) -> None:
    strategy = Scripted()
    settings = settings_for(tmp_path, max_daily_losses=Decimal("0.05"))
    async with engine_env(tmp_path, strategy, settings=settings) as env:
        engine, repo = env.engine, env.repo
        await move_mid(env, "0.290000")
        await engine.submit([buy("30", "0.289000")])
        await resting(env, "entry")
        await move_mid(env, "0.288000")  # filled at 0.289
        await eventually(lambda: engine.portfolio.position(XLM) == Decimal("30"))
        await move_mid(env, "0.286000")  # unrealized loss ~0.09 + fees > 0.05
        halted = await eventually(lambda: repo.events("daily_loss_halt"))
        assert halted[0].payload["day"]
        assert await repo.get_state("loss_halted_day")
        await _denied(env, buy("30", engine.books[XLM].best_bid or 0), "daily_loss")
        bid = engine.books[XLM].best_bid
        assert bid is not None
        await engine.submit([sell("30", bid, time_in_force=TimeInForce.IOC, tag="stop_loss")])
        await eventually(lambda: engine.portfolio.position(XLM) == 0, what="exit passed")
        exits = [o for o in engine.registry.all() if o.tag == "stop_loss"]
        assert exits[0].status is OrderStatus.FILLED
