"""Orders over the private WebSocket through the whole stack, against the simulator over
loopback sockets (issue 15): the default path is WS; a socket dropped between the send and
the ack leaves exactly one order at the exchange and one in the ledger, whether Kraken
executed the request before the drop or never received it; with the WS down orders go over
REST without a duplicate; a WS rate-limit refusal is handled as REST's is."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from enginetest_helpers import (
    XLM,
    Env,
    Scripted,
    buy,
    cancel,
    engine_env,
    fast_tuning,
    ours,
    resting,
    settings_for,
)
from tests.eventually import eventually

from krakenbot.app.deadman import DeadMansSwitch, DmsState
from krakenbot.clock import SystemClock
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.order import Order
from krakenbot.domain.sections import DeadManSwitchSection, OrderTransport
from krakenbot.net.kraken_venue import KrakenVenue
from krakenbot.sim import Sim


def _venue(env_venue: object) -> KrakenVenue:
    assert isinstance(env_venue, KrakenVenue)
    return env_venue


async def _entry(
    strategy: Scripted, sim: Sim, venue: object = None, price: str = "0.286000"
) -> None:
    await eventually(strategy.books, what="a verified book")
    if isinstance(venue, KrakenVenue) and venue.ws is not None:
        ws = venue.ws  # orders sent before the private socket is up go over REST
        await eventually(lambda: ws.usable, what="the private WebSocket up")
    strategy.later(lambda v: [buy("30", price)])
    sim.control.set_mid(XLM, Decimal("0.290001"))  # a new book view runs the strategy


async def _one_order_everywhere(env: Env, *, status: OrderStatus) -> Order:
    """Exactly one order of ours at the exchange and exactly one in the ledger, the same."""
    exchange = await eventually(lambda: ours(env), what="our order at the exchange")
    rows = await env.repo.orders_since(0)
    assert len(exchange) == 1, exchange
    assert len(rows) == 1, rows
    (row,) = rows
    assert row.cl_ord_id == exchange[0]["cl_ord_id"]
    order = await eventually(
        lambda: next(
            (o for o in env.engine.core.registry.all() if o.status is status and o.order_id),
            None,
        ),
        what=f"the order {status} with its txid",
    )
    assert order.order_id == exchange[0]["txid"]
    stored = await eventually(
        lambda: _stored_txid(env, order.cl_ord_id), what="the ledger row has the txid"
    )
    assert stored == exchange[0]["txid"]
    return order


async def _stored_txid(env: Env, cl_ord_id: str) -> str | None:
    row = await env.repo.order_by_cl_ord_id(cl_ord_id)
    return None if row is None else row.txid


async def test_orders_and_cancels_go_over_the_websocket_by_default(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        await _entry(strategy, env.sim, env.stack.venue)
        order = await resting(env, "entry")
        await _one_order_everywhere(env, status=OrderStatus.OPEN)
        strategy.later(lambda v: [cancel(order.cl_ord_id)])
        env.sim.control.set_mid(XLM, Decimal("0.290100"))  # a new book view runs the strategy
        await eventually(
            lambda: (
                env.engine.core.registry.get(order.cl_ord_id).status  # type: ignore[union-attr]
                is OrderStatus.CANCELED
            ),
            what="cancelled",
        )
        seen = env.sim.control.requests()
        assert seen["ws:add_order"] == 1 and seen["ws:cancel_order"] == 1
        assert "rest:AddOrder" not in seen and "rest:CancelOrder" not in seen
        assert _venue(env.stack.venue).ws is not None


async def test_order_transport_rest_keeps_the_old_path(tmp_path: Path) -> None:
    strategy = Scripted()
    settings = settings_for(tmp_path, order_transport=OrderTransport.REST)
    async with engine_env(tmp_path, strategy, settings=settings) as env:
        await _entry(strategy, env.sim, env.stack.venue)
        await resting(env, "entry")
        seen = env.sim.control.requests()
        assert seen["rest:AddOrder"] == 1 and "ws:add_order" not in seen


@pytest.mark.parametrize("executed", [True, False], ids=["executed", "never-received"])
async def test_socket_dropped_between_send_and_ack_leaves_exactly_one_order(
    tmp_path: Path, executed: bool
) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        env.sim.control.faults.ws_drop_on("add_order", executed=executed)
        await _entry(strategy, env.sim, env.stack.venue)
        await _one_order_everywhere(env, status=OrderStatus.OPEN)
        await eventually(lambda: not env.engine.core.manager.sending, what="the send settled")
        seen = env.sim.control.requests()
        # Executed before the drop: found by its cl_ord_id, never sent again. Never
        # received: provably absent after its deadline, then sent once more (whichever
        # transport is up by then), and only then.
        sends = seen.get("ws:add_order", 0) + seen.get("rest:AddOrder", 0)
        assert sends == (1 if executed else 2), seen
        assert seen.get("ws:add_order", 0) >= 1, seen  # the first send went over the WS
        await _one_order_everywhere(env, status=OrderStatus.OPEN)


async def test_websocket_down_orders_go_over_rest_without_duplicate(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        venue = _venue(env.stack.venue)
        assert venue.ws is not None
        await eventually(lambda: venue.ws is not None and venue.ws.usable, what="private WS up")
        env.sim.control.faults.ws_refuse("private")
        env.sim.control.faults.ws_drop("reset", channel="private")
        await eventually(lambda: not venue.ws.usable, what="private WS down")  # type: ignore[union-attr]
        await _entry(strategy, env.sim)
        order = await _one_order_everywhere(env, status=OrderStatus.OPEN)
        seen = env.sim.control.requests()
        assert seen["rest:AddOrder"] == 1 and "ws:add_order" not in seen
        # Back up: the next order goes over the WebSocket again.
        env.sim.control.faults.ws_refuse("private", refuse=False)
        await eventually(lambda: venue.ws.usable, what="private WS up again")  # type: ignore[union-attr]
        strategy.later(lambda v: [cancel(order.cl_ord_id)])
        env.sim.control.set_mid(XLM, Decimal("0.290100"))
        await eventually(lambda: env.sim.control.requests().get("ws:cancel_order") == 1)


async def test_websocket_rate_limit_refusal_waits_on_the_shared_model(tmp_path: Path) -> None:
    strategy = Scripted()
    settings = settings_for(tmp_path, kraken_api_tier="pro")
    async with engine_env(tmp_path, strategy, settings=settings, tier="pro") as env:
        venue = _venue(env.stack.venue)
        env.sim.control.faults.kraken_error("EOrder:Rate limit exceeded", method="add_order")
        await _entry(strategy, env.sim, env.stack.venue)
        # Kraken's word outranks the model: the pair's counter is taken as full (the same
        # model REST orders are paced by), and the order goes again once it has decayed.
        await eventually(
            lambda: env.sim.control.requests().get("ws:add_order") == 1, what="refused once"
        )
        await eventually(
            lambda: venue.rest.trading_counter_estimate(XLM) > 150, what="model says full"
        )
        await _one_order_everywhere(env, status=OrderStatus.OPEN)
        assert env.sim.control.requests()["ws:add_order"] == 2
        assert "rest:AddOrder" not in env.sim.control.requests()


def test_fast_tuning_keeps_deadlines_short() -> None:
    # The drop tests wait out one deadline plus grace before the lookup.
    tuning = fast_tuning()
    assert tuning.order_deadline_s + tuning.deadline_grace_s < 3


async def test_dead_man_switch_goes_over_the_websocket(tmp_path: Path) -> None:
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        await _entry(strategy, env.sim, env.stack.venue)
        await resting(env, "entry")  # an entry rests: the switch is wanted
        section = DeadManSwitchSection(timeout_s=60, refresh_s=20)
        dms = DeadMansSwitch.for_stack(env.stack, section, SystemClock())
        assert dms is not None
        await eventually(env.stack.healthy, what="a healthy daemon")
        await dms.step()
        assert dms.state is DmsState.ARMED and dms.trigger_time
        assert env.sim.control.dead_man_trigger_ns() is not None
        assert await dms.disable()
        assert env.sim.control.dead_man_trigger_ns() is None
        seen = env.sim.control.requests()
        assert seen["ws:cancel_all_orders_after"] == 2
        assert "rest:CancelAllOrdersAfter" not in seen


async def test_a_stopping_daemon_sends_its_cancels_over_rest_only(tmp_path: Path) -> None:
    # The shutdown stops the private session first: a request written to the socket being
    # closed could only end unanswered (a cancel sent twice, an order looked up after its
    # deadline), so from the stop on every request goes over REST, once.
    strategy = Scripted()
    async with engine_env(tmp_path, strategy) as env:
        await _entry(strategy, env.sim, env.stack.venue)
        await resting(env, "entry")
        before = env.sim.control.requests()
        assert "ws:cancel_order" not in before and "rest:CancelOrder" not in before
        report = await env.stack.shutdown(5.0)
        assert report.clean and report.cancels_sent == 1
        seen = env.sim.control.requests()
        assert "ws:cancel_order" not in seen, seen
        assert seen["rest:CancelOrder"] == 1, seen
        assert [o["status"] for o in ours(env)] == ["canceled"]
