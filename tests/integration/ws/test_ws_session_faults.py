"""Session resilience against every WebSocket fault the simulator injects."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from tests.eventually import eventually
from tests.integration.ws.ws_helpers import marketable_buy, session_running

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Channel, ConnectionState, OrderType, Side
from krakenbot.domain.events import (
    BookStatus,
    BookTop,
    ConnectionChanged,
    DecodeFailed,
    ExecutionReport,
    OrderAccepted,
    ReconcileRequested,
)
from krakenbot.sim import Sim


def _state(channel: Channel, state: ConnectionState):  # type: ignore[no-untyped-def]
    return lambda e: isinstance(e, ConnectionChanged) and e.channel is channel and e.state is state


def _verified_top(e: object) -> bool:
    return isinstance(e, BookTop) and e.verified and e.best_bid is not None


@pytest.mark.parametrize("mode", ["close", "reset", "stall"])
async def test_public_reconnects_and_resubscribes_after_fault(sim: Sim, mode: str) -> None:
    async with session_running(sim, private=False) as (session, events):
        await events.wait_for(_verified_top)
        mark = len(events.events)
        sim.control.faults.ws_drop(mode, channel="public")
        if mode == "stall":
            await events.wait_for(_state(Channel.PUBLIC, ConnectionState.STALE), after=mark)
        await events.wait_for(_state(Channel.PUBLIC, ConnectionState.RECONNECTING), after=mark)
        # Books are declared untrustworthy while away...
        await events.wait_for(lambda e: isinstance(e, BookStatus) and not e.verified, after=mark)
        await events.wait_for(_state(Channel.PUBLIC, ConnectionState.CONNECTED), after=mark)
        # ...and verified again from a fresh snapshot, with data flowing.
        await events.wait_for(lambda e: isinstance(e, BookStatus) and e.verified, after=mark)
        await events.wait_for(_verified_top, after=mark)
        assert session.stats.connects >= 2


@pytest.mark.parametrize("mode", ["close", "reset", "stall"])
async def test_private_reconnect_fetches_fresh_token_and_requests_reconcile(
    sim: Sim, mode: str
) -> None:
    tokens: list[int] = []
    async with session_running(sim, counter=tokens, book=False, trade=False) as (_, events):
        await events.wait_for(_state(Channel.PRIVATE, ConnectionState.CONNECTED))
        await events.wait_for(lambda e: isinstance(e, ExecutionReport) or _balances(e))
        assert len(tokens) == 1
        mark = len(events.events)
        sim.control.faults.ws_drop(mode, channel="private")
        await events.wait_for(_state(Channel.PRIVATE, ConnectionState.CONNECTED), after=mark)
        await events.wait_for(lambda e: isinstance(e, ReconcileRequested), after=mark)
        assert len(tokens) == 2  # a fresh token per connection
        await events.wait_for(_balances, after=mark)  # fresh balances snapshot


def _balances(e: object) -> bool:
    return type(e).__name__ == "BalanceChange" and getattr(e, "is_snapshot", False)


async def test_bad_book_checksum_invalidates_and_resyncs(sim: Sim) -> None:
    async with session_running(sim, private=False) as (session, events):
        await events.wait_for(_verified_top)
        mark = len(events.events)
        sim.control.faults.book_bad_checksum(count=1)
        bad = await events.wait_for(
            lambda e: isinstance(e, BookStatus) and not e.verified, after=mark
        )
        assert isinstance(bad, BookStatus) and "checksum mismatch" in bad.reason
        idx = events.events.index(bad)
        await events.wait_for(lambda e: isinstance(e, BookStatus) and e.verified, after=idx)
        await events.wait_for(_verified_top, after=idx)
        assert session.stats.book_failures == 1
        # The connection itself was never dropped for this.
        assert session.stats.connects == 1


async def test_garbage_frames_become_decode_failed_without_reconnect(sim: Sim) -> None:
    async with session_running(sim, private=False) as (session, events):
        await events.wait_for(_verified_top)
        mark = len(events.events)
        sim.control.faults.ws_malformed(count=1, channel="public")
        sim.control.faults.ws_truncated(count=1, channel="public")
        await eventually(lambda: len(events.of(DecodeFailed)) >= 2)
        await events.wait_for(_verified_top, after=mark)
        assert session.stats.connects == 1


async def test_duplicate_execution_reports_deliver_each_fill_once(sim: Sim) -> None:
    async with session_running(sim, book=True, trade=False) as (session, events):
        await events.wait_for(_state(Channel.PRIVATE, ConnectionState.CONNECTED))
        await session.wait_connected(Channel.PRIVATE)
        sim.control.faults.exec_duplicate(count=10)
        order = await marketable_buy(events, "dup-1")
        await session.trading.add_order(order)
        await events.wait_for(lambda e: isinstance(e, OrderAccepted) and e.cl_ord_id == "dup-1")
        fill = await events.wait_for(
            lambda e: isinstance(e, ExecutionReport) and e.fill is not None
        )
        assert isinstance(fill, ExecutionReport)
        await eventually(lambda: session.executions.duplicates_dropped >= 1)
        await asyncio.sleep(0.3)  # let any further duplicates arrive (they must be dropped)
        fills = [e.fill.trade_id for e in events.of(ExecutionReport) if e.fill is not None]
        assert len(fills) == len(set(fills)) >= 1
        assert len(sim.control.trades()) == len(fills)
        # Non-fill reports that were sent twice are dropped too.
        kinds = [e.exec_type.value for e in events.of(ExecutionReport) if e.cl_ord_id == "dup-1"]
        assert kinds.count("pending_new") == 1 and kinds.count("new") == 1


async def test_sequence_gap_triggers_snapshot_and_reconcile(sim: Sim) -> None:
    async with session_running(sim, trade=False) as (session, events):
        await session.wait_connected(Channel.PRIVATE)
        await events.wait_for(lambda e: isinstance(e, ExecutionReport) or _balances(e))
        sim.control.faults.exec_sequence_gap()
        order = await marketable_buy(events, "gap-1")
        mark = len(events.events)
        await session.trading.add_order(order)
        gap = await events.wait_for(
            lambda e: isinstance(e, ReconcileRequested) and "gap" in e.reason, after=mark
        )
        idx = events.events.index(gap)
        # A fresh executions snapshot follows; the fill is delivered exactly once overall.
        await eventually(lambda: session.executions.last_sequence is not None)
        await eventually(lambda: not session.executions.awaiting_snapshot)
        await eventually(lambda: len(sim.control.trades()) >= 1)
        await eventually(lambda: any(e.fill is not None for e in events.of(ExecutionReport)))
        fills = [e.fill.trade_id for e in events.of(ExecutionReport) if e.fill is not None]
        assert len(fills) == len(set(fills))
        assert session.stats.gaps == 1 and idx > mark


async def test_out_of_order_reports_never_double_count(sim: Sim) -> None:
    async with session_running(sim, trade=False) as (session, events):
        await session.wait_connected(Channel.PRIVATE)
        sim.control.faults.exec_out_of_order(count=1)
        await session.trading.add_order(await marketable_buy(events, "ooo-1"))
        await session.trading.add_order(await marketable_buy(events, "ooo-2"))
        await eventually(lambda: len(sim.control.trades()) >= 2)
        await eventually(
            lambda: (
                len({e.fill.trade_id for e in events.of(ExecutionReport) if e.fill})
                >= len(sim.control.trades())
            )
        )
        fills = [e.fill.trade_id for e in events.of(ExecutionReport) if e.fill is not None]
        assert len(fills) == len(set(fills)) == len(sim.control.trades())


async def test_garbage_on_the_private_channel_requests_reconciliation(sim: Sim) -> None:
    async with session_running(sim, book=False, trade=False, ticker=False) as (session, events):
        await session.wait_connected(Channel.PRIVATE)
        await events.wait_for(_balances)
        mark = len(events.events)
        sim.control.faults.ws_malformed(count=1, channel="private")
        # Any private push carries the garbage in front of it: place an order to cause one.
        order = PlaceOrder(
            "pg-1", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("20"), Decimal("0.100000")
        )
        await session.trading.add_order(order)
        await events.wait_for(lambda e: isinstance(e, DecodeFailed), after=mark)
        await events.wait_for(
            lambda e: isinstance(e, ReconcileRequested) and "undecodable" in e.reason, after=mark
        )
        await events.wait_for(lambda e: isinstance(e, OrderAccepted), after=mark)
        assert session.stats.connects == 1  # no reconnect needed for one bad frame
