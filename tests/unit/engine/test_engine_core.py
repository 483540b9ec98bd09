"""Engine handling without sockets: paper venue, a list feed, a real ledger, ManualClock.

Covers what the integration tests cannot provoke cheaply: breaker trips (price jump, WS
disconnections, balance mismatch), invariant errors halting trading (persisted), restored
trading state and loss halt, unknown-order events, metrics, balances, health."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import LIMITS as KIT_LIMITS
from enginekit import NoFeed, Quiet, build_engine, paper_engine, xlm_top
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import OrderIntent
from krakenbot.domain.enums import (
    Channel,
    ConnectionState,
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    SystemState,
    TradingState,
)
from krakenbot.domain.events import (
    BalanceChange,
    BookStatus,
    BookTop,
    CancelRejected,
    ConnectionChanged,
    ExecutionReport,
    ReconcileRequested,
    SubscriptionFailed,
    SystemStatusChanged,
    TimerTick,
)
from krakenbot.engine.inputs import Corrections
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.orders.reconcile import Conflict
from krakenbot.paper.venue import PaperVenue
from krakenbot.resilience.breaker import BreakerState, CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits
from krakenbot.store import LedgerRepository, open_ledger

LIMITS = replace(KIT_LIMITS, max_daily_loss_usd=D("1"))


def top(clock: ManualClock, bid: str, ask: str) -> BookTop:
    return xlm_top(clock.now_ns(), bid, ask)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Engine, LedgerRepository, ManualClock]]:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    venue = PaperVenue({"XLM/USD": XLM}, {"USD": D("100")}, clock=clock)
    breaker = BreakerLimits(max_ws_disconnects=2, price_jump_pct=D("5"))
    engine = await paper_engine(venue, repo, clock, breaker=breaker, limits=LIMITS)
    try:
        yield engine, repo, clock
    finally:
        await db.close()


async def test_price_jump_trips_the_breaker(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine, repo, clock = setup
    await engine.post(top(clock, "0.289", "0.291"))
    clock.advance(1)
    await engine.post(top(clock, "0.309", "0.311"))  # +6.9 % within the window
    assert engine.breaker.state is BreakerState.OPEN
    assert (await repo.events("breaker_trip"))[0].payload["cause"] == "price_jump"
    assert not engine.healthy()


async def test_websocket_disconnections_trip_the_breaker(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine, _repo, _ = setup
    for state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTING) * 2:
        await engine.post(ConnectionChanged(Channel.PRIVATE, state, "x", 1))
    assert engine.breaker.state is BreakerState.OPEN
    assert engine.health().ws_private is ConnectionState.RECONNECTING


async def test_invariant_error_halts_trading_persistently(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine, repo, clock = setup
    await engine.post(top(clock, "0.289", "0.291"))
    intent = OrderIntent("XLM/USD", Side.BUY, OrderType.LIMIT, D("30"), D("0.289"), post_only=True)
    await engine.submit([intent])
    order = engine.core.registry.all()[0]
    bad = ExecutionReport(
        exec_type=ExecType.NEW,
        order_id="OTHER",
        cl_ord_id=order.cl_ord_id,
        order_status=OrderStatus.OPEN,
        exchange_ns=1,
        cum_qty=D("100"),
    )
    await engine.post(bad)  # the venue says more was executed than we ordered
    assert engine.core.trading_state is TradingState.HALTED
    assert await repo.get_state("trading_state") == "HALTED"
    assert engine.health().last_error.startswith("invariant")


async def test_restart_restores_trading_state_and_loss_halt(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    try:
        await repo.set_state("trading_state", "REDUCING")
        await repo.set_state("loss_halted_day", "2025-11-22")
        engine = build_engine(
            strategy=Quiet(),
            gate=RiskGate(LIMITS),
            policy=BreakerPolicy(BreakerLimits()),
            breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
            venue=PaperVenue({"XLM/USD": XLM}, {}, clock=clock),
            feed=NoFeed(),
            repo=repo,
            clock=clock,
            rng=random.Random(1),
            instruments={"XLM/USD": XLM},
        )
        await engine.load()
        assert engine.core.trading_state is TradingState.REDUCING
        assert str(engine.core.gate.loss_halted_day) == "2025-11-22"
        clock.advance(86400)  # next UTC day: the halt lifts
        await engine.post(TimerTick(clock.now_ns()))
        assert engine.core.gate.loss_halted_day is None
        assert await repo.get_state("loss_halted_day") == ""
    finally:
        await db.close()


async def test_state_events_and_metrics(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine, repo, clock = setup
    await engine.post(top(clock, "0.289", "0.291"))
    await engine.post(BookStatus("XLM/USD", False, "checksum", 1))
    assert not engine.core.books["XLM/USD"].verified and not engine.health().book_verified
    await engine.post(SystemStatusChanged(SystemState.MAINTENANCE, 1))
    assert engine.core.system_state is SystemState.MAINTENANCE
    await engine.post(BalanceChange("USD", D("90"), D("-10"), False, 1))
    assert engine.core.account.confirmed["USD"] == D("90")
    await engine.post(SubscriptionFailed("book", "XLM/USD", "EGeneral:Invalid arguments", 1))
    await engine.post(CancelRejected("kbx", None, "EOrder:Unknown order", 1))
    await engine.post(ReconcileRequested("gap", 1))
    stray = ExecutionReport(ExecType.NEW, "OX", "kbstranger", OrderStatus.OPEN, 1)
    await engine.post(stray)
    kinds = {e.kind for e in await repo.events()}
    assert {"cancel_rejected", "unknown_order_event"} <= kinds
    clock.advance(61)
    await engine.post(TimerTick(clock.now_ns()))
    metrics = await repo.latest_metrics()
    assert metrics is not None and metrics.balance_usd == D("90")


async def test_conflict_from_reconciliation_halts(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine, repo, clock = setup
    conflict = Conflict("kbx", "OX", "local filled, venue open")
    await engine.post(Corrections("test", (conflict,), clock.now_ns()))
    assert engine.core.trading_state is TradingState.HALTED
    assert await repo.get_state("trading_state") == "HALTED"
    assert (await repo.events("reconcile"))[0].payload["kind"] == "conflict"


async def test_balance_mismatch_counts_for_the_breaker(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine, repo, _ = setup
    engine.venue._balances["USD"] = D("50")  # type: ignore[attr-defined]  # money vanished
    assert await engine.reconcile("test") == 0
    assert engine.breaker.state is BreakerState.OPEN
    assert (await repo.events("balance_mismatch"))[0].payload["detail"].startswith("USD")
    assert engine.core.account.confirmed["USD"] == D("50")


async def test_health_reports_the_picture(
    setup: tuple[Engine, LedgerRepository, ManualClock],
) -> None:
    engine = setup[0]
    engine.config = replace(engine.config, require_private_ws=True)
    assert not engine.healthy()  # no private stream yet
    await engine.post(ConnectionChanged(Channel.PRIVATE, ConnectionState.CONNECTED, "", 1))
    assert engine.healthy()
    health = engine.health()
    assert health.trading_state is TradingState.ACTIVE and health.open_orders == 0
