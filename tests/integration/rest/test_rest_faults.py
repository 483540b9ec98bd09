"""Faults against the sim: ambiguous orders stay exactly-once, retries, nonce, breaker, limits."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from pathlib import Path

import pytest
from resttest_helpers import client, config, orders_with, post_only_buy, real_now_clock, sim_running

from krakenbot.domain.enums import OrderType, Side
from krakenbot.errors import AmbiguousOrderError, ConfigError, TransientError, TransportError
from krakenbot.kraken.errors import InvalidNonceError
from krakenbot.kraken.rest_orders import OrderRequest
from krakenbot.net.rest_client import RestClient
from krakenbot.resilience.breaker import BreakerState, BreakerTransition, CircuitOpenError
from krakenbot.sim import Sim


def _inject(sim: Sim, fault: str) -> None:
    f = sim.control.faults
    if fault == "lose_response":
        f.lose_response(method="AddOrder")
    elif fault == "garble_result":
        f.garble_result(method="AddOrder")
    elif fault == "timeout":
        f.timeout(method="AddOrder")
    elif fault.startswith("http_"):
        f.http_status(int(fault[5:]), method="AddOrder")
    else:
        f.kraken_error(fault, method="AddOrder")


@pytest.mark.parametrize(
    "fault",
    [
        "lose_response",  # executed, then the connection dropped
        "garble_result",  # executed, then an answer without error that cannot be read
        "timeout",  # server hangs; the client times out
        "http_502",
        "http_520",
        "EService:Unavailable",
        "EService:Busy",
        "EGeneral:Internal error",
    ],
)
async def test_ambiguous_add_order_leaves_exactly_one_order(tmp_path: Path, fault: str) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock, request_timeout_s=0.3) as c:
        req = post_only_buy()
        _inject(sim, fault)
        res = await asyncio.wait_for(c.add_order(req), 10)
        (order,) = orders_with(sim, req.cl_ord_id)
        assert res.txid == order["txid"]
        assert res.recovered == (fault in ("lose_response", "garble_result"))
        assert len(await c.open_orders(cl_ord_id=req.cl_ord_id)) == 1


async def test_ambiguous_then_filled_order_is_found_in_closed_orders(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        # A marketable limit buy fills on arrival; its response is lost: the order is only
        # in closed orders when the client looks.
        req = OrderRequest(
            "XLMUSD", Side.BUY, OrderType.LIMIT, Decimal(10), "fills-at-once", Decimal("0.35")
        )
        sim.control.faults.lose_response(method="AddOrder")
        res = await asyncio.wait_for(c.add_order(req), 10)
        (order,) = orders_with(sim, req.cl_ord_id)
        assert res.recovered and res.txid == order["txid"] and order["status"] == "closed"
        assert await c.open_orders(cl_ord_id=req.cl_ord_id) == ()


async def test_unresolvable_ambiguity_is_reported_never_resent(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with (
        sim_running(clock) as sim,
        client(sim, tmp_path, clock, lookup_attempts=2, read_retries=1) as c,
    ):
        req = post_only_buy()
        sim.control.faults.lose_response(method="AddOrder")
        sim.control.faults.http_status(502, count=1000, method="OpenOrders")
        with pytest.raises(AmbiguousOrderError) as info:
            await c.add_order(req)
        assert info.value.cl_ord_id == req.cl_ord_id
        assert len(orders_with(sim, req.cl_ord_id)) == 1  # the one that executed; no twin


async def test_private_call_without_credentials_is_a_config_error(tmp_path: Path) -> None:
    async with sim_running() as sim:
        cfg = config(sim, tmp_path)
        async with RestClient(cfg, None, clock=real_now_clock(), rng=random.Random(1)) as c:
            assert (await c.server_time()).unixtime > 0  # public calls need no key
            with pytest.raises(ConfigError):
                await c.balance()


async def test_repeated_ambiguity_gives_up_without_duplicates(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with (
        sim_running(clock) as sim,
        client(sim, tmp_path, clock, max_order_sends=2, breaker_threshold=100) as c,
    ):
        req = post_only_buy()
        sim.control.faults.http_status(503, count=5, method="AddOrder")
        with pytest.raises(TransientError) as info:
            await c.add_order(req)
        assert "not placed" in str(info.value)
        assert orders_with(sim, req.cl_ord_id) == []


async def test_read_only_calls_retry_transient_faults(tmp_path: Path) -> None:
    async with (
        sim_running() as sim,
        client(sim, tmp_path, real_now_clock(), request_timeout_s=0.3) as c,
    ):
        f = sim.control.faults
        f.http_status(502, method="Balance")
        f.kraken_error("EService:Unavailable", method="Balance")
        f.timeout(method="Balance")
        f.kraken_error("EAPI:Rate limit exceeded", method="Balance")
        f.kraken_error("EGeneral:Too many requests", method="Time")
        assert (await c.balance()).available("USD") == Decimal("1000")
        assert (await c.server_time()).unixtime > 0
        f.http_status(503, count=10, method="Balance")
        with pytest.raises(TransportError):
            await c.balance()


async def test_definite_refusals_of_an_order_are_not_ambiguous(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        req = post_only_buy()
        sim.control.faults.kraken_error("EService:Deadline elapsed", method="AddOrder")
        with pytest.raises(TransientError) as info:
            await c.add_order(req)
        assert info.value.kraken_error == "EService:Deadline elapsed"
        assert orders_with(sim, req.cl_ord_id) == []
        # Throttling and rate limits are waited out, then the order goes (once).
        retry_at = clock.now_ns() // 10**9 + 3
        sim.control.faults.kraken_error(f"EService:Throttled: {retry_at}", method="AddOrder")
        sim.control.faults.kraken_error("EOrder:Rate limit exceeded", method="AddOrder")
        res = await c.add_order(req)
        assert clock.now_ns() >= retry_at * 10**9
        assert [o["txid"] for o in orders_with(sim, req.cl_ord_id)] == [res.txid]


async def test_invalid_nonce_retried_once_then_breaker_and_advice(tmp_path: Path) -> None:
    async with sim_running() as sim, client(sim, tmp_path, real_now_clock()) as c:
        sim.control.faults.kraken_error("EAPI:Invalid nonce", method="Balance")
        assert (await c.balance()).available("USD") == Decimal("1000")
        assert c.invalid_nonce_count == 1 and c.breaker_state is BreakerState.CLOSED
        sim.control.faults.kraken_error("EAPI:Invalid nonce", count=2, method="Balance")
        with pytest.raises(InvalidNonceError):
            await c.balance()
        assert c.breaker_state is BreakerState.OPEN
        with pytest.raises(CircuitOpenError):
            await c.add_order(post_only_buy())


async def test_breaker_transitions_gate_orders_but_never_cancels(tmp_path: Path) -> None:
    clock = real_now_clock()
    seen: list[BreakerTransition] = []
    async with sim_running(clock) as sim:
        c = client(sim, tmp_path, clock, breaker_threshold=2, breaker_cooldown_s=30, read_retries=0)
        c.breaker.subscribe(seen.append)
        async with c:
            resting = await c.add_order(post_only_buy())
            sim.control.faults.http_status(502, count=2, method="Balance")
            for _ in range(2):
                with pytest.raises(TransportError):
                    await c.balance()
            assert c.breaker_state is BreakerState.OPEN
            blocked = post_only_buy()
            with pytest.raises(CircuitOpenError):
                await c.add_order(blocked)
            assert orders_with(sim, blocked.cl_ord_id) == []
            assert (await c.cancel_order(txid=resting.txid)).count == 1  # cancels always go
            clock.advance(30)
            assert c.breaker_state is BreakerState.HALF_OPEN
            probe = await c.add_order(post_only_buy())
            assert probe.txid and c.breaker_state is BreakerState.CLOSED
    assert [(t.old.value, t.new.value) for t in seen] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


async def test_an_open_breaker_never_holds_an_exit_back(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock, breaker_cooldown_s=30) as c:
        c.breaker.trip("test")
        exit_ = OrderRequest(
            pair="XLMUSD",
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            volume=Decimal("10"),
            price=Decimal("0.500000"),
            cl_ord_id="kbexit",
        )
        assert (await c.add_order(exit_, reducing=True)).txid
        assert [o["status"] for o in orders_with(sim, "kbexit")] == ["open"]
        with pytest.raises(CircuitOpenError):  # entries still wait for the cooldown
            await c.add_order(post_only_buy())
        clock.advance(30)
        assert c.breaker_state is BreakerState.HALF_OPEN  # the exit took no probe
        assert (await c.add_order(post_only_buy())).txid
        assert c.breaker_state is BreakerState.CLOSED


async def test_burst_of_200_queries_stays_under_the_rest_limit(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock, tier="starter") as sim, client(sim, tmp_path, clock) as c:
        results = await asyncio.wait_for(
            asyncio.gather(*(c.balance() for _ in range(200)), return_exceptions=True), 30
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == []
        assert sim.control.rest_counter(sim.api_key) <= 15


async def test_burst_of_200_trading_calls_stays_under_the_pair_limit(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock, tier="starter") as sim, client(sim, tmp_path, clock) as c:
        peak = Decimal(0)
        for _ in range(100):
            res = await c.add_order(post_only_buy())
            peak = max(peak, sim.control.trading_counter(sim.api_key, "XLM/USD"))
            assert (await c.cancel_order(txid=res.txid)).count == 1  # +8: a young order
            peak = max(peak, sim.control.trading_counter(sim.api_key, "XLM/USD"))
        assert Decimal(50) <= peak <= Decimal(60)  # it ran close to the line, never over


async def test_live_ratecounter_feeds_the_model(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        await c.asset_pairs(["XLMUSD"])
        c.observe_trading_counter("XLM/USD", 55.0)  # as the WS executions channel reports it
        before = clock.now_ns()
        await c.add_order(post_only_buy())
        # 55 + 1 > 60 - margin - cancel reserve: the add had to wait for decay first.
        assert clock.now_ns() - before >= 5_000_000_000
