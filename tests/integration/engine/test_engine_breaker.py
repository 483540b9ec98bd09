"""The breaker against the real simulator on a ManualClock (issue 11, items 1, 4, 5).

The engine, its REST client and the simulator share one ManualClock, so cooldowns are
exact; the stack comes up through `open_stack` (start-up balances, ledger load, start-up
reconciliation) and the test drives the engine directly (no streams are consumed: what the
engine learns from the exchange it learns by reconciliation, as after a restart)."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from enginetest_helpers import (
    XLM,
    Scripted,
    buy,
    fast_tuning,
    sell,
    settings_for,
    sim_for_engine,
    sim_orders,
)
from tests.eventually import eventually

from krakenbot.app.trading_stack import Endpoints, TradingStack, open_stack
from krakenbot.clock import ManualClock
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.domain.sections import Credentials, Secret
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.net.http import AiohttpTransport, HttpResponse
from krakenbot.resilience.breaker import BreakerState
from krakenbot.risk.limits import BreakerLimits
from krakenbot.sim import Sim
from krakenbot.store import LedgerRepository, open_ledger

COOLDOWN_S = 10.0


class HookedTransport:
    """The real transport; `after[name]` runs once, right after that call's first answer."""

    def __init__(self, after: Mapping[str, Callable[[], None]]) -> None:
        self._inner = AiohttpTransport(user_agent="krakenbot-test")
        self._after = dict(after)
        self.fired: list[str] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        answer = await self._inner.request(
            method, url, body=body, headers=headers, timeout_s=timeout_s
        )
        name = url.rsplit("/", 1)[-1]
        hook = self._after.pop(name, None)
        if hook is not None:
            hook()
            self.fired.append(name)
        return answer

    async def close(self) -> None:
        await self._inner.close()


@asynccontextmanager
async def world(tmp_path: Path) -> AsyncIterator[tuple[Sim, LedgerRepository, ManualClock]]:
    clock = ManualClock(start_ns=time.time_ns())
    async with sim_for_engine(clock=clock) as sim:
        db = await open_ledger(tmp_path / "trading.db", clock)
        try:
            yield sim, LedgerRepository(db, clock), clock
        finally:
            await db.close()


@asynccontextmanager
async def stack_on(
    sim: Sim, repo: LedgerRepository, clock: ManualClock, tmp_path: Path, **tuning: Any
) -> AsyncIterator[TradingStack]:
    settings = settings_for(tmp_path, circuit_breaker_cooldown_s=COOLDOWN_S)
    async with open_stack(
        settings,
        live=True,
        endpoints=Endpoints(sim.rest_url, sim.ws_url, sim.ws_auth_url),
        credentials=Credentials(Secret(sim.api_key), Secret(sim.api_secret)),
        repo=repo,
        clock=clock,
        rng=random.Random(7),
        strategy=Scripted(),  # only what the test submits
        tuning=replace(fast_tuning(), **tuning),
    ) as stack:
        yield stack


async def see_book(engine: Engine, clock: ManualClock, bid: str, ask: str) -> None:
    now = clock.now_ns()
    levels = (
        (PriceLevel(Decimal(bid), Decimal("1000")),),
        (PriceLevel(Decimal(ask), Decimal("1000")),),
    )
    await engine.post(BookTop(XLM, *levels, True, now, now))


def half_open(engine: Engine, clock: ManualClock) -> None:
    """Trip the breaker and let its cooldown run out: one probe may go."""
    engine.breaker.trip("test: exchange trouble")
    clock.advance(COOLDOWN_S)
    assert engine.breaker.state is BreakerState.HALF_OPEN


async def test_a_fill_between_start_up_balances_and_reconciliation_trips_nothing(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as (sim, repo, clock):
        async with stack_on(sim, repo, clock, tmp_path) as stack:
            await see_book(stack.engine, clock, "0.289000", "0.291000")
            await stack.engine.submit([buy("30", "0.289000")])
            await stack.engine.drain(5.0)
        assert [o["status"] for o in sim_orders(sim)] == ["open"]
        # The daemon restarts; right after its start-up balance query the bid is filled.
        fill = HookedTransport({"Balance": lambda: sim.control.set_mid(XLM, Decimal("0.288"))})
        async with stack_on(sim, repo, clock, tmp_path, transport=fill) as stack:
            engine = stack.engine
            assert fill.fired == ["Balance"]
            assert engine.core.portfolio.position(XLM) == Decimal("30")
            assert engine.breaker.state is BreakerState.CLOSED
            assert await repo.events("balance_mismatch") == []
            assert await engine.reconcile("periodic") >= 0
            assert engine.breaker.state is BreakerState.CLOSED
            assert engine.core.account.confirmed["XLM"] == sim.control.balances()["XLM"]
            row = await repo.order_by_cl_ord_id(engine.core.registry.all()[0].cl_ord_id)
            assert row is not None and row.status is OrderStatus.FILLED


async def test_a_send_refused_by_our_own_breaker_is_no_exchange_failure(tmp_path: Path) -> None:
    one_failure_trips = BreakerLimits(max_order_failures=1)
    async with (
        world(tmp_path) as (sim, repo, clock),
        stack_on(sim, repo, clock, tmp_path, breaker=one_failure_trips) as stack,
    ):
        engine = stack.engine
        await see_book(engine, clock, "0.289000", "0.291000")
        half_open(engine, clock)
        # Two entries in one decision: the first send is the probe (slow to answer), our
        # breaker refuses the second before it leaves the process.
        sim.control.faults.latency(0.3)
        await engine.submit([buy("15", "0.289000"), buy("15", "0.288000")])
        await engine.drain(5.0)
        sim.control.faults.latency(0)
        # The probe succeeded and the refusal was no failure: closed, never re-tripped.
        assert engine.breaker.state is BreakerState.CLOSED
        assert await repo.events("breaker_trip") == []
        probe, refused = engine.core.registry.all()
        assert [o["cl_ord_id"] for o in sim_orders(sim)] == [probe.cl_ord_id]
        assert refused.status is OrderStatus.REJECTED and "not sent" in (refused.reason or "")


async def test_an_open_breaker_blocks_entries_only_and_its_cooldown_runs_out(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as (sim, repo, clock), stack_on(sim, repo, clock, tmp_path) as stack:
        engine = stack.engine
        await see_book(engine, clock, "0.289000", "0.291000")
        await engine.submit([buy("30", "0.289000")])
        await engine.drain(5.0)
        sim.control.set_mid(XLM, Decimal("0.288"))  # our bid is filled
        await engine.reconcile("test")
        assert engine.core.portfolio.position(XLM) == Decimal("30")
        engine.breaker.trip("balance_mismatch: test")  # as after the false mismatch
        opened_ns = clock.monotonic_ns()
        # The strategy keeps deciding while the breaker is open: the gate refuses every
        # entry (an audit event each, no order row), the stop-loss goes out.
        await see_book(engine, clock, "0.287000", "0.289000")
        for _ in range(5):
            await engine.submit([buy("30", "0.287000")])
        await engine.submit([sell("30", "0.287000", tag="stop_loss")])
        await engine.drain(5.0)
        assert [o["status"] for o in sim_orders(sim) if o["side"] == "sell"] == ["closed"]
        # Nothing restarted the cooldown: half-open exactly when it has run out.
        left_s = COOLDOWN_S - (clock.monotonic_ns() - opened_ns) / 1e9
        clock.advance(left_s - 0.001)
        assert engine.breaker.state is BreakerState.OPEN
        clock.advance(0.001)
        assert engine.breaker.state is BreakerState.HALF_OPEN
        await engine.reconcile("test")
        assert engine.core.portfolio.position(XLM) == 0
        denied = await repo.events("risk_denied")
        assert [e.payload["rule"] for e in denied] == ["breaker_open"] * 5
        rows = await repo.orders_since(0)
        assert [(r.tag, r.status) for r in rows] == [
            ("entry", OrderStatus.FILLED),
            ("stop_loss", OrderStatus.FILLED),
        ]


async def test_an_entry_the_breaker_would_refuse_is_an_event_not_an_order_row(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as (sim, repo, clock), stack_on(sim, repo, clock, tmp_path) as stack:
        engine = stack.engine
        await see_book(engine, clock, "0.289000", "0.291000")
        half_open(engine, clock)
        sim.control.faults.latency(0.3)  # the half-open probe takes a while to answer
        await engine.submit([buy("15", "0.289000")])
        await eventually(lambda: engine.executor.orders_sent == 1, what="probe on its way")
        # A later decision while the probe is out: the sender would refuse it, so the gate
        # does, and the refusal is an audit event, not an order row rejected after the fact.
        await engine.submit([buy("15", "0.288000")])
        await engine.drain(5.0)
        sim.control.faults.latency(0)
        (denied,) = await repo.events("risk_denied")
        assert denied.payload["rule"] == "breaker_open" and denied.payload["price"] == "0.288000"
        rows = await repo.orders_since(0)
        assert [r.limit_price for r in rows] == [Decimal("0.289000")]
        assert [o["price"] for o in sim_orders(sim)] == [Decimal("0.289000")]
        assert engine.breaker.state is BreakerState.CLOSED  # the probe succeeded
